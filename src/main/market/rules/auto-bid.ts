import { fail, pass, type RuleDef } from './rule.js'

export const autoBid: RuleDef<'auto_bid'> = {
  id: 'auto_bid',
  evaluate: ({ policy }) => policy.autoBid ? pass('on') : fail('off')
}
