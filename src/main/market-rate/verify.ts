/**
 * Whether a receipt block is a market sample. Nothing trusts the announcement: the block must be at most
 * `maxBytes`, verify completely (verifyReceiptBlock: canonical form, CID, executor signature) and be the
 * announced executor's receipt for the announced job. A verified receipt counts only when the job
 * completed, was paid, used fuel and finished neither in the future (5 min of slack) nor too long ago.
 */
import { parseTimestamp, verifyReceiptBlock } from '../../shared/protocol/index.js'
import type { MarketSample } from './types.js'

export interface ReceiptExpected { cid?: string, executorDid?: string, announcementId?: string }

/** Rejected (and why); or verified, with the sample it gives (null: it does not count). */
export type ReceiptCheck = { ok: false, error: string } | { ok: true, cid: string, sample: MarketSample | null }

export function checkReceipt (bytes: Uint8Array, expected: ReceiptExpected, o: { maxBytes: number, maxAgeMs: number, now: () => number }): ReceiptCheck {
  if (bytes.length > o.maxBytes) return { ok: false, error: `receipt of ${bytes.length} bytes is larger than ${o.maxBytes}` }
  const v = verifyReceiptBlock(bytes, expected.cid)
  if (!v.ok) return { ok: false, error: `${v.reason}: ${v.detail}` }
  const r = v.receipt
  if ((expected.executorDid !== undefined && r.executor_did !== expected.executorDid) || (expected.announcementId !== undefined && r.announcement_id !== expected.announcementId)) {
    return { ok: false, error: `receipt ${v.cid} is not the announced executor's receipt for ${expected.announcementId ?? 'that job'}` }
  }
  const none = { ok: true as const, cid: v.cid, sample: null }
  if (r.status !== 'CompletedSuccessfully' || r.price === undefined || BigInt(r.price) === 0n || BigInt(r.fuel_used) === 0n) return none
  let finishedAt: number
  try { finishedAt = parseTimestamp(r.finished_at) } catch { return none }
  if (finishedAt > o.now() + 300_000 || finishedAt < o.now() - o.maxAgeMs) return none
  return { ok: true, cid: v.cid, sample: { receiptCid: v.cid, executorDid: r.executor_did, originatorDid: r.originator_did, price: String(r.price), fuelUsed: String(r.fuel_used), finishedAt } }
}
