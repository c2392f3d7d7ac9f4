/**
 * Read-only queries the dashboard needs that the store does not offer (yet): descriptions from the
 * announcement summaries, what each job earned, bid outcomes (./bid-outcomes.ts), paid vs free jobs,
 * our median quote and rate, and the rows of a period export (./period-rows.ts). Every statement
 * reads through `store.db` and is a primary-key lookup or uses an index of the schema
 * (earnings_time, receipts_created, announcements_received); the bids scans are over the bids table
 * alone (one row per bid we made). Nothing here writes.
 */
import type { Database } from 'better-sqlite3'
import { bidQueries, type BidQueries } from './bid-outcomes.js'
import { periodQueries, type PeriodQueries } from './period-rows.js'
import { big, createSqlReader, descriptionFromJson, type SqlReader } from './sql.js'

export { LOST_AFTER_CLOSE_MS } from './bid-outcomes.js'
export type { EarningExportRow, ReceiptExportRow } from './period-rows.js'

export interface ReadQueries extends BidQueries, PeriodQueries {
  description(announcementId: string): string | null
  earned(announcementId: string): bigint | null
  paidJobs(): { paid: number, free: number }
  /** The median of our quotes (our price for each job announced) since then, or null. */
  medianQuote(sinceMs: number): bigint | null
  /** The median price per million fuel used over our own completed, priced receipts since then, or null. */
  medianOwnRate(sinceMs: number): number | null
}

type Lookups = Omit<ReadQueries, keyof BidQueries | keyof PeriodQueries>

/** The middle value of a sorted list (the lower one of an even count), or null. */
const median = <T>(sorted: T[]): T | null => sorted.length === 0 ? null : sorted[Math.floor((sorted.length - 1) / 2)] ?? null

function lookups ({ one, all }: SqlReader): Lookups {
  return {
    description: (id) => descriptionFromJson(one('SELECT summary_json FROM announcements WHERE announcement_id = ?', id)?.summary_json),
    earned (id) {
      const r = one('SELECT amount FROM earnings WHERE announcement_id = ?', id)
      return r === undefined ? null : big(r.amount)
    },
    paidJobs () {
      const r = one('SELECT coalesce(sum(amount > 0), 0) AS paid, count(*) AS n FROM earnings')
      const paid = Number(r?.paid ?? 0)
      return { paid, free: Number(r?.n ?? 0) - paid }
    },
    medianQuote: (since) => median(all('SELECT price FROM announcements WHERE received_at >= ? AND price IS NOT NULL ORDER BY received_at DESC LIMIT 500', since)
      .map((r) => big(r.price)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))),
    medianOwnRate: (since) => median(all("SELECT price, fuel_used FROM receipts WHERE created_at >= ? AND status = 'CompletedSuccessfully' AND price > 0 AND fuel_used > 0 ORDER BY created_at DESC LIMIT 500", since)
      .map((r) => Number(big(r.price) * 1_000_000_000n / big(r.fuel_used)) / 1000).sort((a, b) => a - b))
  }
}

export function createReadQueries (db: Database): ReadQueries {
  const sql = createSqlReader(db)
  return { ...lookups(sql), ...bidQueries(sql), ...periodQueries(sql) }
}
