import { describeSchedule, fmtMinutes, inSchedule } from '../../../shared/policy/index.js'
import { pass, type RuleDef } from './rule.js'

export const schedule: RuleDef<'schedule'> = {
  id: 'schedule',
  evaluate: ({ policy, ctx }) => {
    if (policy.schedule === undefined || policy.schedule.windows.length === 0) return pass('no schedule, always on')
    const s = inSchedule(policy.schedule, ctx.now)
    const at = `${s.day} ${fmtMinutes(s.minute)} (${policy.schedule.timezone})`
    return { ok: s.inside, text: `${at} ${s.inside ? 'is inside' : 'is outside'} ${describeSchedule(policy.schedule)}` }
  }
}
