/** `earnings.*`: today / 7 days / all time, paid and free jobs, per day, per originator, per region. */
import { TOKEN_UNIT } from '../../../shared/api/index.js'
import type { ApiContext } from '../context.js'
import type { Handlers, MethodsOf } from './types.js'

/** One row per day (robust against a store returning several rows for the same day). */
function mergeDays (rows: Array<{ day: string, amount: bigint, jobs: number }>): Array<{ day: string, amount: string, jobs: number }> {
  const m = new Map<string, { amount: bigint, jobs: number }>()
  for (const r of rows) {
    const cur = m.get(r.day) ?? { amount: 0n, jobs: 0 }
    m.set(r.day, { amount: cur.amount + r.amount, jobs: cur.jobs + r.jobs })
  }
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, v]) => ({ day, amount: v.amount.toString(), jobs: v.jobs }))
}

export function earningsHandlers ({ store, q, now, tz }: ApiContext): Handlers<MethodsOf<'earnings'>> {
  return {
    'earnings.get': (a) => {
      const w = { now: now(), tzOffsetMinutes: a.tzOffsetMinutes ?? tz() }
      const s = store.earningsSummary(w)
      const paid = q.paidJobs()
      return {
        unit: TOKEN_UNIT,
        today: s.today.toString(),
        last7d: s.last7d.toString(),
        allTime: s.allTime.toString(),
        jobs: s.jobs,
        paidJobs: paid.paid,
        freeJobs: paid.free,
        byDay: mergeDays(store.earningsByDay({ ...w, days: a.days ?? 30 })),
        byOriginator: store.earningsByOriginator().map((d) => ({ originatorDid: d.originatorDid, amount: d.amount.toString(), jobs: d.jobs })),
        byRegion: store.earningsByRegion().map((d) => ({ region: d.region, amount: d.amount.toString(), jobs: d.jobs }))
      }
    }
  }
}
