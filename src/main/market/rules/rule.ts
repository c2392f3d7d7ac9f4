/** What a decision rule is: an id and a pure verdict on one announcement. */
import type { JobAnnouncementV1 } from '../../../shared/protocol/index.js'
import type { EvaluatedRuleId, Policy, PriceQuote } from '../../../shared/policy/index.js'
import type { DecisionContext } from '../context.js'

export interface RuleInput {
  a: JobAnnouncementV1
  policy: Policy
  ctx: DecisionContext
  /** the job's max_fuel */
  fuel: bigint
  /** our price for this job */
  quote: PriceQuote
}

export interface Verdict { ok: boolean, text: string }

export interface RuleDef<K extends EvaluatedRuleId = EvaluatedRuleId> {
  id: K
  evaluate: (input: RuleInput) => Verdict
}

export const pass = (text: string): Verdict => ({ ok: true, text })
export const fail = (text: string): Verdict => ({ ok: false, text })
export { shortId as shortDid } from '../../../shared/text.js'
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
export const list = (xs: readonly string[]): string => `[${xs.join(', ')}]`
export const asBig = (v: number | bigint): bigint => typeof v === 'bigint' ? v : BigInt(v)
