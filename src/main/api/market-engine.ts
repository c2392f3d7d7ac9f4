/**
 * PolicyEngine adapter over the market's policy engine (src/main/market): validation is
 * validatePolicy, the simulator replays the last N announcements recorded in the store (their raw
 * signed bytes) through market.simulate with the node's current decision context.
 */
import { decodeMessage, type JobAnnouncementV1 } from '../../shared/protocol/index.js'
import { simulate, validatePolicy, type DecisionSources } from '../market/index.js'
import type { Store } from '../store/index.js'
import type { JsonObject, SimulationView } from '../../shared/api/index.js'
import type { PolicyEngine } from './deps.js'

export interface MarketEngineOptions {
  store: Pick<Store, 'listAnnouncements' | 'getAnnouncement'>
  /** What the live node decides from (offer, runtimes, region, machine state, history): replays use the same. */
  sources: DecisionSources
  /** Called with the new version after `policy.save`, so the auto-bidder uses it next. */
  activate?: (version: number, policy: JsonObject) => void
}

export function createMarketPolicyEngine (opts: MarketEngineOptions): PolicyEngine {
  return {
    validate (json) {
      const r = validatePolicy(json)
      return r.ok ? { ok: true, errors: [] } : { ok: false, errors: r.errors }
    },
    simulate (json, lastN): SimulationView {
      const v = validatePolicy(json)
      if (!v.ok) return { considered: 0, wouldBid: 0, wouldSkip: 0, impliedEarnings: '0', skipped: [], items: [] }
      const rows = opts.store.listAnnouncements({ limit: lastN })
      const anns: JobAnnouncementV1[] = []
      const rowById = new Map(rows.map((r) => [r.announcementId, r]))
      for (const row of rows) {
        const full = opts.store.getAnnouncement(row.announcementId)
        if (full === undefined) continue
        const d = decodeMessage(full.raw)
        if (d.kind !== 'message' || d.message.variant !== 'JobAnnouncementV1') continue
        anns.push(d.message.body)
      }
      const res = simulate(v.policy, anns, opts.sources)
      const items: SimulationView['items'] = res.decisions.map(({ announcementId, decision }) => {
        const row = rowById.get(announcementId)
        return {
          announcementId,
          receivedAt: row?.receivedAt ?? 0,
          decision: decision.bid ? 'bid' : 'no_bid',
          price: decision.price === undefined ? null : decision.price.toString(),
          reasons: decision.reasons.map((r) => ({ rule: r.rule, ok: r.ok, text: r.text })),
          actualDecision: row?.decision ?? 'no_bid'
        }
      })
      return {
        considered: res.total,
        wouldBid: res.wouldBid,
        wouldSkip: res.total - res.wouldBid,
        impliedEarnings: res.earningsImplied.toString(),
        skipped: res.byFirstFailedRule.map((g) => ({ rule: g.rule, count: g.count })),
        items
      }
    },
    activate: opts.activate
  }
}
