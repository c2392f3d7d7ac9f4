/**
 * The originator: the side of the market that submits jobs (wire profile 4–6).
 *
 * submit() runs one job through its phases (phases/*.ts):
 *   announce        serve the module (public) and the input (assignee only) as blocks, publish
 *                   JobAnnouncementV1 (global + region topic)
 *   collect bids    direct JobBidV1, routed by announcement_id (handlers.ts)
 *   assign          select per ExecutionPolicy (select.ts) → AssignJobV1; an assignee that refuses,
 *                   or sends no status within `acceptTimeoutMs`, is replaced by the next bidder
 *   await receipt   JobStatusUpdateV1 (only from the assignee) → ExecutionReceiptAvailableV1
 *   fetch + verify  the receipt block (DHT first, then the executor), verified completely (verify.ts)
 *   collect output  streamed (interactive) or fetched from the executor, checked against the receipt
 * See docs/ORIGINATOR.md.
 */
import { randomUUID } from 'node:crypto'
import { rawCid } from '../../shared/protocol/index.js'
import { createIntakeLimiter, DEFAULT_INTAKE } from '../../shared/policy/index.js'
import { noLogger } from '../log/index.js'
import type { Store } from '../store/index.js'
import { AccessBlockStore } from './blocks.js'
import { checkJob } from './check.js'
import type { OriginatorContext, Submission } from './context.js'
import { newSubmission } from './context.js'
import { InvalidJobError, OriginatorError, OriginatorTimeoutError } from './errors.js'
import { registerHandlers } from './handlers.js'
import { Notifier } from './pending.js'
import type { Pending } from './pending.js'
import { announce } from './phases/announce.js'
import { assignWithFallback, collectBids } from './phases/assign.js'
import { collectOutput } from './phases/output.js'
import { awaitReceipt, fetchAndVerify, receiptInvalid } from './phases/receipt.js'
import { startStdin } from './phases/stdin.js'
import { createReputationBook } from './reputation.js'
import { DEFAULT_REPUTATION } from './select.js'
import type { Originator, OriginatorEvent, OriginatorOptions, SubmitJob, SubmitOptions, SubmitResult, SubmitTimings } from './types.js'

export type {
  Originator, OriginatorEvent, OriginatorOptions, SubmitJob, SubmitOptions, SubmitResult, SubmitTimings
} from './types.js'

function contextOf (options: OriginatorOptions): OriginatorContext {
  const { node, identity, store } = options
  if (node.did !== identity.did) throw new InvalidJobError(`the mesh node runs as ${node.did}, not as the originator ${identity.did}`)
  const blocks = options.blocks ?? (node.blockStore instanceof AccessBlockStore ? node.blockStore : undefined)
  if (blocks === undefined) {
    throw new InvalidJobError('the originator needs an AccessBlockStore: create the mesh node with { blockStore: new AccessBlockStore() } or pass options.blocks')
  }
  const book = createReputationBook(store)
  const log = (options.log ?? noLogger).child({ sub: 'originator' })
  return {
    node, identity, blocks, book, log,
    now: options.now ?? Date.now,
    settings: {
      defaultReputation: options.defaultReputation ?? DEFAULT_REPUTATION,
      acceptTimeoutMs: options.acceptTimeoutMs ?? 10_000,
      bidGraceMs: options.bidGraceMs ?? 1000,
      resultGraceMs: options.resultGraceMs ?? 30_000,
      receiptDhtTimeoutMs: options.receiptDhtTimeoutMs ?? 2000,
      receiptDirectAfterMs: options.receiptDirectAfterMs,
      receiptDhtAfterMs: options.receiptDhtAfterMs ?? 300,
      maxOutputBytes: options.maxOutputBytes ?? 16 * 1024 * 1024,
      reachableWaitMs: options.reachableWaitMs ?? 5000
    },
    reputationOf: (did) => options.reputation?.(did) ?? book.get(did),
    storeSafe: (fn: (s: Store) => void): void => {
      if (store === undefined) return
      // bookkeeping must never break a submission
      try { fn(store) } catch (err) { log.warn({ err }, 'recording a submission in the store failed') }
    },
    jobs: new Map(),
    intake: createIntakeLimiter(DEFAULT_INTAKE, Date.now)
  }
}

/** The phases in order, from the announcement to the verified output. */
async function runPhases (sub: Submission): Promise<SubmitResult> {
  const { ctx, p } = sub
  const announcedAt = await announce(sub)
  await collectBids(sub)
  const { chosen, attempts, assignedAt } = await assignWithFallback(sub)
  sub.endBidding?.()
  const stdin = startStdin(sub, chosen)
  if (stdin !== undefined) {
    if (stdin.iter !== undefined) sub.stdinIter = stdin.iter
    sub.stdinDone = stdin.done
  }
  const receiptCid = await awaitReceipt(sub, chosen)
  const invalid = receiptInvalid(sub, chosen, receiptCid)
  const { bytes, via, receipt, fetchedAt } = await fetchAndVerify(sub, chosen, receiptCid, invalid)
  const output = await collectOutput(sub, chosen, receipt, invalid)
  ctx.book.record(chosen.executorDid, 'completed')
  sub.setState('Completed')
  const verifiedAt = Date.now()
  sub.emit({ type: 'receipt:verified', announcementId: p.id, receiptCid, status: receipt.status })
  const timings: SubmitTimings = { announcedAt, assignedAt, acceptedAt: p.acceptedAt, receiptAvailableAt: p.receiptAvailableAt, receiptFetchedAt: fetchedAt, verifiedAt }
  if (p.firstBidAt !== undefined) timings.firstBidAt = p.firstBidAt
  const result: SubmitResult = {
    announcementId: p.id, output, receipt, receiptCid, receiptBytes: bytes, receiptVia: via, executorDid: chosen.executorDid,
    bidCount: p.bids.length, attempts, timings
  }
  if (chosen.price !== undefined) result.price = chosen.price
  return result
}

/** A new job in flight: its blocks served, routed by its announcement id. */
function pendingJob (ctx: OriginatorContext, job: SubmitJob, opts: SubmitOptions, checked: ReturnType<typeof checkJob>): Pending {
  const emit = (e: OriginatorEvent): void => {
    try { opts.onEvent?.(e) } catch (err) { ctx.log.warn({ err, event: e.type }, 'a submission listener threw') }
  }
  const p: Pending = {
    id: randomUUID(), wasmCid: rawCid(job.module), interactive: job.interactive === true, policy: checked.policy, windowClosesAt: Infinity,
    bidGraceMs: ctx.settings.bidGraceMs, bids: [], accepted: false, running: false, outNext: 0, outFinal: false, outChunks: [], notifier: new Notifier(), emit
  }
  if (job.input !== undefined) p.inputCid = rawCid(job.input)
  if (opts.onOutput !== undefined) p.onOutput = opts.onOutput
  ctx.blocks.addPublic(p.wasmCid, job.module)
  if (p.inputCid !== undefined && job.input !== undefined) ctx.blocks.addPrivate(p.inputCid, job.input)
  ctx.jobs.set(p.id, p)
  return p
}

/** Ends a submission: its grants and blocks released, its stdin source closed. */
function releaseJob (sub: Submission): void {
  const { ctx, p } = sub
  ctx.jobs.delete(p.id)
  ctx.blocks.release(p.wasmCid)
  if (p.inputCid !== undefined) {
    // this job's grant to its executor ends with the job (another job's grant to it stays)
    if (p.assignee !== undefined) ctx.blocks.revoke(p.inputCid, p.assignee.executorPeerId)
    ctx.blocks.release(p.inputCid)
  }
  for (const end of sub.cleanups.splice(0)) end()
  const iter = sub.stdinIter
  if (iter?.return !== undefined) void iter.return().catch((err: unknown) => { ctx.log.debug({ err }, 'closing the interactive stdin source failed') })
}

export function createOriginator (options: OriginatorOptions): Originator {
  const ctx = contextOf(options)
  let closed = false
  const unregister = registerHandlers(ctx)

  async function submit (job: SubmitJob, opts: SubmitOptions = {}): Promise<SubmitResult> {
    if (closed) throw new OriginatorError('Closed', 'the originator is closed')
    const checked = checkJob(job)
    if (!ctx.node.isStarted) throw new OriginatorError('InvalidJob', 'the mesh node is not started')
    const ctl = new AbortController()
    const onUserAbort = (): void => { ctl.abort(new OriginatorError('Aborted', 'submission aborted')) }
    if (opts.signal?.aborted === true) onUserAbort()
    opts.signal?.addEventListener('abort', onUserAbort, { once: true })
    let overall: ReturnType<typeof setTimeout> | undefined
    if (opts.timeoutMs !== undefined) {
      overall = setTimeout(() => { ctl.abort(new OriginatorTimeoutError(`no verified receipt within ${opts.timeoutMs} ms`)) }, opts.timeoutMs)
    }
    const signal = ctl.signal
    const sub = newSubmission(ctx, job, checked, opts, pendingJob(ctx, job, opts, checked), signal)
    try {
      return await runPhases(sub)
    } catch (err) {
      if (signal.aborted && err === signal.reason) {
        const reason = signal.reason as OriginatorError
        if (reason instanceof OriginatorTimeoutError) {
          if (sub.p.assignee !== undefined) ctx.book.record(sub.p.assignee.executorDid, 'failed')
          sub.setState('Timeout')
        } else sub.setState('Aborted')
        // an interactive job that runs on: its stdin is being closed (phases/stdin.ts), let that go out
        await sub.stdinDone
        throw reason
      }
      if (sub.state !== 'Completed' && !(err instanceof OriginatorError)) sub.setState('Error')
      throw err
    } finally {
      clearTimeout(overall)
      opts.signal?.removeEventListener('abort', onUserAbort)
      if (!signal.aborted) ctl.abort(new OriginatorError('Closed', 'submission finished'))
      releaseJob(sub)
    }
  }

  return {
    did: ctx.identity.did,
    blocks: ctx.blocks,
    reputation: ctx.book,
    submit,
    pending: () => [...ctx.jobs.keys()],
    close () {
      if (closed) return
      closed = true
      unregister()
      for (const p of ctx.jobs.values()) {
        p.closed = new OriginatorError('Closed', 'the originator was closed')
        p.notifier.notify()
      }
    }
  }
}
