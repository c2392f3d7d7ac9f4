import { fail, list, pass, type RuleDef } from './rule.js'

export const region: RuleDef<'region'> = {
  id: 'region',
  evaluate: ({ a, policy, ctx }) => {
    const filter = a.job_params.execution_policy?.region_filter ?? undefined
    const jobRegion = filter ?? ctx.topicRegion
    const problems: string[] = []
    if (policy.allowedRegions.length > 0) {
      if (jobRegion === undefined) problems.push(`job names no region, allowed ${list(policy.allowedRegions)}`)
      else if (!policy.allowedRegions.includes(jobRegion)) problems.push(`${jobRegion} not in allowed ${list(policy.allowedRegions)}`)
    }
    if (filter !== undefined && filter !== ctx.ourRegion) problems.push(`job requires ${filter}, we are ${ctx.ourRegion ?? 'in no region'}`)
    if (problems.length > 0) return fail(problems.join('; '))
    return pass(jobRegion === undefined ? 'job names no region' : `${jobRegion} ${policy.allowedRegions.length > 0 ? 'allowed' : 'accepted (any region)'}`)
  }
}
