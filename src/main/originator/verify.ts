/**
 * Complete receipt verification on the originator's side (wire profile 6.4). Pure functions: the
 * network part (fetching the receipt and the output block) lives in originator.ts.
 *
 * Checks, in order (the first failure is reported with the check's name):
 *  block     — decodes as a canonical ExecutionReceiptV1 envelope (verifyReceiptBlock)
 *  cid       — the block hashes to the announced receipt_cid
 *  signature — executor_did's Ed25519 signature verifies
 *  announcement, originator, executor, wasm, input, price — equal what we announced / assigned
 *  status    — failure_reason present iff status is not CompletedSuccessfully; output_cid present on success
 *  times     — started_at ≤ finished_at
 * then, with the output bytes: output (raw CID equals output_cid) and output-size (= resource_usage.output_bytes).
 */
import { parseTimestamp, rawCid, verifyReceiptBlock } from '../../shared/protocol/index.js'
import type { ExecutionReceiptV1 } from '../../shared/protocol/index.js'

export interface ExpectedReceipt {
  receiptCid: string
  announcementId: string
  originatorDid: string
  executorDid: string
  wasmCid: string
  inputCid?: string
  /** the accepted bid's price; undefined: the bid had none */
  price?: bigint
}

export type ReceiptCheck =
  | { ok: true, receipt: ExecutionReceiptV1, cid: string }
  | { ok: false, check: string, detail: string }

const big = (v: number | bigint | undefined | null): bigint | undefined => (v === undefined || v === null ? undefined : BigInt(v))

export function verifyJobReceipt (bytes: Uint8Array, e: ExpectedReceipt): ReceiptCheck {
  const v = verifyReceiptBlock(bytes, e.receiptCid)
  if (!v.ok) {
    const check = v.reason === 'CidMismatch' ? 'cid' : v.reason === 'BadSignature' ? 'signature' : 'block'
    return { ok: false, check, detail: `${v.reason}: ${v.detail}` }
  }
  const r = v.receipt
  const same = (check: string, field: string, got: unknown, want: unknown): ReceiptCheck | undefined =>
    got === want ? undefined : { ok: false, check, detail: `receipt ${field} is ${got === undefined ? 'absent' : String(got)}, expected ${want === undefined ? 'absent' : String(want)}` }
  const mismatch =
    same('announcement', 'announcement_id', r.announcement_id, e.announcementId) ??
    same('originator', 'originator_did', r.originator_did, e.originatorDid) ??
    same('executor', 'executor_did', r.executor_did, e.executorDid) ??
    same('wasm', 'wasm_cid', r.wasm_cid, e.wasmCid) ??
    same('input', 'input_data_cid', r.input_data_cid ?? undefined, e.inputCid) ??
    same('price', 'price', big(r.price), e.price)
  if (mismatch !== undefined) return mismatch
  const failed = r.status !== 'CompletedSuccessfully'
  const hasReason = r.failure_reason !== undefined && r.failure_reason !== null
  if (failed !== hasReason) {
    return { ok: false, check: 'status', detail: `receipt status ${r.status} ${hasReason ? 'must not carry' : 'must carry'} a failure_reason` }
  }
  if (!failed && (r.output_cid === undefined || r.output_cid === null)) {
    return { ok: false, check: 'status', detail: 'a successful receipt must name its output_cid' }
  }
  try {
    if (parseTimestamp(r.started_at) > parseTimestamp(r.finished_at)) {
      return { ok: false, check: 'times', detail: `started_at ${r.started_at} is after finished_at ${r.finished_at}` }
    }
  } catch (err) {
    return { ok: false, check: 'times', detail: (err as Error).message }
  }
  return { ok: true, receipt: r, cid: v.cid }
}

/** Checks the fetched output bytes against the receipt. */
export function checkOutput (receipt: ExecutionReceiptV1, output: Uint8Array): { ok: true } | { ok: false, check: string, detail: string } {
  if (receipt.output_cid === undefined || receipt.output_cid === null) return { ok: false, check: 'output', detail: 'receipt names no output_cid' }
  const cid = rawCid(output)
  if (cid !== receipt.output_cid) return { ok: false, check: 'output', detail: `output bytes hash to ${cid}, receipt says ${receipt.output_cid}` }
  if (receipt.resource_usage.output_bytes !== output.byteLength) {
    return { ok: false, check: 'output-size', detail: `output has ${output.byteLength} bytes, receipt says ${receipt.resource_usage.output_bytes}` }
  }
  return { ok: true }
}
