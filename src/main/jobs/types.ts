/** What the executor's parts share: options, events, the running-job record and the context. */
import type { ExecutionReceiptV1, FailureReason, Identity } from '../../shared/protocol/index.js'
import type { MeshNode, TypedEmitter } from '../mesh/index.js'
import type { Sandbox } from '../sandbox/index.js'
import type { JobStore, MarketStore, ReceiptStore } from '../store/index.js'
import type { ExecutorBlockStore } from './block-store.js'

/** How long after the bidding window closes an assignment is still accepted (profile 6.3a). */
export const ASSIGNMENT_GRACE_MS = 60_000

export interface ExecutorEvents {
  'job:accepted': { announcementId: string, originatorDid: string }
  'job:refused': { announcementId: string, originatorDid: string, reason: string, detail: string }
  'job:state': { announcementId: string, state: string, details?: string }
  'job:progress': { announcementId: string, fuelUsed: bigint, maxFuel: bigint }
  'job:finished': { announcementId: string, status: ExecutionReceiptV1['status'], failureReason?: FailureReason, fuelUsed: bigint, wallMs: number, receiptCid: string, price?: bigint }
  /** `dhtError`: the DHT record could not be stored (a sparse mesh; the originator has the receipt when `direct`) — a warning, not a node error */
  'receipt:published': { announcementId: string, receiptCid: string, dhtPeers: number, direct: boolean, dhtError?: string }
  'job:log': { announcementId: string, stream: string, text: string }
  'error:job': { announcementId: string, error: string }
  /** The news of a crash-interrupted job could not reach its originator yet; it is retried until told. */
  'job:notify-pending': { announcementId: string, error: string }
}

export interface ExecutorOptions {
  node: MeshNode
  /** the parts of the store the executor uses: jobs, receipts, and the announcements/bids it checks assignments against */
  store: JobStore & ReceiptStore & Pick<MarketStore, 'getAnnouncement' | 'getBid' | 'markBidRefused'>
  identity: Identity
  sandbox: Sandbox
  blocks: ExecutorBlockStore
  /** runtime id written into receipts */
  runtime: string
  /** most jobs running at once (assignments beyond are refused PolicyRejected) */
  maxConcurrent?: () => number
  memoryLimitBytes?: number
  outputLimitBytes?: number
  /** per-block fetch timeout */
  fetchTimeoutMs?: number
  /** how often originators of crash-interrupted jobs are retried until told (default 30 s) */
  recoveryRetryMs?: number
  /** how often a Running progress status is sent to the originator (default 1 s) */
  progressStatusMs?: number
  now?: () => number
}

export interface Executor {
  readonly events: TypedEmitter<ExecutorEvents>
  /** Registers the direct handlers and settles jobs interrupted by a crash. */
  start(): Promise<void>
  /** Refuses new assignments; waits for running jobs up to `graceMs`, then cancels them. */
  stop(opts?: { graceMs?: number }): Promise<void>
  /** Cancels one running job (it ends Cancelled with a receipt). */
  cancel(announcementId: string): boolean
  runningJobs(): string[]
}

/** A job this process runs, from its acceptance until it has told its originator. */
export interface Running {
  announcementId: string
  originatorDid: string
  originatorPeerId: string
  controller: AbortController
  done: Promise<void>
  /** interactive stdin */
  nextInputSeq: number
  inputClosed: boolean
  pendingInput: Uint8Array[]
  pendingEnd: boolean
  write?: (chunk: Uint8Array) => Promise<void>
  end?: () => void
  /** status updates go out in order, without holding the job up */
  statusChain: Promise<void>
}

/** The executor's shared state, handed to each of its parts. */
export interface ExecutorContext {
  readonly opts: ExecutorOptions
  readonly clock: () => number
  readonly events: TypedEmitter<ExecutorEvents>
  readonly running: Map<string, Running>
  /** receipts being put in the DHT (background; awaited, bounded, on stop) */
  readonly publications: Set<Promise<void>>
  readonly dhtAbort: AbortController
}

export function errMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
