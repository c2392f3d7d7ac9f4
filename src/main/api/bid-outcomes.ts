/**
 * What became of our bids (won, lost, waiting, not sent, sending), one at a time and counted over a
 * period. The scans are over the bids table alone (one row per bid we made).
 */
import { decodeMessage } from '../../shared/protocol/index.js'
import { biddingCloses } from '../market/index.js'
import type { BidOutcomeView, JobStateName } from '../../shared/api/index.js'
import { str, type Row, type SqlReader } from './sql.js'

/** An assignment normally arrives within seconds of the window closing; after this we call the bid lost. */
export const LOST_AFTER_CLOSE_MS = 60_000

type RanBy = (id: string) => string | undefined

export interface BidQueries {
  /** `ranBy`: who else announced a receipt for a job (a bid we did not win is lost as soon as that is known). */
  bidOutcome(announcementId: string, now: number, ranBy?: RanBy): BidOutcomeView | null
  bidOutcomeCounts(sinceMs: number, now: number, ranBy?: RanBy): { won: number, lost: number, refused: number, waiting: number, notSent: number }
  /** Recent bids that could not be delivered, newest first (error text). */
  undeliveredBids(sinceMs: number, limit: number): Array<{ announcementId: string, error: string, at: number }>
}

function closesAtOf (raw: unknown): number | null {
  if (raw === null || raw === undefined) return null
  const d = decodeMessage(new Uint8Array(raw as Buffer))
  if (d.kind !== 'message' || d.message.variant !== 'JobAnnouncementV1') return null
  try { return biddingCloses(d.message.body).closesAt } catch { return null }
}

/** One bid row (with its job's state and the announcement's raw bytes) → its outcome now. */
function outcomeOf (r: Row, now: number, ranBy?: RanBy): BidOutcomeView {
  const jobState = str(r.job_state) as JobStateName | null
  const closesAt = closesAtOf(r.raw)
  if (jobState !== null) return { outcome: 'won', text: `won: the job is ${jobState === 'Completed' ? 'completed' : jobState === 'Failed' ? 'done (it failed)' : jobState === 'Cancelled' ? 'cancelled' : 'in progress'}`, error: null, jobState, closesAt }
  const refused = str(r.refused)
  if (refused !== null) return { outcome: 'refused', text: `refused: the buyer chose us, but ${refused}`, error: null, jobState: null, closesAt }
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

function countOutcomes ({ one, all }: SqlReader, since: number, now: number, ranBy?: RanBy): { won: number, lost: number, refused: number, waiting: number, notSent: number } {
  const won = Number(one(`SELECT count(*) AS n FROM bids b JOIN jobs j ON j.announcement_id = b.announcement_id WHERE b.created_at >= ?`, since)?.n ?? 0)
  const refused = Number(one(`SELECT count(*) AS n FROM bids b WHERE b.created_at >= ? AND b.refused IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.announcement_id = b.announcement_id)`, since)?.n ?? 0)
  const notSent = Number(one(`SELECT count(*) AS n FROM bids b WHERE b.created_at >= ? AND b.sent_ok = 0
    AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.announcement_id = b.announcement_id)`, since)?.n ?? 0)
  // bids older than a day without a job are lost; younger ones are decided from their window
  const day = now - 86_400_000
  const oldLost = Number(one(`SELECT count(*) AS n FROM bids b WHERE b.created_at >= ? AND b.created_at < ? AND (b.sent_ok = 1 OR b.sent_ok IS NULL) AND b.refused IS NULL
    AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.announcement_id = b.announcement_id)`, since, day)?.n ?? 0)
  let lost = oldLost
  let waiting = 0
  let recentNotSent = 0
  const recent = all(`SELECT b.announcement_id, b.sent_ok, b.error, b.created_at, NULL AS job_state, a.raw FROM bids b LEFT JOIN announcements a ON a.announcement_id = b.announcement_id
    WHERE b.created_at >= ? AND (b.sent_ok = 1 OR b.sent_ok IS NULL) AND b.refused IS NULL
    AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.announcement_id = b.announcement_id) ORDER BY b.created_at DESC LIMIT 2000`, Math.max(since, day))
  for (const r of recent) {
    const o = outcomeOf(r, now, ranBy).outcome
    if (o === 'lost') lost++
    else if (o === 'not_sent') recentNotSent++
    else waiting++
  }
  return { won, lost, refused, waiting, notSent: notSent + recentNotSent }
}

export function bidQueries (sql: SqlReader): BidQueries {
  const { one, all } = sql
  return {
    bidOutcome (id, now, ranBy) {
      const r = one(`SELECT b.announcement_id, b.sent_ok, b.error, b.refused, b.created_at, j.state AS job_state, a.raw
        FROM bids b LEFT JOIN jobs j ON j.announcement_id = b.announcement_id LEFT JOIN announcements a ON a.announcement_id = b.announcement_id
        WHERE b.announcement_id = ?`, id)
      return r === undefined ? null : outcomeOf(r, now, ranBy)
    },
    bidOutcomeCounts: (since, now, ranBy) => countOutcomes(sql, since, now, ranBy),
    undeliveredBids: (since, limit) => all(`SELECT announcement_id, error, coalesce(sent_at, created_at) AS at FROM bids
      WHERE created_at >= ? AND sent_ok = 0 ORDER BY created_at DESC LIMIT ?`, since, limit)
      .map((r) => ({ announcementId: String(r.announcement_id), error: str(r.error) ?? 'not delivered', at: Number(r.at) }))
  }
}
