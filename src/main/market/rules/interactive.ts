import { fail, pass, type RuleDef } from './rule.js'

export const interactive: RuleDef<'interactive'> = {
  id: 'interactive',
  evaluate: ({ a, policy }) => {
    if (!a.job_params.is_interactive) return pass('batch job')
    return policy.allowInteractive ? pass('interactive job allowed') : fail('interactive jobs not allowed')
  }
}
