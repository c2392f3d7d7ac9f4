import { asBig, fail, pass, type RuleDef } from './rule.js'

export const price: RuleDef<'price'> = {
  id: 'price',
  evaluate: ({ a, policy, quote: q }) => {
    const maxPrice = a.job_params.execution_policy?.max_price
    if (maxPrice === undefined || maxPrice === null) return pass(`our price ${q.price} (${q.breakdown}); job sets no max_price`)
    const mp = asBig(maxPrice)
    if (policy.pricing.mode === 'floor_plus_rate' && mp < policy.pricing.floor) return fail(`job max_price ${mp} < our floor ${policy.pricing.floor}`)
    if (mp < q.price) return fail(`job max_price ${mp} < our price ${q.price} (${q.breakdown})`)
    return pass(`our price ${q.price} ≤ job max_price ${mp} (${q.breakdown})`)
  }
}
