/**
 * The originator: the side of the market that submits jobs (wire profile 4–6).
 *
 * submit(): serve the module (public) and the input (assignee only) as blocks → announce
 * (JobAnnouncementV1, global + region topic) → collect bids (direct JobBidV1, routed by
 * announcement_id) → select per ExecutionPolicy (select.ts) → AssignJobV1 → follow
 * JobStatusUpdateV1 (only from the assignee) → ExecutionReceiptAvailableV1 → fetch the receipt
 * (DHT first, then the executor) → verify it completely (verify.ts) → fetch and check the output.
 * An assignee that refuses, or sends no status within `acceptTimeoutMs`, is replaced by the next
 * bidder in the ranking. See docs/ORIGINATOR.md.
 */
import { noLogger, type Logger } from '../log/index.js'
import { randomUUID } from 'node:crypto'
import {
  formatDuration, formatTimestamp, MAX_RECEIPT_BYTES, ProtocolError, QOS_PROFILES, rawCid, signMessage
} from '../../shared/protocol/index.js'
import type {
  ExecutionPolicy, ExecutionReceiptV1, FailureReason, Identity, JobAnnouncementV1, MeshJobParams, P2PJobStatus, QosProfile,
  ResourceMap, Unsigned
} from '../../shared/protocol/index.js'
import { isValidRegion, MeshError } from '../mesh/index.js'
import type { MeshEvents, MeshNode } from '../mesh/index.js'
import type { Store } from '../store/index.js'
import { AccessBlockStore } from './blocks.js'
import {
  ExecutorFailedError, InvalidJobError, NoBidsError, NoValidBidsError, OriginatorError, OriginatorTimeoutError,
  ReceiptInvalidError
} from './errors.js'
import { createReputationBook } from './reputation.js'
import type { ReputationBook } from './reputation.js'
import { DEFAULT_REPUTATION, selectBid } from './select.js'
import type { CandidateBid, RankedBid, RefusedBid, Selection } from './select.js'
import { checkOutput, verifyJobReceipt } from './verify.js'

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
  /** Head start of the DHT lookup before the executor is also asked directly (ms). Default 10. */
  receiptDirectAfterMs?: number
  /** Largest output block fetched (bytes). Default 16 MiB. */
  maxOutputBytes?: number
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

/** Failure reasons that are the job's own doing: an honest executor reporting them keeps its reputation. */
const JOB_FAULTS = new Set<FailureReason>(['FuelExhausted', 'Trap', 'InvalidModule', 'MemoryLimit', 'OutputLimit', 'Timeout'])
const STDIN_CHUNK = 64 * 1024

/** Wakes waiters whenever a job's state changes (bids, statuses, receipts). */
class Notifier {
  private readonly waiters = new Set<() => void>()
  notify (): void {
    const ws = [...this.waiters]
    this.waiters.clear()
    for (const w of ws) w()
  }

  async wait (ms: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    if (ms <= 0) return
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.waiters.delete(done)
        resolve()
      }
      const onAbort = (): void => {
        clearTimeout(timer)
        this.waiters.delete(done)
        reject(signal.reason)
      }
      const timer = setTimeout(done, Math.min(ms, 2_147_000_000))
      this.waiters.add(done)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}

interface Pending {
  id: string
  wasmCid: string
  inputCid?: string
  interactive: boolean
  policy: ExecutionPolicy
  windowClosesAt: number
  bidGraceMs: number
  bids: CandidateBid[]
  assignee?: CandidateBid
  accepted: boolean
  running: boolean
  lastStatus?: { status: P2PJobStatus, details?: string }
  receiptCid?: string
  outNext: number
  outFinal: boolean
  outChunks: Uint8Array[]
  onOutput?: (chunk: Uint8Array) => void
  notifier: Notifier
  emit: (e: OriginatorEvent) => void
  closed?: Error
  firstBidAt?: number
  acceptedAt?: number
  receiptAvailableAt?: number
}

function toBig (v: bigint | number | undefined, what: string): bigint | undefined {
  if (v === undefined) return undefined
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new InvalidJobError(`${what} must be a non-negative integer, got ${v}`)
  const b = BigInt(v)
  if (b < 0n || b > 0xffffffffffffffffn) throw new InvalidJobError(`${what} must be a non-negative integer below 2^64, got ${b}`)
  return b
}

/** Encodes a uint for the wire: a number when safe, else a bigint. */
function wireUint (b: bigint): number | bigint {
  return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
}

function errText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

interface CheckedJob {
  maxFuel: bigint
  maxPrice?: bigint
  windowMs: number
  policy: ExecutionPolicy
  qos: QosProfile
  description: string
}

function checkJob (job: SubmitJob): CheckedJob {
  if (job === null || typeof job !== 'object') throw new InvalidJobError('job description required')
  if (!(job.module instanceof Uint8Array) || job.module.byteLength === 0) throw new InvalidJobError('job.module must be non-empty bytes (a .wasm file)')
  if (job.input !== undefined && !(job.input instanceof Uint8Array)) throw new InvalidJobError('job.input must be bytes')
  if (job.interactive === true && job.input !== undefined) throw new InvalidJobError('an interactive job takes its stdin from the stream, not from job.input')
  const maxFuel = toBig(job.maxFuel, 'maxFuel')
  if (maxFuel === undefined || maxFuel === 0n) throw new InvalidJobError('maxFuel must be a positive integer')
  if (!Number.isSafeInteger(job.timeoutSeconds) || job.timeoutSeconds <= 0) throw new InvalidJobError(`timeoutSeconds must be a positive integer, got ${job.timeoutSeconds}`)
  const windowMs = job.biddingWindowMs ?? 30_000
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) throw new InvalidJobError(`biddingWindowMs must be a positive integer, got ${windowMs}`)
  if (job.region !== undefined && !isValidRegion(job.region)) throw new InvalidJobError(`invalid region "${job.region}": expected 1-63 characters of [a-z0-9-]`)
  const weight = (w: number | undefined, dflt: number, what: string): number => {
    const v = w ?? dflt
    if (!Number.isSafeInteger(v) || v < 0 || v > 1000) throw new InvalidJobError(`${what} must be an integer 0–1000 (per mille), got ${v}`)
    return v
  }
  const policy: ExecutionPolicy = { rep_weight: weight(job.repWeight, 300, 'repWeight'), price_weight: weight(job.priceWeight, 700, 'priceWeight') }
  if (job.region !== undefined) policy.region_filter = job.region
  const maxPrice = toBig(job.maxPrice, 'maxPrice')
  if (maxPrice !== undefined) policy.max_price = wireUint(maxPrice)
  if (job.minReputation !== undefined) {
    if (!Number.isSafeInteger(job.minReputation) || job.minReputation < 0 || job.minReputation > 100) {
      throw new InvalidJobError(`minReputation must be an integer 0–100, got ${job.minReputation}`)
    }
    policy.min_reputation = job.minReputation
  }
  const qos = job.qos ?? 'BestEffort'
  if (!(QOS_PROFILES as readonly string[]).includes(qos)) throw new InvalidJobError(`qos must be one of ${QOS_PROFILES.join(', ')}`)
  const description = job.description ?? 'mesh-executor submit'
  if (Buffer.byteLength(description) > 1024) throw new InvalidJobError('description must be at most 1 KiB')
  if (job.selection !== undefined && job.selection !== 'window' && job.selection !== 'first-valid-bid') {
    throw new InvalidJobError(`selection must be 'window' or 'first-valid-bid', got ${String(job.selection)}`)
  }
  return { maxFuel, maxPrice, windowMs, policy, qos, description }
}

export function createOriginator (options: OriginatorOptions): Originator {
  const { node, identity, store } = options
  if (node.did !== identity.did) throw new InvalidJobError(`the mesh node runs as ${node.did}, not as the originator ${identity.did}`)
  const maybeBlocks = options.blocks ?? (node.blockStore instanceof AccessBlockStore ? node.blockStore : undefined)
  if (maybeBlocks === undefined) {
    throw new InvalidJobError('the originator needs an AccessBlockStore: create the mesh node with { blockStore: new AccessBlockStore() } or pass options.blocks')
  }
  const blocks: AccessBlockStore = maybeBlocks
  const now = options.now ?? Date.now
  const book = createReputationBook(store)
  const reputationOf = (did: string): number | undefined => options.reputation?.(did) ?? book.get(did)
  const defaultReputation = options.defaultReputation ?? DEFAULT_REPUTATION
  const acceptTimeoutMs = options.acceptTimeoutMs ?? 10_000
  const bidGraceMs = options.bidGraceMs ?? 1000
  const resultGraceMs = options.resultGraceMs ?? 30_000
  const receiptDhtTimeoutMs = options.receiptDhtTimeoutMs ?? 2000
  const receiptDirectAfterMs = options.receiptDirectAfterMs ?? 10
  const maxOutputBytes = options.maxOutputBytes ?? 16 * 1024 * 1024
  const jobs = new Map<string, Pending>()
  let closed = false

  const log = (options.log ?? noLogger).child({ sub: 'originator' })
  const storeSafe = (fn: (s: Store) => void): void => {
    if (store === undefined) return
    // bookkeeping must never break a submission
    try { fn(store) } catch (err) { log.warn({ err }, 'recording a submission in the store failed') }
  }

  const jobFor = (announcementId: string): Pending => {
    const p = jobs.get(announcementId)
    if (p === undefined) throw new ProtocolError('UnknownJob', `no job ${announcementId} in flight here`)
    return p
  }
  const assigneeOf = (p: Pending, executorDid: string): void => {
    if (p.assignee?.executorDid !== executorDid) throw new ProtocolError('NotAssignedToYou', `job ${p.id} is not assigned to ${executorDid}`)
  }

  // ---- direct handlers (one per originator, routed by announcement_id) -------------------------
  const offBid = node.handleDirect('JobBidV1', (m, ctx) => {
    const b = m.body
    const p = jobs.get(b.announcement_id)
    if (p === undefined) throw new ProtocolError('UnknownJob', `no job ${b.announcement_id} is taking bids here`)
    const t = Date.now()
    const refuse = (reason: 'WrongState', detail: string): never => {
      p.emit({ type: 'bid:refused', announcementId: p.id, executorDid: b.executor_did, reason, detail })
      throw new ProtocolError(reason, detail)
    }
    if (t > p.windowClosesAt + p.bidGraceMs) refuse('WrongState', `the bidding window of ${p.id} closed ${t - p.windowClosesAt} ms ago`)
    if (p.bids.some((x) => x.executorDid === b.executor_did)) refuse('WrongState', `${b.executor_did} already bid on ${p.id}`)
    const bid: CandidateBid = { executorDid: b.executor_did, executorPeerId: b.executor_peer_id, receivedAt: t }
    if (b.price !== undefined && b.price !== null) bid.price = BigInt(b.price)
    if (b.region !== undefined && b.region !== null) bid.region = b.region
    p.bids.push(bid)
    p.firstBidAt ??= t
    storeSafe((s) => s.recordReceivedBid({ announcementId: p.id, executorDid: bid.executorDid, price: bid.price, region: bid.region, raw: ctx.bytes, receivedAt: now() }))
    p.emit({ type: 'bid:received', announcementId: p.id, executorDid: bid.executorDid, price: bid.price, region: bid.region })
    p.notifier.notify()
  })

  const offStatus = node.handleDirect('JobStatusUpdateV1', (m) => {
    const b = m.body
    const p = jobFor(b.announcement_id)
    assigneeOf(p, b.executor_did)
    p.accepted = true
    p.acceptedAt ??= Date.now()
    if (b.p2p_job_status === 'Running' || b.p2p_job_status === 'AwaitingInput') p.running = true
    p.lastStatus = { status: b.p2p_job_status, ...(b.details !== undefined && b.details !== null ? { details: b.details } : {}) }
    p.emit({ type: 'status:received', announcementId: p.id, executorDid: b.executor_did, status: b.p2p_job_status, details: p.lastStatus.details })
    if (b.p2p_job_status === 'Running') storeSafe((s) => s.setSubmittedState(p.id, 'Running', now()))
    p.notifier.notify()
  })

  const onReceiptAvailable = (announcementId: string, originatorDid: string, executorDid: string, receiptCid: string, channel: 'direct' | 'gossip'): void => {
    if (originatorDid !== identity.did) throw new ProtocolError('NotYourJob', `receipt is for ${originatorDid}, not for this originator`)
    const p = jobFor(announcementId)
    assigneeOf(p, executorDid)
    p.accepted = true
    if (p.receiptCid !== undefined) return
    p.receiptCid = receiptCid
    p.receiptAvailableAt = Date.now()
    p.emit({ type: 'receipt:available', announcementId: p.id, receiptCid, channel })
    p.notifier.notify()
  }
  const offReceipt = node.handleDirect('ExecutionReceiptAvailableV1', (m) => {
    const b = m.body
    onReceiptAvailable(b.announcement_id, b.originator_did, b.executor_did, b.receipt_cid, 'direct')
  })
  const onGossip = (e: MeshEvents['message:received']): void => {
    if (e.channel !== 'gossip' || e.message.variant !== 'ExecutionReceiptAvailableV1') return
    const b = e.message.body
    if (b.originator_did !== identity.did || !jobs.has(b.announcement_id)) return
    try { onReceiptAvailable(b.announcement_id, b.originator_did, b.executor_did, b.receipt_cid, 'gossip') } catch (err) { log.debug({ err, job: b.announcement_id }, 'receipt announcement on gossip ignored (not from the assignee)') }
  }
  const offGossip = node.events.on('message:received', onGossip)

  const offOutput = node.handleDirect('JobInteractiveOutputV1', (m) => {
    const b = m.body
    if (b.originator_did !== identity.did) throw new ProtocolError('NotYourJob', `output is for ${b.originator_did}`)
    const p = jobFor(b.announcement_id)
    assigneeOf(p, b.executor_did)
    if (!p.interactive) throw new ProtocolError('WrongState', `job ${p.id} is not interactive`)
    if (b.sequence_number < p.outNext) throw new ProtocolError('Replay', `output ${b.sequence_number} of ${p.id} already received`)
    if (p.outFinal) throw new ProtocolError('WrongState', `output of ${p.id} already ended (is_final)`)
    if (b.sequence_number > p.outNext) throw new ProtocolError('WrongState', `output ${b.sequence_number} of ${p.id} arrived before ${p.outNext}`)
    p.outNext++
    p.outFinal = b.is_final
    p.outChunks.push(b.data)
    p.emit({ type: 'output:received', announcementId: p.id, sequence: b.sequence_number, bytes: b.data.byteLength, isFinal: b.is_final })
    if (b.data.byteLength > 0) p.onOutput?.(b.data)
    p.notifier.notify()
  })

  // ---- one submission ------------------------------------------------------------------------
  async function submit (job: SubmitJob, opts: SubmitOptions = {}): Promise<SubmitResult> {
    if (closed) throw new OriginatorError('Closed', 'the originator is closed')
    const checked = checkJob(job)
    if (!node.isStarted) throw new OriginatorError('InvalidJob', 'the mesh node is not started')
    const ctl = new AbortController()
    const onUserAbort = (): void => { ctl.abort(new OriginatorError('Aborted', 'submission aborted')) }
    if (opts.signal?.aborted === true) onUserAbort()
    opts.signal?.addEventListener('abort', onUserAbort, { once: true })
    let overall: ReturnType<typeof setTimeout> | undefined
    if (opts.timeoutMs !== undefined) {
      overall = setTimeout(() => { ctl.abort(new OriginatorTimeoutError(`no verified receipt within ${opts.timeoutMs} ms`)) }, opts.timeoutMs)
    }
    const signal = ctl.signal
    const emit = (e: OriginatorEvent): void => {
      try { opts.onEvent?.(e) } catch (err) { log.warn({ err, event: e.type }, 'a submission listener threw') }
    }

    const id = randomUUID()
    const wasmCid = rawCid(job.module)
    const inputCid = job.input === undefined ? undefined : rawCid(job.input)
    const interactive = job.interactive === true
    const p: Pending = {
      id, wasmCid, interactive, policy: checked.policy, windowClosesAt: Infinity, bidGraceMs,
      bids: [], accepted: false, running: false, outNext: 0, outFinal: false, outChunks: [], notifier: new Notifier(), emit
    }
    if (inputCid !== undefined) p.inputCid = inputCid
    if (opts.onOutput !== undefined) p.onOutput = opts.onOutput
    blocks.addPublic(wasmCid, job.module)
    if (inputCid !== undefined && job.input !== undefined) blocks.addPrivate(inputCid, job.input)
    jobs.set(id, p)
    let stdinIter: AsyncIterator<Uint8Array> | undefined
    let state = 'Bidding'
    const setState = (s: string): void => {
      state = s
      storeSafe((st) => st.setSubmittedState(id, s, now()))
    }
    const until = async (cond: () => boolean, deadline: number): Promise<boolean> => {
      for (;;) {
        if (p.closed !== undefined) throw p.closed
        if (cond()) return true
        const left = deadline - Date.now()
        if (left <= 0) return false
        await p.notifier.wait(left, signal)
      }
    }

    try {
      // ---- announce
      const jobParams: MeshJobParams = {
        wasm_cid: wasmCid,
        description: checked.description,
        resources_required: { ...(job.resources ?? {}) },
        max_fuel: wireUint(checked.maxFuel),
        timeout_seconds: job.timeoutSeconds,
        is_interactive: interactive,
        qos_profile: checked.qos,
        execution_policy: checked.policy
      }
      if (inputCid !== undefined) jobParams.input_data_cid = inputCid
      const unsigned: Unsigned<JobAnnouncementV1> = {
        announcement_id: id,
        originator_did: identity.did,
        job_params: jobParams,
        timestamp: formatTimestamp(now()),
        bidding_duration: formatDuration(checked.windowMs)
      }
      const ann = signMessage('JobAnnouncementV1', unsigned, identity)
      storeSafe((s) => s.recordSubmittedJob({
        announcementId: id,
        raw: ann.bytes,
        summary: {
          description: checked.description.slice(0, 160), wasm_cid: wasmCid, input_data_cid: inputCid ?? null,
          max_fuel: String(checked.maxFuel), timeout_seconds: job.timeoutSeconds, is_interactive: interactive,
          max_price: checked.maxPrice === undefined ? null : String(checked.maxPrice), region_filter: job.region ?? null,
          selection: job.selection ?? 'window', bidding_window_ms: checked.windowMs
        },
        createdAt: now()
      }))
      const announcedAt = Date.now()
      p.windowClosesAt = announcedAt + checked.windowMs
      const pub = await node.publishAnnouncement(ann.bytes, job.region)
      emit({ type: 'job:announced', announcementId: id, wasmCid, ...(inputCid !== undefined ? { inputCid } : {}), topics: pub.topics, recipients: pub.recipients, biddingWindowMs: checked.windowMs })

      // ---- bids
      const select = (): Selection => selectBid(p.bids, p.policy, reputationOf, { defaultReputation })
      if (job.selection === 'first-valid-bid') await until(() => select().chosen !== undefined, p.windowClosesAt)
      else await until(() => false, p.windowClosesAt)

      // ---- assign (re-assigning on refusal or silence)
      const attempts: SubmitResult['attempts'] = []
      const why = new Map<string, string[]>()
      let assignedAt: number | undefined
      let chosen: CandidateBid | undefined
      let announcedSelection = false
      while (chosen === undefined) {
        const sel = select()
        if (!announcedSelection) {
          announcedSelection = true
          emit({ type: 'selection:made', announcementId: id, chosen: sel.chosen?.executorDid, ranking: sel.ranking, refused: sel.refused })
        }
        const next = sel.ranking.find((r) => !attempts.some((a) => a.executorDid === r.bid.executorDid))
        if (next === undefined) {
          // more bids may still come in during the window (first-valid-bid mode) or its grace period
          const more = await until(() => select().ranking.some((r) => !attempts.some((a) => a.executorDid === r.bid.executorDid)), p.windowClosesAt + bidGraceMs)
          if (more) continue
          if (p.bids.length === 0) {
            setState('NoBids')
            throw new NoBidsError(`no executor bid on ${id} within the ${checked.windowMs} ms bidding window`)
          }
          const all = [...sel.refused.map((r) => ({ executorDid: r.bid.executorDid, reasons: r.reasons })),
            ...[...why].map(([executorDid, reasons]) => ({ executorDid, reasons }))]
          setState('NoValidBids')
          throw new NoValidBidsError(attempts.length === 0
            ? `${p.bids.length} bid(s) on ${id}, none acceptable: ${all.map((w) => `${w.executorDid.slice(0, 20)}…: ${w.reasons.join('; ')}`).join(' | ')}`
            : `every acceptable bidder on ${id} refused the assignment or went silent (${attempts.map((a) => `${a.executorDid.slice(0, 20)}…: ${a.outcome}`).join(', ')})`, all)
        }
        const bid = next.bid
        const outcome = await assign(bid, attempts.length + 1)
        attempts.push({ executorDid: bid.executorDid, outcome })
        if (outcome === 'accepted') {
          chosen = bid
          assignedAt = Date.now()
        } else {
          why.set(bid.executorDid, [outcome === 'silent' ? `sent no status within ${acceptTimeoutMs} ms of the assignment` : 'refused the assignment'])
        }
      }

      async function assign (bid: CandidateBid, attempt: number): Promise<'refused' | 'silent' | 'accepted'> {
        p.assignee = bid
        p.accepted = false
        p.running = false
        if (inputCid !== undefined) blocks.allow(inputCid, bid.executorPeerId)
        const unassign = (): void => {
          if (inputCid !== undefined) blocks.revoke(inputCid, bid.executorPeerId)
          p.assignee = undefined
        }
        storeSafe((s) => s.chooseExecutor(id, bid.executorDid, now()))
        state = 'Assigned'
        const msg = signMessage('AssignJobV1', { announcement_id: id, originator_did: identity.did, executor_did: bid.executorDid, timestamp: formatTimestamp(now()) }, identity)
        let answer
        try {
          answer = await node.sendDirect(bid.executorPeerId, msg.bytes, { signal })
        } catch (err) {
          if (signal.aborted) throw signal.reason
          unassign()
          emit({ type: 'assign:refused', announcementId: id, executorDid: bid.executorDid, error: err instanceof MeshError ? err.code : 'Transport', message: errText(err) })
          return 'refused'
        }
        if (!answer.ok) {
          unassign()
          emit({ type: 'assign:refused', announcementId: id, executorDid: bid.executorDid, error: answer.error, message: answer.message })
          return 'refused'
        }
        emit({ type: 'job:assigned', announcementId: id, executorDid: bid.executorDid, attempt, ...(bid.price !== undefined ? { price: bid.price } : {}) })
        const t0 = Date.now()
        if (await until(() => p.accepted, t0 + acceptTimeoutMs)) return 'accepted'
        unassign()
        book.record(bid.executorDid, 'failed')
        emit({ type: 'assignee:silent', announcementId: id, executorDid: bid.executorDid, waitedMs: Date.now() - t0 })
        return 'silent'
      }

      // ---- interactive stdin
      if (interactive && opts.stdin !== undefined) {
        stdinIter = opts.stdin[Symbol.asyncIterator]()
        void pumpStdin(p, chosen, stdinIter, signal).catch((err: unknown) => {
          if (!signal.aborted) emit({ type: 'stdin:failed', announcementId: id, error: errText(err) })
        })
      } else if (interactive) {
        void pumpStdin(p, chosen, undefined, signal).catch((err: unknown) => {
          if (!signal.aborted) emit({ type: 'stdin:failed', announcementId: id, error: errText(err) })
        })
      }

      // ---- wait for the receipt
      const execDeadline = Date.now() + job.timeoutSeconds * 1000 + resultGraceMs
      if (!(await until(() => p.receiptCid !== undefined, execDeadline))) {
        book.record(chosen.executorDid, 'failed')
        setState('Timeout')
        const last = p.lastStatus === undefined ? 'no status' : `last status ${p.lastStatus.status}${p.lastStatus.details !== undefined ? ` (${p.lastStatus.details})` : ''}`
        throw new OriginatorTimeoutError(`no receipt for ${id} from ${chosen.executorDid} within timeout_seconds + ${resultGraceMs / 1000} s; ${last}`)
      }
      const receiptCid = p.receiptCid as string
      const invalid = (check: string, detail: string): never => {
        book.record(chosen.executorDid, 'failed')
        setState('ReceiptInvalid')
        storeSafe((s) => s.setSubmittedReceipt(id, receiptCid, false, now()))
        emit({ type: 'receipt:invalid', announcementId: id, receiptCid, check, detail })
        throw new ReceiptInvalidError(check, `receipt ${receiptCid} from ${chosen.executorDid} is invalid (${check}): ${detail}`, receiptCid)
      }

      // ---- fetch the receipt: DHT first, then (after a head start, or as soon as the DHT has nothing) the executor
      const tf = Date.now()
      const fetched = await fetchReceipt(receiptCid, chosen.executorPeerId, signal).catch((err: unknown) => {
        signal.throwIfAborted()
        if (err instanceof MeshError && err.code === 'CidMismatch') invalid('cid', errText(err))
        return invalid('fetch', `the receipt block could not be fetched: ${errText(err)}`)
      })
      const { bytes: receiptBytes, via } = fetched
      const bytes = receiptBytes
      const receiptFetchedAt = Date.now()
      emit({ type: 'receipt:fetched', announcementId: id, receiptCid, via, ms: receiptFetchedAt - tf })

      // ---- verify it completely
      const v = verifyJobReceipt(bytes, {
        receiptCid, announcementId: id, originatorDid: identity.did, executorDid: chosen.executorDid, wasmCid,
        ...(inputCid !== undefined ? { inputCid } : {}), ...(chosen.price !== undefined ? { price: chosen.price } : {})
      })
      if (!v.ok) invalid(v.check, v.detail)
      const receipt = (v as { receipt: ExecutionReceiptV1 }).receipt
      storeSafe((s) => s.setSubmittedReceipt(id, receiptCid, true, now()))
      if (receipt.status !== 'CompletedSuccessfully') {
        const reason = (receipt.failure_reason ?? 'Cancelled')
        book.record(chosen.executorDid, JOB_FAULTS.has(reason) ? 'completed' : 'failed')
        setState('Failed')
        emit({ type: 'receipt:verified', announcementId: id, receiptCid, status: receipt.status, failureReason: reason })
        throw new ExecutorFailedError(reason, `job ${id} ${receipt.status === 'Cancelled' ? 'was cancelled' : 'failed'} on ${chosen.executorDid}: ${reason}${p.lastStatus?.details !== undefined ? ` (${p.lastStatus.details})` : ''}`, receipt, receiptCid)
      }

      // ---- the output: streamed (interactive) or fetched from the executor
      let output: Uint8Array | undefined
      if (interactive) {
        const streamed = Buffer.concat(p.outChunks)
        if (checkOutput(receipt, streamed).ok) output = new Uint8Array(streamed)
      }
      if (output === undefined) {
        try {
          output = await node.fetchBlock(receipt.output_cid as string, { from: chosen.executorPeerId, providers: false, store: false, maxBytes: maxOutputBytes, signal })
        } catch (err) {
          signal.throwIfAborted()
          invalid('output', `the output block ${receipt.output_cid as string} could not be fetched or does not match: ${errText(err)}`)
        }
      }
      const out = output as Uint8Array
      const oc = checkOutput(receipt, out)
      if (!oc.ok) invalid(oc.check, oc.detail)
      book.record(chosen.executorDid, 'completed')
      setState('Completed')
      const verifiedAt = Date.now()
      emit({ type: 'receipt:verified', announcementId: id, receiptCid, status: receipt.status })
      const timings: SubmitTimings = { announcedAt, assignedAt, acceptedAt: p.acceptedAt, receiptAvailableAt: p.receiptAvailableAt, receiptFetchedAt, verifiedAt }
      if (p.firstBidAt !== undefined) timings.firstBidAt = p.firstBidAt
      const result: SubmitResult = {
        announcementId: id, output: out, receipt, receiptCid, receiptBytes: bytes, receiptVia: via, executorDid: chosen.executorDid,
        bidCount: p.bids.length, attempts, timings
      }
      if (chosen.price !== undefined) result.price = chosen.price
      return result
    } catch (err) {
      if (signal.aborted && err === signal.reason) {
        const reason = signal.reason as OriginatorError
        if (reason instanceof OriginatorTimeoutError) {
          if (p.assignee !== undefined) book.record(p.assignee.executorDid, 'failed')
          setState('Timeout')
        } else setState('Aborted')
        throw reason
      }
      if (state !== 'Completed' && !(err instanceof OriginatorError)) setState('Error')
      throw err
    } finally {
      clearTimeout(overall)
      opts.signal?.removeEventListener('abort', onUserAbort)
      if (!signal.aborted) ctl.abort(new OriginatorError('Closed', 'submission finished'))
      jobs.delete(id)
      blocks.release(wasmCid)
      if (inputCid !== undefined) {
        // this job's grant to its executor ends with the job (another job's grant to it stays)
        if (p.assignee !== undefined) blocks.revoke(inputCid, p.assignee.executorPeerId)
        blocks.release(inputCid)
      }
      if (stdinIter?.return !== undefined) void stdinIter.return().catch((err: unknown) => { log.debug({ err }, 'closing the interactive stdin source failed') })
    }
  }

  /**
   * The receipt block: a DHT lookup first; the executor is asked directly when the DHT has nothing or
   * has not answered within `receiptDirectAfterMs`. The first verified answer wins (both sides check
   * the bytes against the CID; the DHT record validator also checks the signature).
   */
  async function fetchReceipt (cid: string, executorPeerId: string, signal: AbortSignal): Promise<{ bytes: Uint8Array, via: 'dht' | 'executor' }> {
    const ctl = new AbortController()
    const sig = AbortSignal.any([signal, ctl.signal])
    try {
      return await new Promise((resolve, reject) => {
        let settled = false
        let directStarted = false
        let dhtDone = false
        let directError: unknown
        const win = (bytes: Uint8Array, via: 'dht' | 'executor'): void => {
          if (settled) return
          settled = true
          resolve({ bytes, via })
        }
        const maybeFail = (): void => {
          if (settled || !dhtDone || !directStarted || directError === undefined) return
          settled = true
          reject(directError)
        }
        const startDirect = (): void => {
          if (directStarted || settled) return
          directStarted = true
          clearTimeout(timer)
          node.fetchBlock(cid, { from: executorPeerId, store: false, maxBytes: MAX_RECEIPT_BYTES, signal: sig, maxProviders: 3 })
            .then((b) => { win(b, 'executor') }, (err: unknown) => { directError = err ?? new Error('fetch failed'); maybeFail() })
        }
        const timer = setTimeout(startDirect, receiptDirectAfterMs)
        node.getReceipt(cid, { signal: AbortSignal.any([sig, AbortSignal.timeout(receiptDhtTimeoutMs)]) })
          .then((b) => { dhtDone = true; if (b !== undefined) win(b, 'dht'); else { startDirect(); maybeFail() } },
            () => { dhtDone = true; startDirect(); maybeFail() })
      })
    } finally {
      ctl.abort()
    }
  }

  /** Sends stdin chunks as JobInteractiveInputV1 once the job runs; an empty final chunk closes stdin. */
  async function pumpStdin (p: Pending, executor: CandidateBid, iter: AsyncIterator<Uint8Array> | undefined, signal: AbortSignal): Promise<void> {
    for (;;) {
      if (p.running || p.receiptCid !== undefined) break
      await p.notifier.wait(60_000, signal)
    }
    if (p.receiptCid !== undefined) return
    let seq = 0
    const send = async (data: Uint8Array, isFinal: boolean): Promise<void> => {
      const msg = signMessage('JobInteractiveInputV1', {
        originator_did: identity.did, executor_did: executor.executorDid, input_id: randomUUID(), announcement_id: p.id,
        sequence_number: seq, is_final: isFinal, timestamp: formatTimestamp(now()), data
      }, identity)
      const answer = await node.sendDirect(executor.executorPeerId, msg.bytes, { signal })
      if (!answer.ok) throw new Error(`executor refused input ${seq}: ${answer.error}: ${answer.message}`)
      p.emit({ type: 'stdin:sent', announcementId: p.id, sequence: seq, bytes: data.byteLength, isFinal })
      seq++
    }
    if (iter !== undefined) {
      for (;;) {
        const r = await iter.next()
        if (r.done === true || signal.aborted || p.receiptCid !== undefined) break
        const chunk = r.value
        for (let off = 0; off < chunk.byteLength; off += STDIN_CHUNK) {
          await send(chunk.subarray(off, Math.min(chunk.byteLength, off + STDIN_CHUNK)), false)
        }
      }
    }
    if (!signal.aborted && p.receiptCid === undefined) await send(new Uint8Array(0), true)
  }

  return {
    did: identity.did,
    blocks,
    reputation: book,
    submit,
    pending: () => [...jobs.keys()],
    close () {
      if (closed) return
      closed = true
      offBid()
      offStatus()
      offReceipt()
      offOutput()
      offGossip()
      for (const p of jobs.values()) {
        p.closed = new OriginatorError('Closed', 'the originator was closed')
        p.notifier.notify()
      }
    }
  }
}
