/**
 * The rows of a period export: the ledger's earnings and our receipts between two times (by the
 * earnings_time and receipts_created indexes), and a receipt's raw block for the signed statement.
 */
import { big, bigOrNull, descriptionFromJson, str, type SqlReader } from './sql.js'

export interface EarningExportRow {
  announcementId: string
  originatorDid: string
  amount: bigint
  earnedAt: number
  receiptCid: string | null
  region: string | null
  description: string | null
  fuelUsed: bigint | null
  price: bigint | null
}
export interface ReceiptExportRow {
  cid: string
  announcementId: string
  status: string
  failureReason: string | null
  fuelUsed: bigint
  price: bigint | null
  createdAt: number
  description: string | null
  earned: bigint | null
}

export interface PeriodQueries {
  earningsBetween(fromMs: number, toMs: number, limit: number): EarningExportRow[]
  receiptsBetween(fromMs: number, toMs: number, limit: number): ReceiptExportRow[]
  /** The raw block of a receipt. */
  receiptBlock(cid: string): Uint8Array | undefined
}

export function periodQueries ({ one, all }: SqlReader): PeriodQueries {
  return {
    earningsBetween: (from, to, limit) => all(`SELECT e.announcement_id, e.originator_did, e.amount, e.earned_at, e.receipt_cid, e.region,
        r.fuel_used, r.price, a.summary_json
      FROM earnings e LEFT JOIN receipts r ON r.cid = e.receipt_cid LEFT JOIN announcements a ON a.announcement_id = e.announcement_id
      WHERE e.earned_at >= ? AND e.earned_at < ? ORDER BY e.earned_at, e.id LIMIT ?`, from, to, limit).map((r) => ({
      announcementId: String(r.announcement_id),
      originatorDid: String(r.originator_did),
      amount: big(r.amount),
      earnedAt: Number(r.earned_at),
      receiptCid: str(r.receipt_cid),
      region: str(r.region),
      description: descriptionFromJson(r.summary_json),
      fuelUsed: bigOrNull(r.fuel_used),
      price: bigOrNull(r.price)
    })),
    receiptsBetween: (from, to, limit) => all(`SELECT r.cid, r.announcement_id, r.status, r.failure_reason, r.fuel_used, r.price, r.created_at, a.summary_json, e.amount
      FROM receipts r LEFT JOIN announcements a ON a.announcement_id = r.announcement_id LEFT JOIN earnings e ON e.announcement_id = r.announcement_id AND r.status = 'CompletedSuccessfully'
      WHERE r.created_at >= ? AND r.created_at < ? ORDER BY r.created_at, r.rowid LIMIT ?`, from, to, limit).map((r) => ({
      cid: String(r.cid),
      announcementId: String(r.announcement_id),
      status: String(r.status),
      failureReason: str(r.failure_reason),
      fuelUsed: big(r.fuel_used),
      price: bigOrNull(r.price),
      createdAt: Number(r.created_at),
      description: descriptionFromJson(r.summary_json),
      earned: bigOrNull(r.amount)
    })),
    receiptBlock (cid) {
      const r = one('SELECT raw FROM receipts WHERE cid = ?', cid)
      return r === undefined ? undefined : new Uint8Array(r.raw as Buffer)
    }
  }
}
