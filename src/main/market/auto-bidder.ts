/**
 * Auto-bidder glue: for each validated JobAnnouncementV1 it decides (policy engine), records the
 * announcement and the decision (with every reason) in the store, and when bidding signs one
 * JobBidV1 and hands it to `sendBid`. At most one bid per announcement_id, ever: the bid row is
 * reserved in the same transaction as the announcement, before the bid is sent.
 *
 * A job we would bid on that declares its block sizes (rule `relay`) is decided again once the path
 * to its originator is known: at once when we hold a connection to it, else after connecting through
 * the bid sender's bounded lane (`path.reach`), so a flood of announcements from originators that are
 * never online costs no more dials than the bids to them would.
 */
import { TypedEmitter } from '../../shared/events.js'
import {
  formatTimestamp, peerIdFromDid, signMessage,
  type Identity, type JobAnnouncementV1, type JobBidV1, type Unsigned
} from '../../shared/protocol/index.js'
import type { MarketStore } from '../store/index.js'
import type { Policy } from '../../shared/policy/index.js'
import { createIntakeLimiter, DEFAULT_INTAKE } from '../../shared/policy/index.js'
import { biddingCloses, buildDecisionContext, type DecisionSources, type OriginatorPath, type PathLimits } from './context.js'
import { decide, type Decision } from './decide.js'
import { declaredSizes } from './rules/index.js'

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
  /** How the path to an originator is learned for rule `relay`; absent: never looked up (the rule passes). */
  path?: PathSource
  now?: () => number
}

/** The path to an originator, as the mesh tells it (wired to MeshNode.relayLimitFor / the bid sender's reach). */
export interface PathSource {
  /** whether we hold an open connection to the peer */
  connected: (peerId: string) => boolean
  /** the limits of the only (relayed) connection to the peer; undefined with a direct one */
  relayLimitFor: (peerId: string) => PathLimits | undefined
  /** connects (bounded, like a bid to an unconnected originator), then as `relayLimitFor`; rejects when unreachable */
  reach: (peerId: string, o: { closesAt: number, signal?: AbortSignal }) => Promise<PathLimits | undefined>
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


/** A decision and what it was made under. */
interface Evaluated { decision: Decision, version?: number, now: number, ourRegion?: string }

const errorText = (err: unknown): string => err instanceof Error ? `${err.name}: ${err.message}` : String(err)

export function createAutoBidder (opts: AutoBidderOptions): AutoBidder {
  const { store, identity } = opts
  const clock = opts.now ?? Date.now
  const emitter = new TypedEmitter<AutoBidderEvents>()
  const intake = opts.intake ?? DEFAULT_INTAKE
  const admit = createIntakeLimiter(intake, clock)
  /** announcement ids waiting for the path to their originator: a copy arriving meanwhile is a duplicate */
  const pending = new Set<string>()

  /** Stores the announcement with its decision (and the bid reservation); false: already stored. */
  function record (a: JobAnnouncementV1, meta: AnnouncementMeta, e: Evaluated, region: string | undefined, bid?: { bytes: Uint8Array, price: bigint }): boolean {
    const added = store.recordAnnouncement({
      announcementId: a.announcement_id,
      originatorDid: a.originator_did,
      raw: meta.raw,
      receivedAt: meta.receivedAt ?? e.now,
      summary: summarizeAnnouncement(a),
      decision: e.decision.bid ? 'bid' : 'no_bid',
      price: e.decision.price,
      reasons: e.decision.reasons,
      policyVersion: e.version,
      region,
      bid: bid === undefined ? undefined : { price: bid.price, raw: bid.bytes }
    })
    if (added) emitter.emit('announcement:decided', { announcementId: a.announcement_id, originatorDid: a.originator_did, decision: e.decision })
    return added
  }

  /** An announcement we skip before evaluating it: recorded (cheaply, batched) with the one reason. */
  function skipUnevaluated (a: JobAnnouncementV1, meta: AnnouncementMeta, rule: 'intake' | 'unreachable', text: string): AutoBidOutcome {
    const id = a.announcement_id
    const decision: Decision = { bid: false, reasons: [{ rule, ok: false, text }], firstFailedRule: rule }
    if (!record(a, meta, { decision, now: clock() }, meta.topicRegion)) return { kind: 'duplicate', announcementId: id }
    return { kind: 'no_bid', announcementId: id, decision }
  }

  /** decide() now, under the policy in force, with the path to the originator when known. */
  function evaluate (a: JobAnnouncementV1, meta: AnnouncementMeta, path?: OriginatorPath): Evaluated {
    const active = opts.getPolicy()
    const { policy, version } = 'policy' in active ? active : { policy: active, version: undefined }
    const now = clock()
    const ctx = buildDecisionContext(opts.sources, a, { now, topicRegion: meta.topicRegion })
    if (path !== undefined) ctx.path = path
    return { decision: decide(a, policy, ctx), version, now, ourRegion: ctx.ourRegion }
  }

  function signBid (a: JobAnnouncementV1, e: Evaluated): { bytes: Uint8Array, price: bigint } {
    const price = e.decision.price ?? 0n
    const unsigned: Unsigned<JobBidV1> = {
      announcement_id: a.announcement_id,
      executor_did: identity.did,
      executor_peer_id: identity.peerId,
      price: price <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(price) : price,
      timestamp: formatTimestamp(e.now)
    }
    if (e.ourRegion !== undefined) unsigned.region = e.ourRegion
    return { bytes: signMessage('JobBidV1', unsigned, identity).bytes, price }
  }

  /** Records the decision, then (bidding) sends the bid and records how that went. Synchronous up to sendBid. */
  async function recordAndSend (a: JobAnnouncementV1, meta: AnnouncementMeta, e: Evaluated): Promise<AutoBidOutcome> {
    const id = a.announcement_id
    const { decision } = e
    const bid = decision.bid ? signBid(a, e) : undefined
    if (!record(a, meta, e, a.job_params.execution_policy?.region_filter ?? meta.topicRegion, bid)) return { kind: 'duplicate', announcementId: id }
    if (bid === undefined) return { kind: 'no_bid', announcementId: id, decision }
    const t0 = performance.now()
    try {
      await opts.sendBid(peerIdFromDid(a.originator_did), bid.bytes, { announcementId: id, closesAt: biddingCloses(a).closesAt, signal: meta.signal })
      store.markBidSent(id, { ok: true, at: clock() })
      emitter.emit('bid:sent', { announcementId: id, originatorDid: a.originator_did, price: bid.price, ms: Math.round((performance.now() - t0) * 10) / 10, sinceReceivedMs: clock() - (meta.receivedAt ?? e.now) })
      return { kind: 'bid', announcementId: id, decision, price: bid.price, bytes: bid.bytes, sent: true }
    } catch (err) {
      const error = errorText(err)
      store.markBidSent(id, { ok: false, error, at: clock() })
      emitter.emit('bid:failed', { announcementId: id, originatorDid: a.originator_did, error })
      return { kind: 'bid', announcementId: id, decision, price: bid.price, bytes: bid.bytes, sent: false, error }
    }
  }

  /** Connects to the originator (bounded lane) and tells the path; never throws. */
  async function learnPath (a: JobAnnouncementV1, meta: AnnouncementMeta, source: PathSource, peerId: string): Promise<{ path: OriginatorPath } | { error: string }> {
    try {
      const limits = await source.reach(peerId, { closesAt: biddingCloses(a).closesAt, signal: meta.signal })
      return { path: limits ?? 'direct' }
    } catch (err) {
      return { error: errorText(err) }
    }
  }

  /** We would have bid, but could not reach the originator to learn the path: no bid, every verdict kept. */
  function recordUnreachable (a: JobAnnouncementV1, meta: AnnouncementMeta, e: Evaluated, error: string): AutoBidOutcome {
    const id = a.announcement_id
    const text = `unreachable: could not reach the originator to learn whether the job's blocks can cross the path to it (${error})`
    const decision: Decision = { bid: false, price: e.decision.price, reasons: [...e.decision.reasons, { rule: 'unreachable', ok: false, text }], firstFailedRule: 'unreachable' }
    if (!record(a, meta, { ...e, decision }, a.job_params.execution_policy?.region_filter ?? meta.topicRegion)) return { kind: 'duplicate', announcementId: id }
    return { kind: 'no_bid', announcementId: id, decision }
  }

  /**
   * Decides, and bids. For a job that declares its block sizes the decision needs the path to the
   * originator: known at once when we hold a connection to it; else only a job we would bid on is
   * worth a connection, and the decision is made again once it is open.
   */
  async function decideAndBid (a: JobAnnouncementV1, meta: AnnouncementMeta): Promise<AutoBidOutcome> {
    const id = a.announcement_id
    const source = opts.path
    if (source === undefined || declaredSizes(a) === undefined) return await recordAndSend(a, meta, evaluate(a, meta))
    const peerId = peerIdFromDid(a.originator_did)
    if (source.connected(peerId)) return await recordAndSend(a, meta, evaluate(a, meta, source.relayLimitFor(peerId) ?? 'direct'))
    const first = evaluate(a, meta)
    if (!first.decision.bid) return await recordAndSend(a, meta, first)
    pending.add(id)
    let learned: { path: OriginatorPath } | { error: string }
    try {
      learned = await learnPath(a, meta, source, peerId)
    } finally {
      pending.delete(id)
    }
    // synchronous from here to sendBid again
    if (store.hasAnnouncement(id)) return { kind: 'duplicate', announcementId: id }
    if ('error' in learned) return recordUnreachable(a, meta, first, learned.error)
    return await recordAndSend(a, meta, evaluate(a, meta, learned.path))
  }

  return {
    on: (event, listener) => emitter.on(event, listener),
    async handleAnnouncement (a, meta) {
      const id = a.announcement_id
      // Everything up to sendBid (or the path lookup) is synchronous, so a concurrent duplicate sees the stored row (or the pending id).
      if (pending.has(id) || store.hasAnnouncement(id)) return { kind: 'duplicate', announcementId: id }
      if (!admit(a.originator_did)) {
        return skipUnevaluated(a, meta, 'intake', `intake: ${a.originator_did.slice(0, 16)}… sent more than ${intake.burst} announcements at once (${intake.perSecond}/s allowed); not evaluated`)
      }
      const unreachable = opts.unreachable?.(peerIdFromDid(a.originator_did))
      if (unreachable !== undefined) return skipUnevaluated(a, meta, 'unreachable', `unreachable: ${unreachable}`)
      return await decideAndBid(a, meta)
    }
  }
}
