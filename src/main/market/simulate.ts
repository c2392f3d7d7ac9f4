import { parseTimestamp, type JobAnnouncementV1 } from '../../shared/protocol/index.js'
import type { Policy, RuleId } from '../../shared/policy/index.js'
import { buildDecisionContext, type DecisionSources } from './context.js'
import { decide, type Decision } from './decide.js'

export interface SimulationResult {
  total: number
  wouldBid: number
  /** Sum of our prices over the announcements we would bid on (if every bid won). */
  earningsImplied: bigint
  byFirstFailedRule: Array<{ rule: RuleId, count: number }>
  decisions: Array<{ announcementId: string, decision: Decision }>
}

/**
 * Runs a (candidate) policy over past announcements, for the UI's policy simulator. No side effects.
 * The context comes from the live node's sources (buildDecisionContext, as a replay); each
 * announcement is evaluated at `now` if given, else at its own timestamp (as if just received).
 */
export function simulate (policy: Policy, announcements: readonly JobAnnouncementV1[], sources: DecisionSources, o: { now?: number } = {}): SimulationResult {
  let wouldBid = 0
  let earnings = 0n
  const fails = new Map<RuleId, number>()
  const decisions: SimulationResult['decisions'] = []
  for (const a of announcements) {
    let now = o.now
    if (now === undefined) {
      try { now = parseTimestamp(a.timestamp) } catch { now = Date.now() }
    }
    const d = decide(a, policy, buildDecisionContext(sources, a, { now, replay: true }))
    if (d.bid) {
      wouldBid++
      earnings += d.price ?? 0n
    } else if (d.firstFailedRule !== undefined) fails.set(d.firstFailedRule, (fails.get(d.firstFailedRule) ?? 0) + 1)
    decisions.push({ announcementId: a.announcement_id, decision: d })
  }
  return {
    total: announcements.length,
    wouldBid,
    earningsImplied: earnings,
    byFirstFailedRule: [...fails.entries()].map(([rule, count]) => ({ rule, count })).sort((x, y) => y.count - x.count || x.rule.localeCompare(y.rule)),
    decisions
  }
}
