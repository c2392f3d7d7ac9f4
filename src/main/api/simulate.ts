/**
 * Policy simulator over the store: replays the last N recorded announcements (their raw signed
 * bytes) through a decide function — the market engine's decision for a draft policy — and sums
 * what the would-be bids imply.
 */
import type { Store, DecisionReason } from '../store/index.js'
import type { JsonObject, SimulationView } from '../../shared/api/index.js'

export interface SimulatedDecision { decision: 'bid' | 'no_bid', price?: bigint | number, reasons: DecisionReason[] }

export type DecideFn = (policy: JsonObject, announcement: { raw: Uint8Array, receivedAt: number, announcementId: string }) => SimulatedDecision

export function simulateFromStore (store: Pick<Store, 'listAnnouncements' | 'getAnnouncement'>, policy: JsonObject, lastN: number, decide: DecideFn): SimulationView {
  const rows = store.listAnnouncements({ limit: lastN })
  const skipped = new Map<string, number>()
  let implied = 0n
  let wouldBid = 0
  const items: SimulationView['items'] = []
  for (const row of rows) {
    const full = store.getAnnouncement(row.announcementId)
    if (full === undefined) continue
    const d = decide(policy, { raw: full.raw, receivedAt: row.receivedAt, announcementId: row.announcementId })
    if (d.decision === 'bid') {
      wouldBid++
      implied += d.price === undefined ? 0n : BigInt(d.price)
    } else {
      const rule = d.reasons.find((r) => !r.ok)?.rule ?? 'unknown'
      skipped.set(rule, (skipped.get(rule) ?? 0) + 1)
    }
    items.push({
      announcementId: row.announcementId,
      receivedAt: row.receivedAt,
      decision: d.decision,
      price: d.price === undefined ? null : BigInt(d.price).toString(),
      reasons: d.reasons.map((r) => ({ rule: r.rule, ok: r.ok, text: r.text })),
      actualDecision: row.decision
    })
  }
  return {
    considered: items.length,
    wouldBid,
    wouldSkip: items.length - wouldBid,
    impliedEarnings: implied.toString(),
    skipped: [...skipped.entries()].map(([rule, count]) => ({ rule, count })).sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule)),
    items
  }
}
