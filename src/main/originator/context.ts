/** What the originator's phases share: the originator's services and settings, and one submission's state. */
import type { Identity } from '../../shared/protocol/index.js'
import type { Logger } from '../log/index.js'
import type { MeshNode } from '../mesh/index.js'
import type { Store } from '../store/index.js'
import type { AccessBlockStore } from './blocks.js'
import type { CheckedJob } from './check.js'
import type { Pending } from './pending.js'
import { until } from './pending.js'
import type { ReputationBook } from './reputation.js'
import type { OriginatorEvent, SubmitJob, SubmitOptions } from './types.js'

export interface OriginatorSettings {
  defaultReputation: number
  acceptTimeoutMs: number
  bidGraceMs: number
  resultGraceMs: number
  receiptDhtTimeoutMs: number
  /** DHT first, the executor after this head start (the older order); undefined: the executor first */
  receiptDirectAfterMs: number | undefined
  /** the executor first, the DHT after this head start */
  receiptDhtAfterMs: number
  maxOutputBytes: number
  /** behind a NAT: how long to wait for a relay reservation before announcing anyway */
  reachableWaitMs: number
}

/** The originator's services, shared by every submission. */
export interface OriginatorContext {
  node: MeshNode
  identity: Identity
  blocks: AccessBlockStore
  book: ReputationBook
  log: Logger
  /** clock for message timestamps and store times */
  now: () => number
  settings: OriginatorSettings
  reputationOf: (did: string) => number | undefined
  /** Bookkeeping in the store; never breaks a submission. */
  storeSafe: (fn: (s: Store) => void) => void
  /** Jobs in flight, by announcement id (the direct handlers route by it). */
  jobs: Map<string, Pending>
  /** Our announcements through an executor's default intake bucket (false: over it), for the NoBids hint */
  intake: (key: string) => boolean
}

/** One submission: the job, its state, its abort signal. */
export interface Submission {
  ctx: OriginatorContext
  job: SubmitJob
  checked: CheckedJob
  opts: SubmitOptions
  p: Pending
  signal: AbortSignal
  emit: (e: OriginatorEvent) => void
  /** set when announced: this announcement was over an executor's default intake from us (the NoBids hint) */
  overIntake?: boolean
  /** set when announced: the peers gossipsub sent the announcement to (the NoBids hint) */
  recipients?: number
  /** the submission's state as recorded in the store (Bidding, Assigned, Completed, …) */
  state: string
  setState: (s: string) => void
  /** Waits until `cond()` holds (true) or `deadline` passes (false), waking on every change of the job. */
  until: (cond: () => boolean, deadline: number) => Promise<boolean>
  /** interactive: the caller's stdin, closed when the submission ends */
  stdinIter?: AsyncIterator<Uint8Array>
  /** interactive: the stdin pump, done once the job's stdin is closed (or could not be) */
  stdinDone?: Promise<void>
  /** run when the submission ends (the bidding window's and the assignee session's rate allowances) */
  cleanups: Array<() => void>
  /** ends the bidding window's allowance (once a bidder accepted; else when the submission ends) */
  endBidding?: () => void
}

export function newSubmission (ctx: OriginatorContext, job: SubmitJob, checked: CheckedJob, opts: SubmitOptions, p: Pending, signal: AbortSignal): Submission {
  const sub: Submission = {
    ctx, job, checked, opts, p, signal, emit: p.emit,
    state: 'Bidding',
    cleanups: [],
    setState: (s) => {
      sub.state = s
      ctx.storeSafe((st) => st.setSubmittedState(p.id, s, ctx.now()))
    },
    until: async (cond, deadline) => await until(p, cond, deadline, signal)
  }
  return sub
}
