import { fail, pass, type RuleDef } from './rule.js'

export const once: RuleDef<'once'> = {
  id: 'once',
  evaluate: ({ ctx }) => ctx.alreadyBid === true ? fail('already bid on this announcement') : pass('no earlier bid on this announcement')
}
