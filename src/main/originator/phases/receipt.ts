/**
 * Phases 4 and 5: await the receipt announcement (direct or gossip, from the assignee, within the
 * job's timeout + `resultGraceMs`), then fetch the receipt block (DHT first, the executor after a
 * head start) and verify it completely.
 */
import { MAX_RECEIPT_BYTES } from '../../../shared/protocol/index.js'
import type { ExecutionReceiptV1, FailureReason } from '../../../shared/protocol/index.js'
import { failureText } from '../../../shared/text.js'
import { MeshError } from '../../mesh/index.js'
import { errText } from '../check.js'
import type { OriginatorContext, Submission } from '../context.js'
import { ExecutorFailedError, OriginatorTimeoutError, ReceiptInvalidError } from '../errors.js'
import type { CandidateBid } from '../select.js'
import { verifyJobReceipt } from '../verify.js'

/** Failure reasons that are the job's own doing: an honest executor reporting them keeps its reputation. */
const JOB_FAULTS = new Set<FailureReason>(['FuelExhausted', 'Trap', 'InvalidModule', 'MemoryLimit', 'OutputLimit', 'Timeout'])

/** Records a receipt (or output) that failed `check`, and throws ReceiptInvalidError. */
export type Invalid = (check: string, detail: string) => never

export function receiptInvalid (sub: Submission, chosen: CandidateBid, receiptCid: string): Invalid {
  const { ctx, p } = sub
  return (check, detail) => {
    ctx.book.record(chosen.executorDid, 'failed')
    sub.setState('ReceiptInvalid')
    ctx.storeSafe((s) => s.setSubmittedReceipt(p.id, receiptCid, false, ctx.now()))
    sub.emit({ type: 'receipt:invalid', announcementId: p.id, receiptCid, check, detail })
    throw new ReceiptInvalidError(check, `receipt ${receiptCid} from ${chosen.executorDid} is invalid (${check}): ${detail}`, receiptCid)
  }
}

/** Waits for the assignee's ExecutionReceiptAvailableV1; returns the receipt CID. */
export async function awaitReceipt (sub: Submission, chosen: CandidateBid): Promise<string> {
  const { ctx, p } = sub
  const grace = ctx.settings.resultGraceMs
  const execDeadline = Date.now() + sub.job.timeoutSeconds * 1000 + grace
  if (!(await sub.until(() => p.receiptCid !== undefined, execDeadline))) {
    ctx.book.record(chosen.executorDid, 'failed')
    sub.setState('Timeout')
    const last = p.lastStatus === undefined ? 'no status' : `last status ${p.lastStatus.status}${p.lastStatus.details !== undefined ? ` (${p.lastStatus.details})` : ''}`
    throw new OriginatorTimeoutError(`no receipt for ${p.id} from ${chosen.executorDid} within timeout_seconds + ${grace / 1000} s; ${last}`)
  }
  return p.receiptCid as string
}

export interface FetchedReceipt { bytes: Uint8Array, via: 'dht' | 'executor', receipt: ExecutionReceiptV1, fetchedAt: number }

/**
 * Fetches and verifies the receipt. A verified receipt of a failed or cancelled job throws
 * ExecutorFailedError (the executor keeps its reputation when the job itself was at fault).
 */
export async function fetchAndVerify (sub: Submission, chosen: CandidateBid, receiptCid: string, invalid: Invalid): Promise<FetchedReceipt> {
  const { ctx, p, signal } = sub
  const tf = Date.now()
  const { bytes, via } = await fetchReceipt(ctx, receiptCid, chosen.executorPeerId, signal).catch((err: unknown) => {
    signal.throwIfAborted()
    if (err instanceof MeshError && err.code === 'CidMismatch') invalid('cid', errText(err))
    return invalid('fetch', `the receipt block could not be fetched: ${errText(err)}`)
  })
  const fetchedAt = Date.now()
  sub.emit({ type: 'receipt:fetched', announcementId: p.id, receiptCid, via, ms: fetchedAt - tf })
  const v = verifyJobReceipt(bytes, {
    receiptCid, announcementId: p.id, originatorDid: ctx.identity.did, executorDid: chosen.executorDid, wasmCid: p.wasmCid,
    ...(p.inputCid !== undefined ? { inputCid: p.inputCid } : {}), ...(chosen.price !== undefined ? { price: chosen.price } : {})
  })
  if (!v.ok) invalid(v.check, v.detail)
  const receipt = (v as { receipt: ExecutionReceiptV1 }).receipt
  ctx.storeSafe((s) => s.setSubmittedReceipt(p.id, receiptCid, true, ctx.now()))
  if (receipt.status !== 'CompletedSuccessfully') {
    const reason = (receipt.failure_reason ?? 'Cancelled')
    ctx.book.record(chosen.executorDid, JOB_FAULTS.has(reason) ? 'completed' : 'failed')
    sub.setState('Failed')
    sub.emit({ type: 'receipt:verified', announcementId: p.id, receiptCid, status: receipt.status, failureReason: reason })
    throw new ExecutorFailedError(reason, `job ${p.id} ${receipt.status === 'Cancelled' ? 'was cancelled' : 'failed'} on ${chosen.executorDid}: ${failureText(reason, p.lastStatus?.details)}`, receipt, receiptCid, bytes)
  }
  return { bytes, via, receipt, fetchedAt }
}

type Via = 'dht' | 'executor'

/**
 * The receipt block, from the executor that announced it (it holds the block; one round trip), or
 * from the DHT: the DHT lookup starts when the executor fails or has not answered within
 * `receiptDhtAfterMs` — so an executor that went offline after announcing does not lose the job.
 * With `receiptDirectAfterMs` set, the older order: the DHT first, the executor after that head start.
 * The first verified answer wins (both paths check the bytes against the CID; the DHT record
 * validator also checks the signature); when neither has it, the executor's error is the one reported.
 */
export async function fetchReceipt (ctx: OriginatorContext, cid: string, executorPeerId: string, signal: AbortSignal): Promise<{ bytes: Uint8Array, via: Via }> {
  const { node, settings } = ctx
  const ctl = new AbortController()
  const sig = AbortSignal.any([signal, ctl.signal])
  const executor = async (): Promise<Uint8Array> => await node.fetchBlock(cid, { from: executorPeerId, store: false, maxBytes: MAX_RECEIPT_BYTES, signal: sig, maxProviders: 3 })
  const dht = async (): Promise<Uint8Array | undefined> => await node.getReceipt(cid, { signal: AbortSignal.any([sig, AbortSignal.timeout(settings.receiptDhtTimeoutMs)]) })
  const dhtFirst = settings.receiptDirectAfterMs !== undefined
  try {
    return await new Promise((resolve, reject) => {
      let settled = false
      const done = { executor: false, dht: false }
      let executorError: unknown
      const win = (bytes: Uint8Array, via: Via): void => {
        if (settled) return
        settled = true
        resolve({ bytes, via })
      }
      const maybeFail = (): void => {
        if (settled || !done.executor || !done.dht) return
        settled = true
        reject(executorError ?? new Error('the receipt block was not found'))
      }
      const started = { executor: false, dht: false }
      const start = (via: Via): void => {
        if (started[via] || settled) return
        started[via] = true
        const ended = (): void => {
          done[via] = true
          // the first path gave nothing: the other one now, at once
          start(via === 'dht' ? 'executor' : 'dht')
          maybeFail()
        }
        if (via === 'executor') {
          executor().then((b) => { win(b, 'executor') }, (err: unknown) => { executorError = err ?? new Error('fetch failed'); ended() })
        } else {
          dht().then((b) => { if (b !== undefined) win(b, 'dht'); else ended() }, () => { ended() })
        }
      }
      const first: Via = dhtFirst ? 'dht' : 'executor'
      const timer = setTimeout(() => { start(first === 'dht' ? 'executor' : 'dht') }, dhtFirst ? settings.receiptDirectAfterMs : settings.receiptDhtAfterMs)
      sig.addEventListener('abort', () => { clearTimeout(timer) }, { once: true })
      start(first)
    })
  } finally {
    ctl.abort()
  }
}
