/**
 * Bounded, prioritised delivery of our bids (direct messages to originators).
 *
 * Announcements are cheap to sign and gossip, so anyone can make us bid on thousands of jobs whose
 * originators are never online. Each such bid would be a dial that hangs until its timeout, a DHT
 * lookup, retries — unbounded memory and a busy node while a real buyer waits. So:
 * - at most `maxInFlight` bids are being delivered at once, and at most `maxColdInFlight` of them to
 *   originators we hold no connection to ("cold": the expensive, possibly hopeless kind); a bid to a
 *   connected originator never waits behind a cold one;
 * - waiting bids are sent earliest-closing first, and a bid whose bidding window closed while it
 *   waited is dropped (it can no longer win);
 * - the queue is bounded (`maxQueued`); beyond it a bid fails at once;
 * - an originator a bid could not reach is remembered as unreachable for `unreachableMs`: further
 *   bids to it fail at once, with the reason, instead of dialing again.
 * `reach(peerId)` (connect to an originator to learn the path before deciding to bid, rule `relay`)
 * takes the same lane as a bid: bounded, cold ones at most `maxColdInFlight`, and a failure marks the
 * originator unreachable just like a failed bid.
 * Failures are `BidNotSentError`s (named, with a code) or the transport's own error.
 */

import type { PathLimits } from './context.js'

export type BidNotSentCode = 'Unreachable' | 'QueueFull' | 'WindowClosed' | 'Aborted'

export class BidNotSentError extends Error {
  override name = 'BidNotSent'
  constructor (readonly code: BidNotSentCode, message: string) {
    super(message)
  }
}

export interface OutgoingBid {
  announcementId: string
  originatorPeerId: string
  bytes: Uint8Array
  /** end of the bidding window (ms since epoch) */
  closesAt: number
  signal?: AbortSignal
}

export interface BidSenderOptions {
  /** Delivers the bid; `cold` is true when we hold no connection to the originator (try briefly). Rejects on failure. */
  deliver: (peerId: string, bytes: Uint8Array, o: { signal?: AbortSignal, cold: boolean }) => Promise<void>
  /** Whether we hold an open connection to the peer (a bid to it costs one stream). */
  connected: (peerId: string) => boolean
  /**
   * Connects to the peer if we are not, then tells the limits of the only (relayed) connection, or
   * undefined (a direct one). Rejects on a transport failure. Needed by `reach`.
   */
  connect?: (peerId: string, o: { signal?: AbortSignal }) => Promise<PathLimits | undefined>
  maxInFlight?: number
  maxColdInFlight?: number
  maxQueued?: number
  unreachableMs?: number
  /** most originators remembered as unreachable (oldest forgotten first) */
  maxUnreachable?: number
  now?: () => number
}

export interface BidSenderStats { inFlight: number, coldInFlight: number, queued: number, unreachable: number, dropped: number }

export interface BidSender {
  send(bid: OutgoingBid): Promise<void>
  /**
   * Connects to an originator through the bid lane (queued like a bid, earliest-closing first, cold
   * ones bounded) and resolves with the limits of the only (relayed) connection, or undefined (direct).
   * Fails like `send`: at once for a known-unreachable originator or a full queue; a transport failure
   * marks the originator unreachable.
   */
  reach(peerId: string, o: { closesAt: number, signal?: AbortSignal }): Promise<PathLimits | undefined>
  /**
   * Why a bid to this peer would fail at once right now — a recent bid could not reach it, or we hold
   * no connection to it and the queue of such bids is full — or undefined. Lets the caller skip the
   * work (signing, storing a bid) for a bid that cannot go out.
   */
  cannotSend(peerId: string): string | undefined
  stats(): BidSenderStats
  /** Fails every waiting bid (shutdown). */
  close(): void
}

/** Something to deliver to a peer in the bounded lane: a bid, or a connection (reach). */
interface Task {
  peerId: string
  closesAt: number
  signal?: AbortSignal
  /** a bid (send) or a connection (reach): only the texts differ */
  kind: 'bid' | 'connect'
  run: (o: { signal?: AbortSignal, cold: boolean }) => Promise<void>
}

const TEXT = {
  bid: { failed: 'a bid to it', aborted: 'bid aborted before it was sent', windowClosed: 'the bidding window closed before the bid could be sent' },
  connect: { failed: 'connecting to it', aborted: 'aborted before connecting to the originator', windowClosed: 'the bidding window closed before we could connect to the originator' }
} as const

interface Waiting {
  task: Task
  cold: boolean
  resolve: () => void
  reject: (err: unknown) => void
}

export function createBidSender (opts: BidSenderOptions): BidSender {
  const maxInFlight = opts.maxInFlight ?? 16
  const maxCold = opts.maxColdInFlight ?? 2
  const maxQueued = opts.maxQueued ?? 256
  const unreachableMs = opts.unreachableMs ?? 60_000
  const maxUnreachable = opts.maxUnreachable ?? 10_000
  const clock = opts.now ?? Date.now
  /** peerId → { until, why } */
  const unreachable = new Map<string, { until: number, since: number, why: string, what: string }>()
  const queue: Waiting[] = []
  let inFlight = 0
  let coldInFlight = 0
  let dropped = 0
  let closed = false

  const secs = (ms: number): string => `${Math.max(0, Math.round(ms / 1000))} s`

  function unreachableReason (peerId: string, now: number): string | undefined {
    const u = unreachable.get(peerId)
    if (u === undefined) return undefined
    if (u.until <= now) { unreachable.delete(peerId); return undefined }
    return `originator unreachable: ${u.what} failed ${secs(now - u.since)} ago (${u.why}); not retrying for ${secs(u.until - now)}`
  }

  function markUnreachable (peerId: string, what: string, err: unknown): void {
    const now = clock()
    unreachable.delete(peerId)
    unreachable.set(peerId, { since: now, until: now + unreachableMs, what, why: err instanceof Error ? err.message.slice(0, 200) : String(err) })
    while (unreachable.size > maxUnreachable) {
      const oldest = unreachable.keys().next().value
      if (oldest === undefined) break
      unreachable.delete(oldest)
    }
  }

  function fail (w: Waiting, code: BidNotSentCode, message: string): void {
    dropped++
    w.reject(new BidNotSentError(code, message))
  }

  /** Index of the next task that may start now (earliest-closing first), or -1. */
  function nextStartable (): number {
    let best = -1
    for (let i = 0; i < queue.length; i++) {
      const w = queue[i] as Waiting
      if (w.cold && coldInFlight >= maxCold) continue
      if (best === -1 || w.task.closesAt < (queue[best] as Waiting).task.closesAt) best = i
    }
    return best
  }

  function pump (): void {
    const now = clock()
    // drop what can no longer win, and what was aborted while waiting
    for (let i = queue.length - 1; i >= 0; i--) {
      const w = queue[i] as Waiting
      const text = TEXT[w.task.kind]
      if (w.task.signal?.aborted === true) { queue.splice(i, 1); fail(w, 'Aborted', text.aborted) } else if (w.task.closesAt <= now) { queue.splice(i, 1); fail(w, 'WindowClosed', text.windowClosed) }
    }
    while (inFlight < maxInFlight) {
      const i = nextStartable()
      if (i === -1) return
      const [w] = queue.splice(i, 1) as [Waiting]
      start(w)
    }
  }

  function start (w: Waiting): void {
    const { peerId, kind } = w.task
    // the originator may have become known-unreachable while this task waited
    const why = unreachableReason(peerId, clock())
    if (why !== undefined) { fail(w, 'Unreachable', why); return }
    inFlight++
    if (w.cold) coldInFlight++
    w.task.run({ signal: w.task.signal, cold: w.cold }).then(() => {
      unreachable.delete(peerId)
      w.resolve()
    }, (err: unknown) => {
      // an answer ({ok:false}) is not unreachability; everything else (dial, timeout, reset) is
      if ((err as { name?: string }).name !== 'BidRefused') markUnreachable(peerId, TEXT[kind].failed, err)
      w.reject(err)
    }).finally(() => {
      inFlight--
      if (w.cold) coldInFlight--
      pump()
    })
  }

  /** Queues a task (or fails it at once); resolves once its `run` did. */
  async function enqueue (task: Task): Promise<void> {
    if (closed) throw new BidNotSentError('Aborted', 'bid sender is closed')
    const why = unreachableReason(task.peerId, clock())
    if (why !== undefined) { dropped++; throw new BidNotSentError('Unreachable', why) }
    const cold = !opts.connected(task.peerId)
    // a bid to a connected originator is cheap: it may always queue; cold ones fill what is left
    if (queue.length >= maxQueued && cold) { dropped++; throw new BidNotSentError('QueueFull', `too many bids waiting (${queue.length}) to originators we are not connected to`) }
    await new Promise<void>((resolve, reject) => {
      queue.push({ task, cold, resolve, reject })
      pump()
    })
  }

  return {
    async send (bid) {
      await enqueue({
        peerId: bid.originatorPeerId, closesAt: bid.closesAt, signal: bid.signal, kind: 'bid',
        run: async (o) => { await opts.deliver(bid.originatorPeerId, bid.bytes, o) }
      })
    },
    async reach (peerId, o) {
      const connect = opts.connect
      if (connect === undefined) throw new BidNotSentError('Unreachable', 'this bid sender has no way to connect (no connect option)')
      let limits: PathLimits | undefined
      await enqueue({
        peerId, closesAt: o.closesAt, signal: o.signal, kind: 'connect',
        run: async ({ signal }) => { limits = await connect(peerId, { signal }) }
      })
      return limits
    },
    cannotSend (peerId) {
      const why = unreachableReason(peerId, clock())
      if (why !== undefined) return why
      if (queue.length >= maxQueued && !opts.connected(peerId)) return `not connected to the originator, and ${queue.length} bids to unconnected originators are already waiting`
      return undefined
    },
    stats: () => ({ inFlight, coldInFlight, queued: queue.length, unreachable: unreachable.size, dropped }),
    close () {
      closed = true
      for (const w of queue.splice(0)) fail(w, 'Aborted', 'node is stopping')
    }
  }
}

/** The originator answered {ok:false}: it was reached (not unreachable), it refused the bid. */
export class BidRefusedError extends Error {
  override name = 'BidRefused'
}
