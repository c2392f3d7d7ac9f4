/**
 * What a decision is made from besides the announcement and the policy — built by one function for
 * the live auto-bidder and the policy simulator alike, from the same sources, so a replay decides
 * exactly as the live path would (machine state included).
 */
import { parseDuration, parseTimestamp, type JobAnnouncementV1 } from '../../shared/protocol/index.js'
import type { MachineState, Offer } from '../../shared/policy/index.js'
import type { Store } from '../store/index.js'
import type { GuardState } from './guard.js'

export interface OriginatorHistory {
  announcementsSeen: number
  bidsSent: number
  assigned: number
  completed: number
  failed: number
}

export interface DecisionContext {
  /** epoch ms */
  now: number
  /** what we offer (hardware with the owner's caps applied) */
  offer: Offer
  /** runtime ids this node can run; empty = no sandbox available */
  runtimes: readonly string[]
  /** why no runtime is available (e.g. the sandbox host was not built), shown with the 'runtime' reason */
  runtimeUnavailable?: string
  /** jobs currently in a non-terminal state */
  activeJobs: number
  /** our own region, if configured */
  ourRegion?: string
  /** region topic the announcement arrived on, if any */
  topicRegion?: string
  /** our history with this originator (undefined = never seen before) */
  originatorRecord?: OriginatorHistory
  machine?: MachineState
  /** the machine guard's memory (thermal hysteresis, idle-only grace); absent: rules see only `machine` */
  guard?: GuardState
  /** we already bid on this announcement_id */
  alreadyBid?: boolean
  /**
   * The path to the originator, looked up (rule `relay`) only for a job we would bid on that declares
   * its block sizes: `'direct'` (an open connection without relay limits) or the limits of the only,
   * relayed, connection. Absent: not looked up (the simulator, a job without sizes).
   */
  path?: OriginatorPath
}

/** What a limited (relayed) connection allows, as the mesh reports it (`RelayPath` of src/main/mesh). */
export interface PathLimits {
  /** data limit of the relayed connection (bytes); undefined: the relay sets none */
  bytes?: bigint
  /** duration limit as reported (a js-libp2p relay reports ms here, docs/NETWORKING.md); not judged */
  seconds?: number
}

export type OriginatorPath = 'direct' | PathLimits

/** Where the live node's decision inputs come from (the daemon wires them once). */
export interface DecisionSources {
  offer: () => Offer
  runtimes: () => readonly string[]
  runtimeUnavailable?: () => string | undefined
  machine?: () => MachineState | undefined
  /** the machine guard (src/main/market/guard.ts) the daemon feeds from its samples */
  guard?: () => GuardState | undefined
  activeJobs: () => number
  region: () => string | undefined
  originatorRecord: (originatorDid: string) => OriginatorHistory | undefined
  alreadyBid: (announcementId: string) => boolean
}

export interface ContextOptions {
  now: number
  topicRegion?: string
  /**
   * A replay of a past announcement (the simulator): no earlier bid counts, and no job slot is taken,
   * so the policy alone decides.
   */
  replay?: boolean
}

export function buildDecisionContext (s: DecisionSources, a: JobAnnouncementV1, o: ContextOptions): DecisionContext {
  const ctx: DecisionContext = {
    now: o.now,
    offer: s.offer(),
    runtimes: s.runtimes(),
    activeJobs: o.replay === true ? 0 : s.activeJobs(),
    alreadyBid: o.replay === true ? false : s.alreadyBid(a.announcement_id)
  }
  const unavailable = s.runtimeUnavailable?.()
  if (unavailable !== undefined) ctx.runtimeUnavailable = unavailable
  const region = s.region()
  if (region !== undefined) ctx.ourRegion = region
  if (o.topicRegion !== undefined) ctx.topicRegion = o.topicRegion
  const record = s.originatorRecord(a.originator_did)
  if (record !== undefined) ctx.originatorRecord = record
  const machine = s.machine?.()
  if (machine !== undefined) ctx.machine = machine
  const guard = s.guard?.()
  if (guard !== undefined) ctx.guard = guard
  return ctx
}

export const DEFAULT_BIDDING_DURATION_MS = 30_000

/** When bidding on `a` closes: the earlier of timestamp + bidding_duration (default 30 s) and the deadline. */
export function biddingCloses (a: JobAnnouncementV1): { closesAt: number, cause: 'bidding_duration' | 'deadline' } {
  const ts = parseTimestamp(a.timestamp)
  const dur = a.bidding_duration === undefined || a.bidding_duration === null ? DEFAULT_BIDDING_DURATION_MS : parseDuration(a.bidding_duration)
  const windowEnd = ts + dur
  const deadline = a.job_params.deadline === undefined || a.job_params.deadline === null ? Infinity : parseTimestamp(a.job_params.deadline)
  return deadline < windowEnd ? { closesAt: deadline, cause: 'deadline' } : { closesAt: windowEnd, cause: 'bidding_duration' }
}

/** Sources whose history parts (jobs in progress, originator records, earlier bids) come from the store. */
export function storeDecisionSources (store: Pick<Store, 'countActiveJobs' | 'originatorRecord' | 'getBid'>, live: Pick<DecisionSources, 'offer' | 'runtimes' | 'runtimeUnavailable' | 'machine' | 'region' | 'guard'>): DecisionSources {
  return {
    ...live,
    activeJobs: () => store.countActiveJobs(),
    originatorRecord: (did) => store.originatorRecord(did),
    alreadyBid: (id) => store.getBid(id) !== undefined
  }
}
