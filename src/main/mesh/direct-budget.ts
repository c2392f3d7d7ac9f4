/**
 * How many inbound direct messages a peer may send: the per-peer base limit, plus what the work
 * it has with us needs. A job in progress between two nodes (assigned: statuses, interactive input
 * and output) is a session; a peer past its base limit may go on within its sessions' own bucket
 * (full when the first session opens; each open session adds to its size and rate). While one of our
 * announcements takes bids, each peer may send one bid for it past an empty bucket, so a buyer who
 * announces 60 jobs at once still hears every executor's 60 bids.
 *
 * Why: the base limit (20 at once, 10/s) protects a node from strangers making it check
 * signatures; on its own it also refused the 24th line a script fed an interactive job, and the
 * job hung until its timeout. The remote PeerId is the Noise-authenticated one, so only the
 * counterpart of a session gets its allowance.
 */
import { createRateLimiter } from './rate-limit.js'
import type { RateLimitOptions } from './rate-limit.js'

/** What one session adds: interactive traffic (senders pace themselves to ≤ 50 messages/s per job) plus statuses. */
export const SESSION_ALLOWANCE: RateLimitOptions = { burst: 100, perSecond: 60 }

export interface DirectBudget {
  /** One message from `peerId` past its base limit, taken from its sessions' bucket; false without sessions or tokens. */
  takeSession(peerId: string): boolean
  /** A job session with `peerId` (either side of an assignment); call the result when it ends. */
  openSession(peerId: string): () => void
  /** One of our announcements takes bids; call the result when its window closes. */
  openBidding(announcementId: string): () => void
  /** True when some announcement of ours takes bids. */
  readonly bidding: boolean
  /** A bid past `peerId`'s bucket: allowed once per peer per announcement that takes bids. */
  takeBidCredit(peerId: string, announcementId: string): boolean
}

export function createDirectBudget (now: () => number = Date.now): DirectBudget {
  const sessions = new Map<string, number>()
  const sessionBuckets = createRateLimiter(SESSION_ALLOWANCE, now)
  /** announcement id → peers that spent their bid credit on it */
  const bidding = new Map<string, Set<string>>()
  const once = (fn: () => void): () => void => {
    let done = false
    return () => { if (!done) { done = true; fn() } }
  }
  return {
    takeSession (peerId) {
      const n = sessions.get(peerId) ?? 0
      if (n === 0) return false
      return sessionBuckets.take(peerId, { burst: n * SESSION_ALLOWANCE.burst, perSecond: n * SESSION_ALLOWANCE.perSecond })
    },
    openSession (peerId) {
      sessions.set(peerId, (sessions.get(peerId) ?? 0) + 1)
      return once(() => {
        const n = (sessions.get(peerId) ?? 1) - 1
        if (n > 0) {
          sessions.set(peerId, n)
          return
        }
        sessions.delete(peerId)
        sessionBuckets.forget(peerId) // the peer's next first session starts with a full bucket
      })
    },
    openBidding (announcementId) {
      if (!bidding.has(announcementId)) bidding.set(announcementId, new Set())
      return once(() => { bidding.delete(announcementId) })
    },
    get bidding () { return bidding.size > 0 },
    takeBidCredit (peerId, announcementId) {
      const spent = bidding.get(announcementId)
      if (spent === undefined || spent.has(peerId)) return false
      spent.add(peerId)
      return true
    }
  }
}
