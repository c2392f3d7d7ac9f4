import { fail, pass, type RuleDef } from './rule.js'

export const battery: RuleDef<'battery'> = {
  id: 'battery',
  evaluate: ({ policy, ctx }) => {
    if (!policy.stopOnBattery) return pass('stop-on-battery off')
    if (ctx.machine?.onBattery === true) return fail('on battery power')
    return pass(ctx.machine?.onBattery === false ? 'on mains power' : 'power source unknown')
  }
}
