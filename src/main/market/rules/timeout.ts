import { fail, pass, type RuleDef } from './rule.js'

export const timeout: RuleDef<'timeout'> = {
  id: 'timeout',
  evaluate: ({ a, policy }) => {
    const t = a.job_params.timeout_seconds
    if (policy.maxTimeoutSeconds === undefined) return pass(`job timeout ${t}s, no limit`)
    return t > policy.maxTimeoutSeconds ? fail(`job timeout ${t}s > our max ${policy.maxTimeoutSeconds}s`) : pass(`job timeout ${t}s ≤ our max ${policy.maxTimeoutSeconds}s`)
  }
}
