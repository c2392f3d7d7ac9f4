import { parseTimestamp, type JobAnnouncementV1 } from '../../shared/protocol/index.js'
import { decide, type Decision, type DecisionContext, type Rule } from './decide.js'
import type { Policy } from './policy.js'

export interface SimulationContext extends Omit<DecisionContext, 'now' | 'alreadyBid'> {
  /** Evaluate every announcement at this time; by default each at its own `timestamp` (as if just received). */
  now?: number
  /** History per originator DID; overrides `originatorRecord`. */
  originatorRecords?: Record<string, DecisionContext['originatorRecord']>
}

export interface SimulationResult {
  total: number
  wouldBid: number
  /** Sum of our prices over the announcements we would bid on (if every bid won). */
  earningsImplied: bigint
  byFirstFailedRule: Array<{ rule: Rule, count: number }>
  decisions: Array<{ announcementId: string, decision: Decision }>
}

/** Runs a (candidate) policy over past announcements, for the UI's policy simulator. No side effects. */
export function simulate (policy: Policy, announcements: readonly JobAnnouncementV1[], ctx: SimulationContext): SimulationResult {
  let wouldBid = 0
  let earnings = 0n
  const fails = new Map<Rule, number>()
  const decisions: SimulationResult['decisions'] = []
  for (const a of announcements) {
    let now = ctx.now
    if (now === undefined) {
      try { now = parseTimestamp(a.timestamp) } catch { now = Date.now() }
    }
    const record = ctx.originatorRecords?.[a.originator_did] ?? ctx.originatorRecord
    const d = decide(a, policy, { ...ctx, now, originatorRecord: record, alreadyBid: false })
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
