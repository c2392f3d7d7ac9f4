/**
 * One job, from acceptance to its receipt: Accepted → FetchingInputs (module and input by CID from the
 * originator, hash checked) → Running (the sandbox, progress statuses; interactive stdin/stdout) →
 * Completed | Failed | Cancelled with a signed receipt stored in the same transaction as the final
 * state and the earning, then the statuses and the receipt announced, in that order (profile 6.3).
 */
import {
  formatTimestamp, rawCid, signMessage, type ExecutionReceiptV1, type FailureReason, type JobAnnouncementV1
} from '../../shared/protocol/index.js'
import { failureText } from '../../shared/text.js'
import { createChunkPacer, INTERACTIVE_MIN_INTERVAL_MS, MeshError } from '../mesh/index.js'
import type { SandboxJob, SandboxResult } from '../sandbox/index.js'
import type { JobRow } from '../store/index.js'
import type { Outbox } from './outbox.js'
import { errMessage, type ExecutorContext, type Running } from './types.js'

const OUTPUT_CHUNK_BYTES = 256 * 1024

/** A job that could not run to a sandbox result, and why. */
class JobFailure extends Error {
  override name = 'JobFailure'
  constructor (readonly reason: FailureReason, detail: string) { super(detail) }
}

async function fetchInputs (ctx: ExecutorContext, out: Outbox, job: JobRow, rj: Running): Promise<{ module: Uint8Array, input?: Uint8Array }> {
  const signal = rj.controller.signal
  const fetch = async (cid: string): Promise<Uint8Array> => await ctx.opts.node.fetchBlock(cid, { from: rj.originatorPeerId, signal, store: false, timeoutMs: ctx.opts.fetchTimeoutMs })
  out.transition(job.announcementId, 'FetchingInputs')
  out.queueStatus(rj, 'FetchingInputs', `fetching module ${job.wasmCid}${job.inputDataCid !== undefined ? ' and input' : ''}`)
  try {
    const module = await fetch(job.wasmCid)
    ctx.opts.blocks.putPublic(job.wasmCid, module)
    const input = job.inputDataCid !== undefined ? await fetch(job.inputDataCid) : undefined
    out.log(job.announcementId, 'system', `fetched module (${module.length} bytes)${input !== undefined ? ` and input (${input.length} bytes)` : ''}`)
    return { module, ...(input !== undefined ? { input } : {}) }
  } catch (err) {
    if (signal.aborted) throw err
    throw new JobFailure(err instanceof MeshError && err.code === 'CidMismatch' ? 'CidMismatch' : 'FetchFailed', errMessage(err))
  }
}

/** Interactive: queued stdin first, then stdout streamed back as numbered JobInteractiveOutputV1 (the last one final). */
async function runInteractive (ctx: ExecutorContext, out: Outbox, job: JobRow, rj: Running, sjob: SandboxJob): Promise<SandboxResult> {
  const { identity } = ctx.opts
  const id = job.announcementId
  const handle = ctx.opts.sandbox.runInteractive(sjob)
  rj.write = async (chunk) => { await handle.write(chunk) }
  rj.end = () => { handle.end() }
  for (const chunk of rj.pendingInput.splice(0)) await handle.write(chunk)
  if (rj.pendingEnd) handle.end()
  let seq = 0
  const sendOut = async (data: Uint8Array, isFinal: boolean): Promise<void> => {
    const n = seq++
    const { bytes } = signMessage('JobInteractiveOutputV1', {
      executor_did: identity.did, originator_did: job.originatorDid, output_id: `${id}/out/${n}`,
      announcement_id: id, sequence_number: n, is_final: isFinal, timestamp: formatTimestamp(ctx.clock()), data
    }, identity)
    await out.sendTo(rj.originatorPeerId, bytes, `output #${n}`, id)
  }
  // stdout written while a chunk is on its way is coalesced into the next one (≤ 50 messages/s)
  const pacer = createChunkPacer({ maxBytes: OUTPUT_CHUNK_BYTES, minIntervalMs: INTERACTIVE_MIN_INTERVAL_MS, send: async (d) => { await sendOut(d, false) } })
  handle.onStdout((chunk) => { pacer.push(chunk) })
  const result = await handle.result
  await pacer.drain()
  await sendOut(new Uint8Array(), true)
  return result
}

/** Runs the module; progress goes out as events and (throttled) Running statuses. */
async function execute (ctx: ExecutorContext, out: Outbox, job: JobRow, ann: JobAnnouncementV1, rj: Running, inputs: { module: Uint8Array, input?: Uint8Array }, progress: { fuel: bigint }): Promise<SandboxResult> {
  const id = job.announcementId
  out.transition(id, 'Running')
  out.queueStatus(rj, 'Running', `started; max_fuel ${String(job.maxFuel)}`)
  let lastStatus = 0
  const sjob: SandboxJob = {
    module: inputs.module, input: inputs.input, maxFuel: job.maxFuel, timeoutMs: job.timeoutSeconds * 1000, signal: rj.controller.signal,
    memoryLimitBytes: ctx.opts.memoryLimitBytes, outputLimitBytes: ctx.opts.outputLimitBytes,
    onStderr: (chunk) => { out.log(id, 'stderr', Buffer.from(chunk).toString('utf8')) },
    onProgress: (fuel) => {
      progress.fuel = fuel
      ctx.events.emit('job:progress', { announcementId: id, fuelUsed: fuel, maxFuel: job.maxFuel })
      const t = ctx.clock()
      if (t - lastStatus >= (ctx.opts.progressStatusMs ?? 1000)) {
        lastStatus = t
        out.queueStatus(rj, 'Running', `fuel ${String(fuel)} of ${String(job.maxFuel)}`)
      }
    }
  }
  return ann.job_params.is_interactive ? await runInteractive(ctx, out, job, rj, sjob) : await ctx.opts.sandbox.run(sjob)
}

interface Outcome { result?: SandboxResult, failure?: { reason: FailureReason, detail: string }, startedAt: number, fuelSoFar: bigint }

/** Records the outcome (receipt + final state + earning, durably), frees the slot, tells the originator. */
async function finish (ctx: ExecutorContext, out: Outbox, job: JobRow, rj: Running, o: Outcome): Promise<void> {
  const id = job.announcementId
  const { result, failure } = o
  const finishedAt = ctx.clock()
  const status: ExecutionReceiptV1['status'] = result?.status ?? (failure?.reason === 'Cancelled' ? 'Cancelled' : 'Failed')
  const failureReason = result !== undefined ? result.failure_reason : failure?.reason
  const fuelUsed = result?.fuel_used ?? o.fuelSoFar
  const wallMs = result?.wall_ms ?? finishedAt - o.startedAt
  const receipt = out.buildReceipt(job, { status, failureReason, fuelUsed, wallMs, peakMemory: result?.peak_memory_bytes ?? 0, output: result?.output, startedAt: o.startedAt, finishedAt })
  // the output is served from memory at once; its durable copy is written while we finish up
  // (a failed write is reported, never an unhandled rejection)
  const outputCid = result !== undefined ? rawCid(result.output) : undefined
  const outputSaved = result !== undefined && outputCid !== undefined
    ? ctx.opts.blocks.putOutput(outputCid, result.output).catch((err: unknown) => {
      ctx.events.emit('error:job', { announcementId: id, error: `saving the output failed: ${errMessage(err)}` })
    })
    : Promise.resolve()
  const terminal = status === 'CompletedSuccessfully' ? 'Completed' : status
  const text = status === 'CompletedSuccessfully'
    ? `completed: fuel ${String(fuelUsed)}, ${result?.output_bytes ?? 0} output bytes`
    : failureText(failureReason ?? 'InternalError', result !== undefined ? result.detail : failure?.detail)
  out.transition(id, terminal, {
    details: text,
    failureReason: status === 'Failed' ? failureReason : undefined,
    receipt: { cid: receipt.cid, bytes: receipt.bytes, announcementId: id, status, failureReason, fuelUsed, price: job.price, createdAt: finishedAt },
    outputCid
  })
  // the job is over: its slot is free for the next assignment while we tell the originator
  ctx.running.delete(id)
  out.log(id, 'system', `receipt ${receipt.cid}`)
  ctx.events.emit('job:finished', { announcementId: id, status, failureReason, fuelUsed, wallMs, receiptCid: receipt.cid, price: job.price })
  out.queueStatus(rj, terminal, text)
  await rj.statusChain // every status reaches the originator before the receipt announcement (profile 6.3)
  await outputSaved
  await out.publishReceipt(rj, receipt)
}

export async function runJob (ctx: ExecutorContext, out: Outbox, job: JobRow, ann: JobAnnouncementV1, rj: Running): Promise<void> {
  const outcome: Outcome = { startedAt: ctx.clock(), fuelSoFar: 0n }
  const progress = { fuel: 0n }
  try {
    out.queueStatus(rj, 'Accepted')
    const inputs = await fetchInputs(ctx, out, job, rj)
    outcome.result = await execute(ctx, out, job, ann, rj, inputs, progress)
  } catch (err) {
    outcome.failure = err instanceof JobFailure
      ? { reason: err.reason, detail: err.message }
      : rj.controller.signal.aborted
        ? { reason: 'Cancelled', detail: 'stopped by the node owner or shutdown' }
        : { reason: 'InternalError', detail: errMessage(err) }
  }
  outcome.fuelSoFar = progress.fuel
  await finish(ctx, out, job, rj, outcome)
}
