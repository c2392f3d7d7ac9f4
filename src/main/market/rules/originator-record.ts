import { fail, pass, type RuleDef } from './rule.js'

export const originatorRecord: RuleDef<'originator_record'> = {
  id: 'originator_record',
  evaluate: ({ policy, ctx }) => {
    const rec = ctx.originatorRecord
    const rule = policy.minOriginatorRecord
    if (rule.maxBidsWithoutAssignment === undefined && rule.maxFailedWithoutCompletion === undefined) return pass('no minimum record required')
    if (rec === undefined) return pass('new originator, no history yet')
    const problems: string[] = []
    if (rule.maxBidsWithoutAssignment !== undefined && rec.assigned === 0 && rec.bidsSent >= rule.maxBidsWithoutAssignment) {
      problems.push(`${rec.bidsSent} bids, never assigned (limit ${rule.maxBidsWithoutAssignment})`)
    }
    if (rule.maxFailedWithoutCompletion !== undefined && rec.completed === 0 && rec.failed >= rule.maxFailedWithoutCompletion) {
      problems.push(`${rec.failed} of their jobs failed, none completed (limit ${rule.maxFailedWithoutCompletion})`)
    }
    return problems.length > 0
      ? fail(problems.join('; '))
      : pass(`${rec.bidsSent} bids, ${rec.assigned} assigned, ${rec.completed} completed, ${rec.failed} failed`)
  }
}
