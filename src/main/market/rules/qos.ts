import { fail, list, pass, type RuleDef } from './rule.js'

export const qos: RuleDef<'qos'> = {
  id: 'qos',
  evaluate: ({ a, policy }) => {
    const q = a.job_params.qos_profile
    return policy.acceptedQos.includes(q) ? pass(`${q} accepted`) : fail(`${q} not accepted ${list(policy.acceptedQos)}`)
  }
}
