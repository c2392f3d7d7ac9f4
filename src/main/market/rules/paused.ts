import { formatTimestamp } from '../../../shared/protocol/index.js'
import { fail, pass, type RuleDef } from './rule.js'

export const paused: RuleDef<'paused'> = {
  id: 'paused',
  evaluate: ({ policy, ctx }) => policy.pausedUntil !== undefined && policy.pausedUntil > ctx.now
    ? fail(`snoozed until ${formatTimestamp(policy.pausedUntil)}`)
    : pass('not paused')
}
