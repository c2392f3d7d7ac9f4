/**
 * Your price: how you charge (one price per job, per unit of work, a minimum plus per unit), the amounts,
 * the price in words with two example jobs, the warning when it is free, and the market's suggestion.
 */
import type { Json, MarketRateView } from '../../../shared/api/contract.js'
import { formatTokens, priceText } from '../../../shared/api/format.js'
import { quote } from '../../../shared/policy/pricing.js'
import type { Policy } from '../../../shared/policy/types.js'
import { h, type Child } from '../../dom.js'
import { numberInput, sub } from './controls.js'
import { obj, setSub, syncAll, type PolicyDraft } from './draft.js'

const MODES: Array<[string, string]> = [['fixed', 'One price per job'], ['per_mfuel', 'Per unit of work (per million fuel)'], ['floor_plus_rate', 'A minimum plus per unit of work']]

export interface PricingField {
  body: Child[]
  /** Shows a valid price in words and whether it is free; undefined (an invalid price): neither. */
  show(p: Policy['pricing'] | undefined): void
}

export function pricingField (f: PolicyDraft, rate: MarketRateView | null): PricingField {
  const priceFree = h('p', { class: 'warning loud', role: 'alert', 'data-testid': 'policy-free' }, 'At 0 tokens you sell for free: every job earns nothing.')
  const priceExample = h('p', { class: 'hint', 'data-testid': 'price-example' })
  const modeBoxes = MODES.map(([m]) => h('input', { type: 'radio', name: 'pricing-mode', value: m, 'data-testid': `mode-${m}` }))
  const read = (sk: string) => () => obj(f.draft.pricing)[sk]
  // a node with no saved policy has no pricing in its draft: the form shows "One price per job" (the
  // default), so a price typed there is a fixed price, not a pricing without a mode
  const write = (sk: string) => (v: Json | undefined) => {
    if (obj(f.draft.pricing).mode === undefined) setSub(f, 'pricing', 'mode', 'fixed')
    setSub(f, 'pricing', sk, v)
  }
  const priceIn = numberInput(f, 'price-fixed', read('price'), write('price'), { unit: 'tokens per job', min: 0 })
  const floorIn = numberInput(f, 'price-floor', read('floor'), write('floor'), { unit: 'tokens per job', min: 0 })
  const rateIn = numberInput(f, 'price-rate', read('ratePerMillionFuel'), write('ratePerMillionFuel'), { unit: 'tokens per million fuel', min: 0 })
  const parts = { price: sub('Price per job', priceIn), floor: sub('Minimum per job', floorIn), rate: sub('Rate', rateIn, 'charged on the job\'s work budget (its max fuel), rounded up to whole tokens') }
  const syncMode = (): void => {
    const m = String(obj(f.draft.pricing).mode ?? 'fixed')
    for (const b of modeBoxes) b.checked = b.value === m
    parts.price.hidden = m !== 'fixed'
    parts.floor.hidden = m !== 'floor_plus_rate'
    parts.rate.hidden = m === 'fixed'
  }
  f.syncs.push(syncMode)
  for (const b of modeBoxes) {
    b.addEventListener('change', () => {
      const p = obj(f.draft.pricing)
      const keep = (k: string, d: Json): Json => p[k] ?? d
      f.draft.pricing = b.value === 'fixed' ? { mode: 'fixed', price: keep('price', 0) } : b.value === 'per_mfuel' ? { mode: 'per_mfuel', ratePerMillionFuel: keep('ratePerMillionFuel', 1) } : { mode: 'floor_plus_rate', floor: keep('floor', 1), ratePerMillionFuel: keep('ratePerMillionFuel', 1) }
      syncMode()
      syncAll(f)
      f.changed('form')
    })
  }
  return {
    body: [h('div', { class: 'checks column' }, MODES.map(([_m, label], i) => h('label', {}, modeBoxes[i], ` ${label}`))), parts.price, parts.floor, parts.rate, priceExample, priceFree, marketHint(f, rate)],
    show (p) {
      if (p === undefined) {
        priceExample.textContent = ''
        priceFree.hidden = true
        return
      }
      const ex = [100_000_000n, 10_000_000_000n].map((fuel) => `${(Number(fuel) / 1e6).toLocaleString()} million fuel → ${formatTokens(quote(p, fuel).price.toString())}`)
      priceExample.textContent = `${priceText({ mode: p.mode, price: p.mode === 'fixed' ? p.price.toString() : null, floor: p.mode === 'floor_plus_rate' ? p.floor.toString() : null, ratePerMillionFuel: p.mode === 'fixed' ? null : p.ratePerMillionFuel.toString() })}. A job of ${ex.join('; a job of ')}.`
      priceFree.hidden = !(p.mode === 'fixed' ? p.price === 0n : p.mode === 'per_mfuel' ? p.ratePerMillionFuel === 0n : p.floor === 0n && p.ratePerMillionFuel === 0n)
    }
  }
}

/** What buyers paid, with a button that sets the suggested price per job; or why there is no market rate yet. */
function marketHint (f: PolicyDraft, rate: MarketRateView | null): HTMLElement {
  const suggested = rate?.suggestedPrice ?? null
  return suggested !== null && rate !== null && rate.price !== null
    ? h('p', { class: 'suggest', 'data-testid': 'policy-suggest' }, `Buyers paid a median of ${formatTokens(rate.price.median)} per job recently (${rate.samples} signed receipts of other executors). `,
      h('button', { type: 'button', class: 'small', 'data-testid': 'use-suggested', onclick: () => { f.draft.pricing = { mode: 'fixed', price: Number(suggested) }; syncAll(f); f.changed('form') } }, `Use ${formatTokens(suggested)} per job`))
    : h('p', { class: 'hint' }, 'No market rate yet: it appears once other executors\' signed receipts have been heard (Market page).')
}
