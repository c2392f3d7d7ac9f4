/**
 * The rule table: one module per rule, keyed by every evaluated rule id (a missing rule does not
 * compile). decide() evaluates them in EVALUATED_RULES order. To add a rule see docs/ARCHITECTURE.md.
 */
import type { EvaluatedRuleId } from '../../../shared/policy/index.js'
import type { RuleDef } from './rule.js'
import { autoBid } from './auto-bid.js'
import { once } from './once.js'
import { paused } from './paused.js'
import { schedule } from './schedule.js'
import { idle } from './idle.js'
import { battery } from './battery.js'
import { thermal } from './thermal.js'
import { disk } from './disk.js'
import { biddingWindow } from './bidding-window.js'
import { originator } from './originator.js'
import { originatorRecord } from './originator-record.js'
import { region } from './region.js'
import { qos } from './qos.js'
import { interactive } from './interactive.js'
import { runtime } from './runtime.js'
import { timeout } from './timeout.js'
import { fuel } from './fuel.js'
import { resources } from './resources.js'
import { relay } from './relay.js'
import { concurrency } from './concurrency.js'
import { price } from './price.js'

export const RULE_TABLE: { [K in EvaluatedRuleId]: RuleDef<K> } = {
  auto_bid: autoBid,
  once,
  paused,
  schedule,
  idle,
  battery,
  thermal,
  disk,
  bidding_window: biddingWindow,
  originator,
  originator_record: originatorRecord,
  region,
  qos,
  interactive,
  runtime,
  timeout,
  fuel,
  resources,
  relay,
  concurrency,
  price
}

export type { RuleDef, RuleInput, Verdict } from './rule.js'
export { declaredSizes, formatBytes, type DeclaredSizes } from './relay.js'
