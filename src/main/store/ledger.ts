/** The store's ledger: one earning per completed job. */
import { StoreError, UnknownJobError } from './errors.js'
import { DAY_MS, num } from './sql.js'
import type { LedgerStore } from './types.js'
import type { Sql } from './sql.js'

export function createLedgerStore (sql: Sql): LedgerStore {
  const { one, all, durable, clock, getJob, insertEarning } = sql
  const dayStart = (now: number, off: number): number => Math.floor((now + off * 60_000) / DAY_MS) * DAY_MS - off * 60_000
  const sumSince = (since: number): bigint => BigInt((one('SELECT coalesce(sum(amount), 0) AS s FROM earnings WHERE earned_at >= ?', since)?.s ?? 0n) as bigint)

  return {
    recordEarning (id, amt, o) {
      return durable(() => {
        const job = getJob(id)
        if (job === undefined) throw new UnknownJobError(id)
        if (job.state !== 'Completed') throw new StoreError('BadValue', `job ${id} is ${job.state}, only Completed jobs earn`)
        return insertEarning(job, amt, o?.at ?? clock(), o?.receiptCid)
      })
    },
    earningsSummary (w) {
      const now = w?.now ?? clock()
      const off = w?.tzOffsetMinutes ?? 0
      const allRow = one('SELECT coalesce(sum(amount), 0) AS s, count(*) AS n FROM earnings')
      return {
        today: sumSince(dayStart(now, off)),
        last7d: sumSince(now - 7 * DAY_MS),
        allTime: BigInt((allRow?.s ?? 0n) as bigint),
        jobs: num(allRow?.n ?? 0)
      }
    },
    earningsByDay (w) {
      const now = w?.now ?? clock()
      const off = w?.tzOffsetMinutes ?? 0
      const days = Math.max(1, Math.floor(w?.days ?? 30))
      const since = dayStart(now, off) - (days - 1) * DAY_MS
      const offMs = off * 60_000
      return all(`SELECT (earned_at + ?) / ${DAY_MS} AS d, sum(amount) AS s, count(*) AS n FROM earnings WHERE earned_at >= ? GROUP BY d ORDER BY d`, offMs, since)
        .map((r) => ({ day: new Date(num(r.d) * DAY_MS).toISOString().slice(0, 10), amount: BigInt(r.s as bigint), jobs: num(r.n) }))
    },
    earningsByOriginator: () => all('SELECT originator_did, sum(amount) AS s, count(*) AS n FROM earnings GROUP BY originator_did ORDER BY s DESC, originator_did')
      .map((r) => ({ originatorDid: String(r.originator_did), amount: BigInt(r.s as bigint), jobs: num(r.n) })),
    earningsByRegion: () => all("SELECT coalesce(region, 'unknown') AS region, sum(amount) AS s, count(*) AS n FROM earnings GROUP BY 1 ORDER BY s DESC, 1")
      .map((r) => ({ region: String(r.region), amount: BigInt(r.s as bigint), jobs: num(r.n) })),
  }
}
