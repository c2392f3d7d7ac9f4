/**
 * Read-only queries the dashboard needs that the store does not offer (yet): descriptions from the
 * announcement summaries, what each job earned, bid outcomes, paid vs free jobs, and the rows of a
 * period export. Every statement reads through `store.db` and is a primary-key lookup or uses an
 * index of the schema (earnings_time, receipts_created, announcements_received); the bids scans are
 * over the bids table alone (one row per bid we made). Nothing here writes.
 */
import type { Database, Statement } from 'better-sqlite3'
import { decodeMessage } from '../../shared/protocol/index.js'
import { biddingCloses } from '../market/index.js'
import type { BidOutcomeView, JobStateName } from '../../shared/api/index.js'

/** An assignment normally arrives within seconds of the window closing; after this we call the bid lost. */
export const LOST_AFTER_CLOSE_MS = 60_000

type Row = Record<string, unknown>
const str = (v: unknown): string | null => v === null || v === undefined ? null : String(v)
const big = (v: unknown): bigint => v === null || v === undefined ? 0n : BigInt(v as bigint | number)

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

export interface ReadQueries {
  description(announcementId: string): string | null
  earned(announcementId: string): bigint | null
  /** `ranBy`: who else announced a receipt for a job (a bid we did not win is lost as soon as that is known). */
  bidOutcome(announcementId: string, now: number, ranBy?: (id: string) => string | undefined): BidOutcomeView | null
  bidOutcomeCounts(sinceMs: number, now: number, ranBy?: (id: string) => string | undefined): { won: number, lost: number, waiting: number, notSent: number }
  /** Recent bids that could not be delivered, newest first (error text). */
  undeliveredBids(sinceMs: number, limit: number): Array<{ announcementId: string, error: string, at: number }>
  paidJobs(): { paid: number, free: number }
  earningsBetween(fromMs: number, toMs: number, limit: number): EarningExportRow[]
  receiptsBetween(fromMs: number, toMs: number, limit: number): ReceiptExportRow[]
  /** The raw block of a receipt. */
  receiptBlock(cid: string): Uint8Array | undefined
  /** The median of our quotes (our price for each job announced) since then, or null. */
  medianQuote(sinceMs: number): bigint | null
  /** The median price per million fuel used over our own completed, priced receipts since then, or null. */
  medianOwnRate(sinceMs: number): number | null
}

export function createReadQueries (db: Database): ReadQueries {
  const cache = new Map<string, Statement>()
  const q = (sql: string): Statement => {
    let s = cache.get(sql)
    if (s === undefined) {
      s = db.prepare(sql)
      s.safeIntegers(true)
      cache.set(sql, s)
    }
    return s
  }
  const one = (sql: string, ...p: unknown[]): Row | undefined => q(sql).get(...p) as Row | undefined
  const all = (sql: string, ...p: unknown[]): Row[] => q(sql).all(...p) as Row[]

  const descriptionFromJson = (json: unknown): string | null => {
    if (json === null || json === undefined) return null
    try {
      const s = JSON.parse(String(json)) as { description?: unknown }
      return typeof s.description === 'string' && s.description !== '' ? s.description : null
    } catch { return null }
  }

  const closesAtOf = (raw: unknown): number | null => {
    if (raw === null || raw === undefined) return null
    const d = decodeMessage(new Uint8Array(raw as Buffer))
    if (d.kind !== 'message' || d.message.variant !== 'JobAnnouncementV1') return null
    try { return biddingCloses(d.message.body).closesAt } catch { return null }
  }

  const outcomeOf = (r: Row, now: number, ranBy?: (id: string) => string | undefined): BidOutcomeView => {
    const jobState = str(r.job_state) as JobStateName | null
    const closesAt = closesAtOf(r.raw)
    if (jobState !== null) return { outcome: 'won', text: `won: the job is ${jobState === 'Completed' ? 'completed' : jobState === 'Failed' ? 'done (it failed)' : jobState === 'Cancelled' ? 'cancelled' : 'in progress'}`, error: null, jobState, closesAt }
    const other = ranBy?.(String(r.announcement_id))
    if (other !== undefined) return { outcome: 'lost', text: `lost: another executor ran it (${other.length > 24 ? `${other.slice(0, 14)}…${other.slice(-6)}` : other})`, error: null, jobState: null, closesAt }
    const sentOk = r.sent_ok === null || r.sent_ok === undefined ? null : Number(r.sent_ok) !== 0
    if (sentOk === false) {
      const error = str(r.error) ?? 'not delivered'
      return { outcome: 'not_sent', text: `never assigned: the bid was not delivered (${error})`, error, jobState: null, closesAt }
    }
    const closed = closesAt ?? Number(r.created_at) + 30_000
    if (sentOk === null) {
      return now < closed ? { outcome: 'sending', text: 'being delivered', error: null, jobState: null, closesAt } : { outcome: 'not_sent', text: 'never assigned: the bid was never delivered', error: 'no answer before the window closed', jobState: null, closesAt }
    }
    if (now < closed + LOST_AFTER_CLOSE_MS) return { outcome: 'waiting', text: now < closed ? 'waiting for the buyer to choose' : 'window closed, waiting for the assignment', error: null, jobState: null, closesAt }
    return { outcome: 'lost', text: 'lost: the buyer chose another executor', error: null, jobState: null, closesAt }
  }

  return {
    description: (id) => descriptionFromJson(one('SELECT summary_json FROM announcements WHERE announcement_id = ?', id)?.summary_json),
    earned (id) {
      const r = one('SELECT amount FROM earnings WHERE announcement_id = ?', id)
      return r === undefined ? null : big(r.amount)
    },
    bidOutcome (id, now, ranBy) {
      const r = one(`SELECT b.announcement_id, b.sent_ok, b.error, b.created_at, j.state AS job_state, a.raw
        FROM bids b LEFT JOIN jobs j ON j.announcement_id = b.announcement_id LEFT JOIN announcements a ON a.announcement_id = b.announcement_id
        WHERE b.announcement_id = ?`, id)
      return r === undefined ? null : outcomeOf(r, now, ranBy)
    },
    bidOutcomeCounts (since, now, ranBy) {
      const won = Number(one(`SELECT count(*) AS n FROM bids b JOIN jobs j ON j.announcement_id = b.announcement_id WHERE b.created_at >= ?`, since)?.n ?? 0)
      const notSent = Number(one(`SELECT count(*) AS n FROM bids b WHERE b.created_at >= ? AND b.sent_ok = 0
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.announcement_id = b.announcement_id)`, since)?.n ?? 0)
      // bids older than a day without a job are lost; younger ones are decided from their window
      const day = now - 86_400_000
      const oldLost = Number(one(`SELECT count(*) AS n FROM bids b WHERE b.created_at >= ? AND b.created_at < ? AND (b.sent_ok = 1 OR b.sent_ok IS NULL)
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.announcement_id = b.announcement_id)`, since, day)?.n ?? 0)
      let lost = oldLost
      let waiting = 0
      let recentNotSent = 0
      const recent = all(`SELECT b.announcement_id, b.sent_ok, b.error, b.created_at, NULL AS job_state, a.raw FROM bids b LEFT JOIN announcements a ON a.announcement_id = b.announcement_id
        WHERE b.created_at >= ? AND (b.sent_ok = 1 OR b.sent_ok IS NULL)
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.announcement_id = b.announcement_id) ORDER BY b.created_at DESC LIMIT 2000`, Math.max(since, day))
      for (const r of recent) {
        const o = outcomeOf(r, now, ranBy).outcome
        if (o === 'lost') lost++
        else if (o === 'not_sent') recentNotSent++
        else waiting++
      }
      return { won, lost, waiting, notSent: notSent + recentNotSent }
    },
    undeliveredBids: (since, limit) => all(`SELECT announcement_id, error, coalesce(sent_at, created_at) AS at FROM bids
      WHERE created_at >= ? AND sent_ok = 0 ORDER BY created_at DESC LIMIT ?`, since, limit)
      .map((r) => ({ announcementId: String(r.announcement_id), error: str(r.error) ?? 'not delivered', at: Number(r.at) })),
    paidJobs () {
      const r = one('SELECT coalesce(sum(amount > 0), 0) AS paid, count(*) AS n FROM earnings')
      const paid = Number(r?.paid ?? 0)
      return { paid, free: Number(r?.n ?? 0) - paid }
    },
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
      fuelUsed: r.fuel_used === null || r.fuel_used === undefined ? null : big(r.fuel_used),
      price: r.price === null || r.price === undefined ? null : big(r.price)
    })),
    receiptsBetween: (from, to, limit) => all(`SELECT r.cid, r.announcement_id, r.status, r.failure_reason, r.fuel_used, r.price, r.created_at, a.summary_json, e.amount
      FROM receipts r LEFT JOIN announcements a ON a.announcement_id = r.announcement_id LEFT JOIN earnings e ON e.announcement_id = r.announcement_id AND r.status = 'CompletedSuccessfully'
      WHERE r.created_at >= ? AND r.created_at < ? ORDER BY r.created_at, r.rowid LIMIT ?`, from, to, limit).map((r) => ({
      cid: String(r.cid),
      announcementId: String(r.announcement_id),
      status: String(r.status),
      failureReason: str(r.failure_reason),
      fuelUsed: big(r.fuel_used),
      price: r.price === null || r.price === undefined ? null : big(r.price),
      createdAt: Number(r.created_at),
      description: descriptionFromJson(r.summary_json),
      earned: r.amount === null || r.amount === undefined ? null : big(r.amount)
    })),
    receiptBlock (cid) {
      const r = one('SELECT raw FROM receipts WHERE cid = ?', cid)
      return r === undefined ? undefined : new Uint8Array(r.raw as Buffer)
    },
    medianQuote (since) {
      const v = all('SELECT price FROM announcements WHERE received_at >= ? AND price IS NOT NULL ORDER BY received_at DESC LIMIT 500', since).map((r) => big(r.price)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      return v.length === 0 ? null : v[Math.floor((v.length - 1) / 2)] ?? null
    },
    medianOwnRate (since) {
      const v = all("SELECT price, fuel_used FROM receipts WHERE created_at >= ? AND status = 'CompletedSuccessfully' AND price > 0 AND fuel_used > 0 ORDER BY created_at DESC LIMIT 500", since)
        .map((r) => Number(big(r.price) * 1_000_000_000n / big(r.fuel_used)) / 1000).sort((a, b) => a - b)
      return v.length === 0 ? null : v[Math.floor((v.length - 1) / 2)] ?? null
    }
  }
}
