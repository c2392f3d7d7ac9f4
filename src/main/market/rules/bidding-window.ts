import { formatTimestamp } from '../../../shared/protocol/index.js'
import { biddingCloses } from '../context.js'
import { fail, pass, secs, type RuleDef } from './rule.js'

export const biddingWindow: RuleDef<'bidding_window'> = {
  id: 'bidding_window',
  evaluate: ({ a, policy, ctx }) => {
    try {
      const { closesAt, cause } = biddingCloses(a)
      const left = closesAt - ctx.now
      if (left <= 0) return fail(`${cause === 'deadline' ? 'deadline' : 'bidding window'} passed ${secs(-left)} ago (${formatTimestamp(closesAt)})`)
      if (left < policy.bidMarginMs) return fail(`closes in ${left}ms, less than our ${policy.bidMarginMs}ms margin`)
      return pass(`open for ${secs(left)} more${cause === 'deadline' ? ' (until the deadline)' : ''}`)
    } catch (err) {
      return fail(`bad timing fields: ${(err as Error).message}`)
    }
  }
}
