/**
 * What the draft would have done: 400 ms after the last valid edit, market.simulate over the last 100
 * announcements, shown in words (a newer edit's answer wins; a failure clears the line).
 */
import type { JsonObject } from '../../../shared/api/contract.js'
import { formatTokens } from '../../../shared/api/format.js'
import { h } from '../../dom.js'
import type { PageCtx } from '../../page.js'

export interface DraftPreview {
  el: HTMLElement
  /**
   * Simulates `policy` (a valid draft, copied now) once no newer edit came for 400 ms. Not the draft
   * as it is when the timer fires: an edit in between may have made it invalid, and the node answers
   * an invalid policy with 400.
   */
  update(policy: JsonObject): void
  dispose(): void
}

export function draftPreview (api: PageCtx['api']): DraftPreview {
  const el = h('p', { class: 'hint', 'data-testid': 'policy-preview', 'aria-live': 'polite' })
  let timer: ReturnType<typeof setTimeout> | undefined
  let seq = 0
  return {
    el,
    update (policy) {
      if (timer !== undefined) clearTimeout(timer)
      const valid = structuredClone(policy)
      timer = setTimeout(() => {
        const mine = ++seq
        api.call('market.simulate', { policy: valid, lastN: 100 }).then((r) => {
          if (mine !== seq) return
          el.textContent = r.considered === 0 ? 'No announcements yet to try this policy on.' : `With this draft, of the last ${r.considered} jobs announced you would have bid on ${r.wouldBid} (now: ${r.items.filter((i) => i.actualDecision === 'bid').length}), worth ${formatTokens(r.impliedEarnings)} if every bid won.`
        }, () => { if (mine === seq) el.textContent = '' })
      }, 400)
    },
    dispose () { if (timer !== undefined) clearTimeout(timer) }
  }
}
