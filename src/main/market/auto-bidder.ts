/**
 * Auto-bidder glue: for each validated JobAnnouncementV1 it decides (policy engine), records the
 * announcement and the decision (with every reason) in the store, and when bidding signs one
 * JobBidV1 and hands it to `sendBid`. At most one bid per announcement_id, ever: the bid row is
 * reserved in the same transaction as the announcement, before the bid is sent.
 */
import { TypedEmitter } from '../../shared/events.js'
import {
  formatTimestamp, peerIdFromDid, signMessage,
  type Identity, type JobAnnouncementV1, type JobBidV1, type Unsigned
} from '../../shared/protocol/index.js'
import type { MarketStore } from '../store/index.js'
import type { Policy } from '../../shared/policy/index.js'
import { biddingCloses, buildDecisionContext, type DecisionSources } from './context.js'
import { decide, type Decision } from './decide.js'

export interface ActivePolicy { policy: Policy, version?: number }

export interface AutoBidderOptions {
  store: Pick<MarketStore, 'hasAnnouncement' | 'recordAnnouncement' | 'markBidSent'>
  identity: Identity
  /** The policy in force (called per announcement; keep it cheap). */
  getPolicy: () => Policy | ActivePolicy
  /** Where decisions are made from (offer, runtimes, machine, region, history); the simulator uses the same. */
  sources: DecisionSources
  /** Sends the signed bid bytes to the originator (direct protocol). Rejects on failure. */
  sendBid: (originatorPeerId: string, bytes: Uint8Array, o: { announcementId: string, closesAt: number, signal?: AbortSignal }) => Promise<void>
  /**
   * Per-originator intake: at most `burst` announcements at once, refilled at `perSecond`; beyond it an
   * announcement is recorded as skipped (rule `intake`) without being evaluated. Default 60 and 2/s.
   */
  intake?: { burst: number, perSecond: number }
  /** Why a bid to this originator's peer cannot be delivered now (e.g. the last one failed), or undefined. */
  unreachable?: (originatorPeerId: string) => string | undefined
  now?: () => number
}

export interface AnnouncementMeta {
  /** wire bytes as received (stored for audit) */
  raw: Uint8Array
  /** region topic it arrived on */
  topicRegion?: string
  receivedAt?: number
  signal?: AbortSignal
}

export type AutoBidOutcome =
  | { kind: 'duplicate', announcementId: string }
  | { kind: 'no_bid', announcementId: string, decision: Decision }
  | { kind: 'bid', announcementId: string, decision: Decision, price: bigint, bytes: Uint8Array, sent: boolean, error?: string }

export interface AutoBidderEvents {
  'announcement:decided': { announcementId: string, originatorDid: string, decision: Decision }
  /** `ms`: delivering the bid; `sinceReceivedMs`: from the announcement's arrival to the delivered bid */
  'bid:sent': { announcementId: string, originatorDid: string, price: bigint, ms: number, sinceReceivedMs: number }
  'bid:failed': { announcementId: string, originatorDid: string, error: string }
}

export interface AutoBidder {
  handleAnnouncement(a: JobAnnouncementV1, meta: AnnouncementMeta): Promise<AutoBidOutcome>
  on<K extends keyof AutoBidderEvents>(event: K, listener: (e: AutoBidderEvents[K]) => void): () => void
}

/** Small JSON summary of an announcement for the store's list views (amounts as strings). */
export function summarizeAnnouncement (a: JobAnnouncementV1): { [key: string]: string | number | boolean | null | Record<string, string> } {
  const jp = a.job_params
  const ep = jp.execution_policy
  return {
    description: jp.description.length > 160 ? jp.description.slice(0, 157) + '...' : jp.description,
    wasm_cid: jp.wasm_cid,
    max_fuel: String(jp.max_fuel),
    timeout_seconds: jp.timeout_seconds,
    qos_profile: jp.qos_profile,
    is_interactive: jp.is_interactive,
    resources_required: { ...jp.resources_required },
    max_price: ep?.max_price === undefined || ep.max_price === null ? null : String(ep.max_price),
    region_filter: ep?.region_filter ?? null,
    deadline: jp.deadline ?? null,
    timestamp: a.timestamp,
    bidding_duration: a.bidding_duration ?? null
  }
}

/** Token buckets per key, bounded in number (idle, full buckets are forgotten first). */
function createIntakeLimiter (o: { burst: number, perSecond: number }, clock: () => number): (key: string) => boolean {
  const buckets = new Map<string, { tokens: number, at: number }>()
  return (key) => {
    const now = clock()
    const b = buckets.get(key) ?? { tokens: o.burst, at: now }
    b.tokens = Math.min(o.burst, b.tokens + ((now - b.at) / 1000) * o.perSecond)
    b.at = now
    buckets.delete(key)
    buckets.set(key, b)
    if (buckets.size > 50_000) {
      const oldest = buckets.keys().next().value
      if (oldest !== undefined) buckets.delete(oldest)
    }
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }
}

export function createAutoBidder (opts: AutoBidderOptions): AutoBidder {
  const { store, identity } = opts
  const clock = opts.now ?? Date.now
  const emitter = new TypedEmitter<AutoBidderEvents>()
  const intake = opts.intake ?? { burst: 60, perSecond: 2 }
  const admit = createIntakeLimiter(intake, clock)

  /** An announcement we skip before evaluating it: recorded (cheaply, batched) with the one reason. */
  function skipUnevaluated (a: JobAnnouncementV1, meta: AnnouncementMeta, rule: 'intake' | 'unreachable', text: string): AutoBidOutcome {
    const id = a.announcement_id
    const decision: Decision = { bid: false, reasons: [{ rule, ok: false, text }], firstFailedRule: rule }
    const added = store.recordAnnouncement({
      announcementId: id, originatorDid: a.originator_did, raw: meta.raw, receivedAt: meta.receivedAt ?? clock(),
      summary: summarizeAnnouncement(a), decision: 'no_bid', reasons: decision.reasons, region: meta.topicRegion
    })
    if (!added) return { kind: 'duplicate', announcementId: id }
    emitter.emit('announcement:decided', { announcementId: id, originatorDid: a.originator_did, decision })
    return { kind: 'no_bid', announcementId: id, decision }
  }

  return {
    on: (event, listener) => emitter.on(event, listener),
    async handleAnnouncement (a, meta) {
      const id = a.announcement_id
      // Everything up to sendBid is synchronous, so a concurrent duplicate sees the stored row.
      if (store.hasAnnouncement(id)) return { kind: 'duplicate', announcementId: id }
      if (!admit(a.originator_did)) {
        return skipUnevaluated(a, meta, 'intake', `intake: ${a.originator_did.slice(0, 16)}… sent more than ${intake.burst} announcements at once (${intake.perSecond}/s allowed); not evaluated`)
      }
      const unreachable = opts.unreachable?.(peerIdFromDid(a.originator_did))
      if (unreachable !== undefined) return skipUnevaluated(a, meta, 'unreachable', `unreachable: ${unreachable}`)
      const active = opts.getPolicy()
      const { policy, version } = 'policy' in active ? active : { policy: active, version: undefined }
      const now = clock()
      const ctx = buildDecisionContext(opts.sources, a, { now, topicRegion: meta.topicRegion })
      const ourRegion = ctx.ourRegion
      const decision = decide(a, policy, ctx)
      let bid: { bytes: Uint8Array, price: bigint } | undefined
      if (decision.bid) {
        const price = decision.price ?? 0n
        const unsigned: Unsigned<JobBidV1> = {
          announcement_id: id,
          executor_did: identity.did,
          executor_peer_id: identity.peerId,
          price: price <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(price) : price,
          timestamp: formatTimestamp(now)
        }
        if (ourRegion !== undefined) unsigned.region = ourRegion
        bid = { bytes: signMessage('JobBidV1', unsigned, identity).bytes, price }
      }
      const added = store.recordAnnouncement({
        announcementId: id,
        originatorDid: a.originator_did,
        raw: meta.raw,
        receivedAt: meta.receivedAt ?? now,
        summary: summarizeAnnouncement(a),
        decision: decision.bid ? 'bid' : 'no_bid',
        price: decision.price,
        reasons: decision.reasons,
        policyVersion: version,
        region: a.job_params.execution_policy?.region_filter ?? meta.topicRegion,
        bid: bid === undefined ? undefined : { price: bid.price, raw: bid.bytes }
      })
      if (!added) return { kind: 'duplicate', announcementId: id }
      emitter.emit('announcement:decided', { announcementId: id, originatorDid: a.originator_did, decision })
      if (bid === undefined) return { kind: 'no_bid', announcementId: id, decision }

      const t0 = performance.now()
      try {
        await opts.sendBid(peerIdFromDid(a.originator_did), bid.bytes, { announcementId: id, closesAt: biddingCloses(a).closesAt, signal: meta.signal })
        store.markBidSent(id, { ok: true, at: clock() })
        emitter.emit('bid:sent', { announcementId: id, originatorDid: a.originator_did, price: bid.price, ms: Math.round((performance.now() - t0) * 10) / 10, sinceReceivedMs: clock() - (meta.receivedAt ?? now) })
        return { kind: 'bid', announcementId: id, decision, price: bid.price, bytes: bid.bytes, sent: true }
      } catch (err) {
        const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
        store.markBidSent(id, { ok: false, error, at: clock() })
        emitter.emit('bid:failed', { announcementId: id, originatorDid: a.originator_did, error })
        return { kind: 'bid', announcementId: id, decision, price: bid.price, bytes: bid.bytes, sent: false, error }
      }
    }
  }
}
