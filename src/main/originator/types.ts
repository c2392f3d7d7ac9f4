/** The originator's public types: the job to submit, its events, options and result. */
import type { Logger } from '../log/index.js'
import type {
  ExecutionReceiptV1, Identity, P2PJobStatus, QosProfile, ResourceMap
} from '../../shared/protocol/index.js'
import type { MeshNode } from '../mesh/index.js'
import type { Store } from '../store/index.js'
import type { AccessBlockStore } from './blocks.js'
import type { ReputationBook } from './reputation.js'
import type { RankedBid, RefusedBid } from './select.js'

export interface SubmitJob {
  /** WASI preview1 command module bytes. */
  module: Uint8Array
  /** stdin of the job (batch mode). */
  input?: Uint8Array
  maxPrice?: bigint | number
  /** region_filter of the policy; the announcement also goes to this region's topic. */
  region?: string
  maxFuel: bigint | number
  timeoutSeconds: number
  /** Bidding window (ms); announced as bidding_duration. Default 30000. */
  biddingWindowMs?: number
  interactive?: boolean
  qos?: QosProfile
  minReputation?: number
  /** per-mille; default 300 */
  repWeight?: number
  /** per-mille; default 700 */
  priceWeight?: number
  resources?: ResourceMap
  description?: string
  /** 'window' (default): select when the window closes; 'first-valid-bid': assign the first bid the policy accepts. */
  selection?: 'window' | 'first-valid-bid'
}

export type OriginatorEvent =
  | { type: 'job:announced', announcementId: string, wasmCid: string, inputCid?: string, topics: string[], recipients: number, biddingWindowMs: number }
  | { type: 'bid:received', announcementId: string, executorDid: string, price?: bigint, region?: string }
  | { type: 'bid:refused', announcementId: string, executorDid: string, reason: string, detail: string }
  | { type: 'selection:made', announcementId: string, chosen?: string, ranking: RankedBid[], refused: RefusedBid[] }
  | { type: 'job:assigned', announcementId: string, executorDid: string, attempt: number, price?: bigint }
  | { type: 'assign:refused', announcementId: string, executorDid: string, error: string, message: string }
  | { type: 'assignee:silent', announcementId: string, executorDid: string, waitedMs: number }
  | { type: 'status:received', announcementId: string, executorDid: string, status: P2PJobStatus, details?: string }
  | { type: 'stdin:sent', announcementId: string, sequence: number, bytes: number, isFinal: boolean }
  | { type: 'stdin:failed', announcementId: string, error: string }
  | { type: 'output:received', announcementId: string, sequence: number, bytes: number, isFinal: boolean }
  | { type: 'receipt:available', announcementId: string, receiptCid: string, channel: 'direct' | 'gossip' }
  | { type: 'receipt:fetched', announcementId: string, receiptCid: string, via: 'dht' | 'executor', ms: number }
  | { type: 'receipt:verified', announcementId: string, receiptCid: string, status: string, failureReason?: string }
  | { type: 'receipt:invalid', announcementId: string, receiptCid?: string, check: string, detail: string }

export interface SubmitOptions {
  signal?: AbortSignal
  onEvent?: (e: OriginatorEvent) => void
  /** Overall limit (ms) from announcement to verified receipt; default: none beyond the job's own limits. */
  timeoutMs?: number
  /** Interactive jobs: stdin chunks, sent as JobInteractiveInputV1 once the job runs. */
  stdin?: AsyncIterable<Uint8Array>
  /** Interactive jobs: output chunks in sequence order as they arrive. */
  onOutput?: (chunk: Uint8Array) => void
}

export interface SubmitTimings {
  announcedAt: number
  firstBidAt?: number
  assignedAt?: number
  acceptedAt?: number
  receiptAvailableAt?: number
  receiptFetchedAt?: number
  verifiedAt: number
}

export interface SubmitResult {
  announcementId: string
  output: Uint8Array
  receipt: ExecutionReceiptV1
  receiptCid: string
  receiptBytes: Uint8Array
  receiptVia: 'dht' | 'executor'
  executorDid: string
  price?: bigint
  bidCount: number
  /** executors assigned, in order, with how each attempt ended */
  attempts: Array<{ executorDid: string, outcome: 'refused' | 'silent' | 'accepted' }>
  timings: SubmitTimings
}

export interface OriginatorOptions {
  node: MeshNode
  identity: Identity
  /** Where what the originator swallows is logged (bookkeeping failures, a throwing listener). */
  log?: Logger
  store?: Store
  /** Clock for message timestamps and store times (ms). */
  now?: () => number
  /** Block store serving modules and inputs. Default: `node.blockStore` when it is an AccessBlockStore. */
  blocks?: AccessBlockStore
  /** Reputation source (0–100, undefined = unknown); default: our history (reputation.ts). */
  reputation?: (did: string) => number | undefined
  defaultReputation?: number
  /** The assignee must send a status (Accepted…) within this (ms), or it is replaced. Default 10000. */
  acceptTimeoutMs?: number
  /** Bids up to this long after the window closed are still taken (as backups). Default 1000. */
  bidGraceMs?: number
  /** After Accepted, the receipt must be announced within timeout_seconds + this (ms). Default 30000. */
  resultGraceMs?: number
  /** Limit of the DHT lookup of a receipt (ms). Default 2000. */
  receiptDhtTimeoutMs?: number
  /**
   * The receipt block is asked of the executor that announced it first; the DHT is also asked when
   * the executor fails or has not answered within this (ms). Default 300.
   */
  receiptDhtAfterMs?: number
  /** The older order: the DHT first, the executor after this head start (ms). Default: unset (executor first). */
  receiptDirectAfterMs?: number
  /** Largest output block fetched (bytes). Default 16 MiB. */
  maxOutputBytes?: number
  /**
   * Behind a NAT (detected) and not yet holding a relay reservation, wait this long (ms) for one
   * before announcing, so executors can deliver their bids. Default 5000; 0 = do not wait.
   */
  reachableWaitMs?: number
}

export interface Originator {
  readonly did: string
  readonly blocks: AccessBlockStore
  readonly reputation: ReputationBook
  submit(job: SubmitJob, opts?: SubmitOptions): Promise<SubmitResult>
  /** Announcement ids of jobs in flight. */
  pending(): string[]
  /** Unregisters the handlers; jobs in flight fail with OriginatorError('Closed'). */
  close(): void
}
