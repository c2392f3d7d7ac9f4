/**
 * What the store says about the recent past, for the health check: announcements in the last hour,
 * price skips and bid outcomes of the last day. status() runs often, so this is cached for 2 s.
 */
import type { ApiContext } from './context.js'
import { DAY, HOUR } from './context.js'
import type { RecentActivity } from './health.js'

export interface RecentActivitySource {
  /** The recent past at `t`; no history when the store cannot answer. */
  read(t: number): RecentActivity
  /** Drops the cache (after a change the next status must reflect). */
  forget(): void
}

const NOTHING_RECENT: RecentActivity = { announcementsLastHour: 0, priceSkips: { count: 0, of: 0, bestMaxPrice: null, ourPrice: null }, bids: { won: 0, lost: 0, notSent: 0, lastError: null } }

/** The highest max_price among announcements skipped for their price, or null. */
function bestMaxPrice (skipped: ReadonlyArray<{ summary: Record<string, unknown> }>): bigint | null {
  let best: bigint | null = null
  for (const a of skipped) {
    const mp = a.summary.max_price
    if (typeof mp === 'string' && /^\d+$/.test(mp)) { const v = BigInt(mp); if (best === null || v > best) best = v }
  }
  return best
}

function readRecent (ctx: ApiContext, t: number): RecentActivity {
  const { store, q } = ctx
  const lastHour = store.announcementStats({ sinceMs: t - HOUR }).total
  const last = store.listAnnouncements({ sinceMs: t - DAY, limit: 20 })
  const skipped = last.filter((a) => a.firstFailedRule === 'price')
  const best = bestMaxPrice(skipped)
  const ours = skipped[0]?.price
  const outcomes = q.bidOutcomeCounts(t - DAY, t, ctx.ranBy)
  return {
    announcementsLastHour: lastHour,
    priceSkips: { count: skipped.length, of: last.length, bestMaxPrice: best === null ? null : best.toString(), ourPrice: ours === undefined ? null : ours.toString() },
    bids: { won: outcomes.won, lost: outcomes.lost, notSent: outcomes.notSent, lastError: q.undeliveredBids(t - DAY, 1)[0]?.error ?? null }
  }
}

export function createRecentActivity (ctx: ApiContext): RecentActivitySource {
  let cache: { at: number, value: RecentActivity } | undefined
  const cached = (t: number): RecentActivity => {
    if (cache !== undefined && t - cache.at < 2000 && t >= cache.at) return cache.value
    const value = readRecent(ctx, t)
    cache = { at: t, value }
    return value
  }
  return {
    // the status must answer even when the store cannot (a partial store in a test, a locked database): no history then
    read (t) {
      try { return cached(t) } catch { return NOTHING_RECENT }
    },
    forget () { cache = undefined }
  }
}
