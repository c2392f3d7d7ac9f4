/**
 * The executor lifecycle (issue 5; wire profile 6.3, 6.3a, 6.4, 7).
 *
 * On AssignJobV1 (direct): check it names us, that we know the announcement, that the sender is its
 * originator, that we bid, and that the assignment window is open; accept (ok) or refuse with the
 * profile's reason code. Then, asynchronously: Accepted → FetchingInputs (module and input by CID
 * from the originator's peer, then DHT providers; hash checked) → Running (sandbox, progress
 * statuses) → Completed | Failed | Cancelled, a signed ExecutionReceiptV1 stored in the same
 * transaction as the final state and the earning, the output served to the originator only, the
 * receipt put in the DHT and provided, and ExecutionReceiptAvailableV1 sent directly and on gossip.
 *
 * Interactive jobs: JobInteractiveInputV1 (in order, from 0, no duplicates, nothing after is_final)
 * feeds the job's stdin; its stdout goes out as JobInteractiveOutputV1 with consecutive sequence
 * numbers, the last one `is_final`.
 *
 * After a crash, `start()` — and only `start()`, before this process runs anything — fails the jobs
 * the previous process left active (InternalError), signs their receipts and tells their
 * originators, once; a periodic retry only re-sends that news to originators not yet reached, and
 * never touches a job this process runs.
 */
import {
  formatTimestamp, peerIdFromDid, ProtocolError, rawCid, signMessage, signReceipt,
  type ExecutionReceiptV1, type FailureReason, type Identity, type JobAnnouncementV1, type MessageOf,
  type P2PJobStatus, type Unsigned, decodeMessage
} from '../../shared/protocol/index.js'
import type { MeshNode } from '../mesh/index.js'
import { MeshError, TypedEmitter } from '../mesh/index.js'
import type { Sandbox, SandboxResult } from '../sandbox/index.js'
import type { JobRow, JobStore, MarketStore, ReceiptStore, TransitionOptions } from '../store/index.js'
import { biddingCloses } from '../market/index.js'
import type { ExecutorBlockStore } from './block-store.js'

/** How long after the bidding window closes an assignment is still accepted (profile 6.3a). */
export const ASSIGNMENT_GRACE_MS = 60_000
const OUTPUT_CHUNK_BYTES = 256 * 1024

export interface ExecutorEvents {
  'job:accepted': { announcementId: string, originatorDid: string }
  'job:refused': { announcementId: string, originatorDid: string, reason: string, detail: string }
  'job:state': { announcementId: string, state: string, details?: string }
  'job:progress': { announcementId: string, fuelUsed: bigint, maxFuel: bigint }
  'job:finished': { announcementId: string, status: ExecutionReceiptV1['status'], failureReason?: FailureReason, fuelUsed: bigint, wallMs: number, receiptCid: string, price?: bigint }
  'receipt:published': { announcementId: string, receiptCid: string, dhtPeers: number, direct: boolean }
  'job:log': { announcementId: string, stream: string, text: string }
  'error:job': { announcementId: string, error: string }
  /** The news of a crash-interrupted job could not reach its originator yet; it is retried until told. */
  'job:notify-pending': { announcementId: string, error: string }
}

export interface ExecutorOptions {
  node: MeshNode
  /** the parts of the store the executor uses: jobs, receipts, and the announcements/bids it checks assignments against */
  store: JobStore & ReceiptStore & Pick<MarketStore, 'getAnnouncement' | 'getBid'>
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

interface Running {
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

function errMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** `Reason: detail` for a status or job log, without repeating a reason the detail already starts with. */
export function failureText (reason: string, detail: string | undefined): string {
  const d = (detail ?? '').trim()
  if (d === '' || d === reason) return reason
  return d.startsWith(`${reason}: `) ? d : `${reason}: ${d}`
}

const asFuel = (v: bigint | number): bigint => typeof v === 'bigint' ? v : BigInt(v)
const wireInt = (v: bigint): number | bigint => v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v

export function createExecutor (opts: ExecutorOptions): Executor {
  const { node, store, identity, sandbox, blocks } = opts
  const clock = opts.now ?? Date.now
  const events = new TypedEmitter<ExecutorEvents>()
  const running = new Map<string, Running>()
  let accepting = false
  const unhandle: Array<() => void> = []
  /** every job's promise until it has told its originator (running or finishing) */
  const inFlight = new Set<Promise<void>>()
  /** receipts being put in the DHT (background; awaited, bounded, on stop) */
  const publications = new Set<Promise<void>>()
  const dhtAbort = new AbortController()

  // ------------------------------------------------------------------ outgoing messages

  /** `retried`: a failure is reported as pending news (it is tried again later), not as an error. */
  async function sendTo (peerId: string, bytes: Uint8Array, what: string, announcementId: string, retried = false): Promise<boolean> {
    const report = (error: string): void => {
      if (retried) events.emit('job:notify-pending', { announcementId, error })
      else events.emit('error:job', { announcementId, error })
    }
    try {
      const answer = await node.sendDirect(peerId, bytes)
      if (!answer.ok) {
        report(`${what} refused by originator: ${answer.error} ${answer.message ?? ''}`.trim())
        return false
      }
      return true
    } catch (err) {
      report(`${what} not delivered: ${errMessage(err)}`)
      return false
    }
  }

  async function sendStatus (job: { announcementId: string, originatorPeerId: string }, status: P2PJobStatus, details?: string, retried = false): Promise<boolean> {
    const unsigned: Unsigned<MessageOf<'JobStatusUpdateV1'>['body']> = {
      announcement_id: job.announcementId, executor_did: identity.did, p2p_job_status: status, timestamp: formatTimestamp(clock())
    }
    if (details !== undefined) unsigned.details = details.slice(0, 1000)
    const { bytes } = signMessage('JobStatusUpdateV1', unsigned, identity)
    return await sendTo(job.originatorPeerId, bytes, `status ${status}`, job.announcementId, retried)
  }

  /** Queues a status update behind the job's earlier ones (order preserved, the job does not wait). */
  function queueStatus (rj: Running, status: P2PJobStatus, details?: string): void {
    rj.statusChain = rj.statusChain.then(async () => { await sendStatus(rj, status, details) })
  }

  function transition (id: string, to: JobRow['state'], o: TransitionOptions = {}): void {
    store.transitionJob(id, to, { at: clock(), ...o })
    events.emit('job:state', { announcementId: id, state: to, details: o.details })
  }

  function log (id: string, stream: string, text: string): void {
    store.appendJobLog(id, stream, text, clock())
    events.emit('job:log', { announcementId: id, stream, text })
  }

  // ------------------------------------------------------------------ receipts

  function buildReceipt (job: JobRow, r: { status: ExecutionReceiptV1['status'], failureReason?: FailureReason, fuelUsed: bigint, wallMs: number, peakMemory: number, output?: Uint8Array, startedAt: number, finishedAt: number }): { bytes: Uint8Array, cid: string, receipt: ExecutionReceiptV1 } {
    const unsigned: Unsigned<ExecutionReceiptV1> = {
      announcement_id: job.announcementId,
      originator_did: job.originatorDid,
      executor_did: identity.did,
      wasm_cid: job.wasmCid,
      status: r.status,
      fuel_used: wireInt(r.fuelUsed),
      resource_usage: { wall_ms: Math.round(r.wallMs), peak_memory_bytes: r.peakMemory, output_bytes: r.output?.length ?? 0 },
      runtime: opts.runtime,
      started_at: formatTimestamp(r.startedAt),
      finished_at: formatTimestamp(r.finishedAt)
    }
    if (job.inputDataCid !== undefined) unsigned.input_data_cid = job.inputDataCid
    if (r.output !== undefined) unsigned.output_cid = rawCid(r.output)
    if (r.status !== 'CompletedSuccessfully') unsigned.failure_reason = r.failureReason ?? 'InternalError'
    if (job.price !== undefined) unsigned.price = wireInt(job.price)
    return signReceipt(unsigned, identity)
  }

  /** Serves the receipt, puts it in the DHT, provides it, and announces it (direct + gossip). Best effort. */
  async function publishReceipt (job: { announcementId: string, originatorDid: string, originatorPeerId: string }, receipt: { bytes: Uint8Array, cid: string }, retried = false): Promise<boolean> {
    const { bytes: availBytes } = signMessage('ExecutionReceiptAvailableV1', {
      announcement_id: job.announcementId, originator_did: job.originatorDid, executor_did: identity.did,
      receipt_cid: receipt.cid, timestamp: formatTimestamp(clock())
    }, identity)
    const direct = await sendTo(job.originatorPeerId, availBytes, 'ExecutionReceiptAvailableV1', job.announcementId, retried)
    await node.publishReceiptAvailable(availBytes).catch((err: unknown) => {
      events.emit('error:job', { announcementId: job.announcementId, error: `receipt gossip failed: ${errMessage(err)}` })
    })
    // The DHT record and provider record go out in the background: a DHT put can take seconds on a
    // sparse mesh and must not hold the job slot (the originator also fetches from us directly).
    const publication = (async () => {
      let dhtPeers = 0
      try {
        dhtPeers = (await node.putReceipt(receipt.bytes, { signal: AbortSignal.any([dhtAbort.signal, AbortSignal.timeout(15_000)]) })).peers
        await node.provide(receipt.cid, { signal: AbortSignal.any([dhtAbort.signal, AbortSignal.timeout(15_000)]) })
      } catch (err) {
        events.emit('error:job', { announcementId: job.announcementId, error: `receipt DHT put/provide failed: ${errMessage(err)}` })
      }
      events.emit('receipt:published', { announcementId: job.announcementId, receiptCid: receipt.cid, dhtPeers, direct })
    })()
    publications.add(publication)
    void publication.finally(() => publications.delete(publication))
    return direct
  }

  // ------------------------------------------------------------------ running a job

  async function fetchInput (cid: string, originatorPeerId: string, signal: AbortSignal): Promise<Uint8Array> {
    return await node.fetchBlock(cid, { from: originatorPeerId, signal, store: false, timeoutMs: opts.fetchTimeoutMs })
  }

  async function runJob (job: JobRow, ann: JobAnnouncementV1, rj: Running): Promise<void> {
    const id = job.announcementId
    const signal = rj.controller.signal
    const startedAt = clock()
    let fuelSoFar = 0n
    let result: SandboxResult | undefined
    let failure: { reason: FailureReason, detail: string } | undefined
    try {
      queueStatus(rj, 'Accepted')
      transition(id, 'FetchingInputs')
      queueStatus(rj, 'FetchingInputs', `fetching module ${job.wasmCid}${job.inputDataCid !== undefined ? ' and input' : ''}`)
      let module: Uint8Array
      let input: Uint8Array | undefined
      try {
        module = await fetchInput(job.wasmCid, rj.originatorPeerId, signal)
        blocks.putPublic(job.wasmCid, module)
        if (job.inputDataCid !== undefined) input = await fetchInput(job.inputDataCid, rj.originatorPeerId, signal)
      } catch (err) {
        if (signal.aborted) throw err
        const reason: FailureReason = err instanceof MeshError && err.code === 'CidMismatch' ? 'CidMismatch' : 'FetchFailed'
        failure = { reason, detail: errMessage(err) }
        throw err
      }
      log(id, 'system', `fetched module (${module.length} bytes)${input !== undefined ? ` and input (${input.length} bytes)` : ''}`)
      transition(id, 'Running')
      queueStatus(rj, 'Running', `started; max_fuel ${String(job.maxFuel)}`)
      let lastProgress = 0
      const onProgress = (fuel: bigint): void => {
        fuelSoFar = fuel
        events.emit('job:progress', { announcementId: id, fuelUsed: fuel, maxFuel: job.maxFuel })
        const t = clock()
        if (t - lastProgress >= (opts.progressStatusMs ?? 1000)) {
          lastProgress = t
          queueStatus(rj, 'Running', `fuel ${String(fuel)} of ${String(job.maxFuel)}`)
        }
      }
      const onStderr = (chunk: Uint8Array): void => { log(id, 'stderr', Buffer.from(chunk).toString('utf8')) }
      const sjob = {
        module, input, maxFuel: job.maxFuel, timeoutMs: job.timeoutSeconds * 1000, signal,
        memoryLimitBytes: opts.memoryLimitBytes, outputLimitBytes: opts.outputLimitBytes, onStderr, onProgress
      }
      if (ann.job_params.is_interactive) {
        const handle = sandbox.runInteractive(sjob)
        rj.write = async (chunk) => { await handle.write(chunk) }
        rj.end = () => { handle.end() }
        for (const chunk of rj.pendingInput.splice(0)) await handle.write(chunk)
        if (rj.pendingEnd) handle.end()
        let seq = 0
        let chain = Promise.resolve()
        const sendOut = (data: Uint8Array, isFinal: boolean): void => {
          const n = seq++
          chain = chain.then(async () => {
            const { bytes } = signMessage('JobInteractiveOutputV1', {
              executor_did: identity.did, originator_did: job.originatorDid, output_id: `${id}/out/${n}`,
              announcement_id: id, sequence_number: n, is_final: isFinal, timestamp: formatTimestamp(clock()), data
            }, identity)
            await sendTo(rj.originatorPeerId, bytes, `output #${n}`, id)
          })
        }
        handle.onStdout((chunk) => {
          for (let off = 0; off < chunk.length; off += OUTPUT_CHUNK_BYTES) sendOut(chunk.subarray(off, off + OUTPUT_CHUNK_BYTES), false)
        })
        result = await handle.result
        sendOut(new Uint8Array(), true)
        await chain
      } else {
        result = await sandbox.run(sjob)
      }
    } catch (err) {
      if (failure === undefined) {
        failure = signal.aborted
          ? { reason: 'Cancelled', detail: 'stopped by the node owner or shutdown' }
          : { reason: 'InternalError', detail: errMessage(err) }
      }
    }
    const finishedAt = clock()
    const status: ExecutionReceiptV1['status'] = result !== undefined
      ? result.status
      : failure?.reason === 'Cancelled' ? 'Cancelled' : 'Failed'
    const failureReason: FailureReason | undefined = result !== undefined ? result.failure_reason : failure?.reason
    const detail = result !== undefined ? result.detail : failure?.detail
    const fuelUsed = result?.fuel_used ?? fuelSoFar
    const receipt = buildReceipt(job, {
      status, failureReason, fuelUsed, wallMs: result?.wall_ms ?? finishedAt - startedAt,
      peakMemory: result?.peak_memory_bytes ?? 0, output: result?.output, startedAt, finishedAt
    })
    // the output is served from memory at once; its durable copy is written while we finish up
    // (a failed write is reported, never an unhandled rejection)
    const outputCid = result !== undefined ? rawCid(result.output) : undefined
    const outputSaved = result !== undefined && outputCid !== undefined
      ? blocks.putOutput(outputCid, result.output).then(() => true, (err: unknown) => {
        events.emit('error:job', { announcementId: id, error: `saving the output failed: ${errMessage(err)}` })
        return false
      })
      : Promise.resolve(true)
    const receiptInput = {
      cid: receipt.cid, bytes: receipt.bytes, announcementId: id, status, failureReason,
      fuelUsed, price: job.price, createdAt: finishedAt
    }
    const terminal = status === 'CompletedSuccessfully' ? 'Completed' : status
    const text = status === 'CompletedSuccessfully'
      ? `completed: fuel ${String(fuelUsed)}, ${result?.output_bytes ?? 0} output bytes`
      : failureText(failureReason ?? 'InternalError', detail)
    transition(id, terminal, { details: text, failureReason: status === 'Failed' ? failureReason : undefined, receipt: receiptInput, outputCid })
    // the job is over: its slot is free for the next assignment while we tell the originator
    running.delete(id)
    log(id, 'system', `receipt ${receipt.cid}`)
    events.emit('job:finished', { announcementId: id, status, failureReason, fuelUsed, wallMs: result?.wall_ms ?? finishedAt - startedAt, receiptCid: receipt.cid, price: job.price })
    queueStatus(rj, terminal === 'Completed' ? 'Completed' : terminal, text)
    await rj.statusChain // every status reaches the originator before the receipt announcement (profile 6.3)
    await outputSaved
    await publishReceipt(rj, receipt)
  }

  // ------------------------------------------------------------------ direct handlers

  function onAssign (m: MessageOf<'AssignJobV1'>): void {
    const a = m.body
    const id = a.announcement_id
    const refuse = (reason: ConstructorParameters<typeof ProtocolError>[0], detail: string): never => {
      events.emit('job:refused', { announcementId: id, originatorDid: a.originator_did, reason, detail })
      throw new ProtocolError(reason, detail)
    }
    if (a.executor_did !== identity.did) refuse('NotAssignedToYou', `assignment names executor ${a.executor_did}, not us`)
    const ann = store.getAnnouncement(id)
    if (ann === undefined) return refuse('UnknownJob', `no announcement ${id} seen`)
    if (ann.originatorDid !== a.originator_did) refuse('NotYourJob', `announcement ${id} belongs to another originator`)
    const existing = store.getJob(id)
    if (existing !== undefined) {
      // a repeat of the assignment we accepted: ok, without running the job again (profile 6.3a)
      if (existing.originatorDid === a.originator_did) return
      refuse('WrongState', `job ${id} is already ${existing.state}`)
    }
    if (!accepting) refuse('PolicyRejected', 'this node is shutting down')
    if (ann.decision !== 'bid') refuse('PolicyRejected', `we decided not to bid on ${id}`)
    const bid = store.getBid(id)
    if (bid === undefined || bid.sentOk === false) refuse('WrongState', `we have no delivered bid for ${id}`)
    const decoded = decodeMessage(ann.raw, { maxBytes: 1024 * 1024 })
    if (decoded.kind !== 'message' || decoded.message.variant !== 'JobAnnouncementV1') return refuse('UnknownJob', `stored announcement ${id} is unreadable`)
    const announcement = decoded.message.body
    const now = clock()
    const { closesAt } = biddingCloses(announcement)
    if (now > closesAt + ASSIGNMENT_GRACE_MS) refuse('WrongState', `assignment came ${Math.round((now - closesAt) / 1000)} s after bidding closed (limit ${ASSIGNMENT_GRACE_MS / 1000} s)`)
    if (announcement.job_params.deadline !== undefined && now > Date.parse(announcement.job_params.deadline)) refuse('WrongState', 'the job deadline has passed')
    const limit = opts.maxConcurrent?.() ?? Infinity
    if (running.size >= limit) refuse('PolicyRejected', `already running ${running.size} job(s), limit ${limit}`)

    const jp = announcement.job_params
    const job = store.createJob({
      announcementId: id, originatorDid: a.originator_did, price: bid?.price, wasmCid: jp.wasm_cid, inputDataCid: jp.input_data_cid,
      maxFuel: asFuel(jp.max_fuel), timeoutSeconds: jp.timeout_seconds, isInteractive: jp.is_interactive,
      region: ann.region, at: now
    })
    transition(id, 'Accepted')
    const rj: Running = {
      announcementId: id, originatorDid: a.originator_did, originatorPeerId: peerIdFromDid(a.originator_did),
      controller: new AbortController(), done: Promise.resolve(), nextInputSeq: 0, inputClosed: false, pendingInput: [], pendingEnd: false, statusChain: Promise.resolve()
    }
    running.set(id, rj)
    events.emit('job:accepted', { announcementId: id, originatorDid: a.originator_did })
    // answer {ok:true} now; the job runs after the handler returns
    rj.done = (async () => {
      await Promise.resolve()
      try {
        await runJob(store.getJob(id) ?? job, announcement, rj)
      } catch (err) {
        events.emit('error:job', { announcementId: id, error: `job ended abnormally: ${errMessage(err)}` })
      } finally {
        // whatever ended the job, its sandbox run ends with it
        rj.controller.abort(new Error('job ended'))
        running.delete(id)
      }
    })()
    inFlight.add(rj.done)
    void rj.done.finally(() => inFlight.delete(rj.done))
  }

  function onInput (m: MessageOf<'JobInteractiveInputV1'>): void {
    const b = m.body
    const id = b.announcement_id
    if (b.executor_did !== identity.did) throw new ProtocolError('NotAssignedToYou', 'input names another executor')
    const job = store.getJob(id)
    if (job === undefined) throw new ProtocolError('UnknownJob', `no job ${id}`)
    if (job.originatorDid !== b.originator_did) throw new ProtocolError('NotYourJob', `job ${id} belongs to another originator`)
    if (!job.isInteractive) throw new ProtocolError('WrongState', `job ${id} is not interactive`)
    const rj = running.get(id)
    if (rj === undefined) throw new ProtocolError('WrongState', `job ${id} is ${job.state}`)
    if (rj.inputClosed) throw new ProtocolError('WrongState', `input #${b.sequence_number} after the final input`)
    if (b.sequence_number < rj.nextInputSeq) throw new ProtocolError('Replay', `input #${b.sequence_number} already received`)
    if (b.sequence_number > rj.nextInputSeq) throw new ProtocolError('WrongState', `input #${b.sequence_number} out of sequence: expected #${rj.nextInputSeq}`)
    rj.nextInputSeq++
    if (b.is_final) rj.inputClosed = true
    if (rj.write !== undefined) {
      if (b.data.length > 0) void rj.write(b.data)
      if (b.is_final) rj.end?.()
    } else {
      if (b.data.length > 0) rj.pendingInput.push(b.data)
      if (b.is_final) rj.pendingEnd = true
    }
  }

  // ------------------------------------------------------------------ crash recovery

  /** The signed Failed(InternalError) receipt of a crash-interrupted job: the stored one, or a new one (once). */
  function interruptedReceipt (job: JobRow): { bytes: Uint8Array, cid: string } {
    const existing = store.receiptsForJob(job.announcementId)[0]
    const row = existing !== undefined ? store.getReceipt(existing.cid) : undefined
    if (row !== undefined) return { bytes: row.bytes, cid: row.cid }
    const t = clock()
    const receipt = buildReceipt(job, { status: 'Failed', failureReason: 'InternalError', fuelUsed: 0n, wallMs: 0, peakMemory: 0, startedAt: job.createdAt, finishedAt: t })
    store.putReceipt({ cid: receipt.cid, bytes: receipt.bytes, announcementId: job.announcementId, status: 'Failed', failureReason: 'InternalError', fuelUsed: 0, price: job.price, createdAt: t })
    events.emit('job:finished', { announcementId: job.announcementId, status: 'Failed', failureReason: 'InternalError', fuelUsed: 0n, wallMs: 0, receiptCid: receipt.cid, price: job.price })
    return receipt
  }

  /**
   * Tells the originators of crash-interrupted jobs (failed at start) that their job failed: the
   * Failed status and the receipt. A job is marked notified only when the originator actually
   * received the news; otherwise it is tried again later (and on the next start). Only jobs failed
   * by `store.failInterruptedJobs()` are listed, so a job this process runs is never touched.
   */
  let notifying = false
  async function notifyInterrupted (): Promise<void> {
    if (notifying) return
    notifying = true
    try {
      for (const { job } of store.unnotifiedFailures()) {
        if (running.has(job.announcementId)) continue
        const receipt = interruptedReceipt(job)
        const target = { announcementId: job.announcementId, originatorDid: job.originatorDid, originatorPeerId: peerIdFromDid(job.originatorDid) }
        const told = await sendStatus(target, 'Failed', job.details ?? 'InternalError: executor restarted', true)
        const announced = await publishReceipt(target, receipt, true)
        if (told || announced) store.markFailureNotified(job.announcementId)
      }
    } finally {
      notifying = false
    }
  }
  let notifyTimer: NodeJS.Timeout | undefined

  return {
    events,
    async start () {
      // before any assignment is accepted: what a previous process left active is failed now, once
      for (const { job } of store.failInterruptedJobs(clock())) interruptedReceipt(job)
      accepting = true
      unhandle.push(node.handleDirect('AssignJobV1', (m) => { onAssign(m) }))
      unhandle.push(node.handleDirect('JobInteractiveInputV1', (m) => { onInput(m) }))
      // in the background: the originators may only become reachable once bootstrap connections are up
      const notify = (): void => {
        notifyInterrupted().catch((err: unknown) => {
          events.emit('error:job', { announcementId: '', error: `telling originators of interrupted jobs: ${errMessage(err)}` })
        })
      }
      setImmediate(notify)
      notifyTimer = setInterval(notify, opts.recoveryRetryMs ?? 30_000)
      notifyTimer.unref()
    },
    async stop (o = {}) {
      accepting = false
      clearInterval(notifyTimer)
      const grace = o.graceMs ?? 30_000
      const all = [...running.values()]
      if (all.length > 0) {
        let timer: NodeJS.Timeout | undefined
        const timedOut = new Promise<void>((resolve) => { timer = setTimeout(resolve, grace) })
        await Promise.race([Promise.all(all.map(async (r) => { await r.done })), timedOut])
        clearTimeout(timer)
        for (const r of running.values()) r.controller.abort(new Error('shutdown grace period over'))
        await Promise.all([...running.values()].map(async (r) => { await r.done }))
      }
      // jobs that finished but are still telling their originator
      await Promise.all([...inFlight])
      for (const u of unhandle.splice(0)) u()
      // give pending DHT publications a moment, then abort them (the node is about to stop)
      if (publications.size > 0) {
        let t: NodeJS.Timeout | undefined
        await Promise.race([Promise.all([...publications]), new Promise((resolve) => { t = setTimeout(resolve, Math.min(grace, 5000)) })])
        clearTimeout(t)
        dhtAbort.abort(new Error('executor stopping'))
        await Promise.all([...publications])
      }
    },
    cancel (id) {
      const r = running.get(id)
      if (r === undefined) return false
      r.controller.abort(new Error('cancelled by the owner'))
      return true
    },
    runningJobs: () => [...running.keys()]
  }
}
