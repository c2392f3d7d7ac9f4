/**
 * `market.*`: the announcements we saw and what became of our bids, their statistics, the policy
 * simulator, and the market rate (what buyers paid vs what we ask, and what we would have won).
 */
import { ApiError, skippedText, type ApiArgs, type JsonObject, type MarketRateView } from '../../../shared/api/index.js'
import { sampleRate } from '../../market-rate/index.js'
import { announcementView } from '../convert.js'
import { DAY, type ApiContext } from '../context.js'
import { policyIssues } from './policy.js'
import type { Handlers, MethodsOf } from './types.js'

function marketRate (ctx: ApiContext, a: ApiArgs<'market.rate'>): Promise<MarketRateView> | MarketRateView {
  const { deps, store, q } = ctx
  const t = ctx.now()
  const days = a.days ?? 7
  const { summary, samples } = ctx.marketSummary(t, days)
  const cur = store.currentPolicy()
  const quote = q.medianQuote(t - days * DAY)
  const stats = deps.marketRate?.stats() ?? { heard: 0, fetched: 0, rejected: 0, skipped: 0, lastError: null }
  const base: MarketRateView = {
    samples: summary.samples,
    executors: summary.executors,
    sinceMs: t - days * DAY,
    ratePerMillionFuel: summary.ratePerMillionFuel,
    price: summary.price,
    ours: { price: quote === null ? null : quote.toString(), ratePerMillionFuel: q.medianOwnRate(t - days * DAY) },
    suggestedPrice: summary.suggestedPrice,
    wouldHaveWon: null,
    collector: stats,
    recent: samples.slice(0, 20).map((s) => ({ receiptCid: s.receiptCid, executorDid: s.executorDid, price: s.price, fuelUsed: s.fuelUsed, finishedAt: s.finishedAt, ratePerMillionFuel: sampleRate(s) }))
  }
  if (summary.suggestedPrice === null) return base
  const draft: JsonObject = { ...(cur?.policy !== null && typeof cur?.policy === 'object' && !Array.isArray(cur?.policy) ? cur.policy as JsonObject : {}) }
  draft.pricing = { mode: 'fixed', price: Number(summary.suggestedPrice) }
  if (!deps.policy.validate(draft).ok) return base
  return Promise.resolve(deps.policy.simulate(draft, 200)).then((sim) => ({
    ...base,
    wouldHaveWon: { considered: sim.considered, wouldBid: sim.wouldBid, impliedEarnings: sim.impliedEarnings }
  }))
}

export function marketHandlers (ctx: ApiContext): Handlers<MethodsOf<'market'>> {
  const { deps, store, q, now, ranBy } = ctx
  return {
    'market.announcements': (a) => {
      const t = now()
      return store.listAnnouncements(a).map((row) => announcementView(row, row.decision === 'bid' ? q.bidOutcome(row.announcementId, t, ranBy) : null))
    },
    'market.stats': (a) => {
      const s = store.announcementStats(a)
      return {
        total: s.total,
        bid: s.bid,
        noBid: s.noBid,
        outcomes: q.bidOutcomeCounts(a.sinceMs ?? 0, now(), ranBy),
        skipped: s.byFirstFailedRule.map((g) => ({ ...g, text: skippedText(g.rule, g.count) }))
      }
    },
    'market.simulate': async (a) => {
      const v = deps.policy.validate(a.policy)
      if (!v.ok) throw new ApiError('BadRequest', `market.simulate: invalid policy: ${policyIssues(v.errors)}`)
      return await deps.policy.simulate(a.policy, a.lastN)
    },
    'market.rate': (a) => marketRate(ctx, a)
  }
}
