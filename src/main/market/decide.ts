/**
 * The bid/no-bid decision. Pure: everything it needs is in the announcement, the policy and the
 * context. Every rule of the table is evaluated and every verdict recorded (passed and failed), so
 * the UI can show exactly why a job was or was not bid on.
 */
import type { JobAnnouncementV1 } from '../../shared/protocol/index.js'
import { EVALUATED_RULES, quote, type Policy, type RuleId } from '../../shared/policy/index.js'
import type { DecisionContext } from './context.js'
import { RULE_TABLE } from './rules/index.js'

export interface Reason { rule: RuleId, ok: boolean, text: string }

export interface Decision {
  bid: boolean
  /** Our price for this job (computed whenever the job's max_fuel allows; the bid carries it). */
  price?: bigint
  reasons: Reason[]
  /** The first failing rule (for grouping in the UI), absent when bidding. */
  firstFailedRule?: RuleId
}

export function decide (a: JobAnnouncementV1, policy: Policy, ctx: DecisionContext): Decision {
  const fuel = typeof a.job_params.max_fuel === 'bigint' ? a.job_params.max_fuel : BigInt(a.job_params.max_fuel)
  const q = quote(policy.pricing, fuel)
  const input = { a, policy, ctx, fuel, quote: q }
  const reasons: Reason[] = EVALUATED_RULES.map((id) => {
    const v = RULE_TABLE[id].evaluate(input)
    return { rule: id, ok: v.ok, text: `${id}: ${v.text}` }
  })
  const failed = reasons.find((r) => !r.ok)
  return failed === undefined
    ? { bid: true, price: q.price, reasons }
    : { bid: false, price: q.price, reasons, firstFailedRule: failed.rule }
}
