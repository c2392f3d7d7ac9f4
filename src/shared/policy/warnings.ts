import { sellsForFree } from './pricing.js'
import type { Policy } from './types.js'

/** What the owner should be told while this policy is in force: selling for free, not bidding at all. */
export function ownerWarnings (p: Policy): string[] {
  const w: string[] = []
  if (sellsForFree(p.pricing)) w.push('Your price is 0: jobs are run for free. Set a price in Policies.')
  if (!p.autoBid) w.push('Auto-bid is off: this node will not bid on jobs.')
  return w
}
