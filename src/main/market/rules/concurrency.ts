import { fail, pass, type RuleDef } from './rule.js'

export const concurrency: RuleDef<'concurrency'> = {
  id: 'concurrency',
  evaluate: ({ policy, ctx }) => ctx.activeJobs >= policy.maxConcurrentJobs
    ? fail(`${ctx.activeJobs} job${ctx.activeJobs === 1 ? '' : 's'} running, max ${policy.maxConcurrentJobs}`)
    : pass(`${ctx.activeJobs} of ${policy.maxConcurrentJobs} job slots in use`)
}
