/** The limits on what is bid on: which jobs (QoS, interactive, time and work limits, the bid margin) and which buyers. */
import type { Json } from '../../../shared/api/contract.js'
import { QOS_PROFILES } from '../../../shared/protocol/types.js'
import { h } from '../../dom.js'
import { checkbox, listInput, numberInput, sub, type FieldBodies } from './controls.js'
import { obj, setKey, setSub, type PolicyDraft } from './draft.js'
import { QOS_WORDS } from './labels.js'

/** Which jobs, and how long bidding waits (the bidding group). */
export function jobFields (f: PolicyDraft): FieldBodies {
  const qosBoxes = QOS_PROFILES.map((q) => {
    const b = h('input', { type: 'checkbox', value: q, name: 'acceptedQos', 'data-testid': `qos-${q}` })
    f.syncs.push(() => { const v = f.draft.acceptedQos; b.checked = Array.isArray(v) ? v.includes(q) : true })
    b.addEventListener('change', () => { const on = qosBoxes.filter((x) => x.checked).map((x) => x.value); setKey(f, 'acceptedQos', on.length === QOS_PROFILES.length ? undefined : on); f.changed('form') })
    return b
  })
  return {
    acceptedQos: [h('div', { class: 'checks' }, qosBoxes.map((b) => h('label', {}, b, ` ${QOS_WORDS[b.value] ?? b.value}`)))],
    allowInteractive: [h('label', {}, checkbox(f, 'interactive', () => f.draft.allowInteractive !== false, (on) => { setKey(f, 'allowInteractive', on ? undefined : false) }), ' Take jobs that talk to the buyer while they run')],
    maxTimeoutSeconds: [numberInput(f, 'max-timeout', () => f.draft.maxTimeoutSeconds, (v) => { setKey(f, 'maxTimeoutSeconds', v) }, { min: 1, unit: 'seconds', placeholder: 'no limit' })],
    maxFuel: [numberInput(f, 'max-fuel', () => f.draft.maxFuel, (v) => { setKey(f, 'maxFuel', v) }, { min: 0, unit: 'fuel', placeholder: 'no limit' }), h('p', { class: 'hint' }, 'Fuel counts the work of a job: roughly one unit per WebAssembly instruction. 1 000 000 000 is about a second of busy CPU.')],
    bidMarginMs: [numberInput(f, 'bid-margin', () => f.draft.bidMarginMs, (v) => { setKey(f, 'bidMarginMs', v) }, { min: 0, max: 60000, unit: 'milliseconds', placeholder: '100' })]
  }
}

/** Which buyers: regions, allowed and blocked buyers, the minimum record. */
export function buyerFields (f: PolicyDraft): FieldBodies {
  const read = (sk: string) => () => obj(f.draft.minOriginatorRecord)[sk]
  const write = (sk: string) => (v: Json | undefined) => { setSub(f, 'minOriginatorRecord', sk, v) }
  return {
    allowedRegions: [listInput(f, 'allowedRegions', 'regions', 'eu-west, us-east')],
    allowedOriginators: [listInput(f, 'allowedOriginators', 'allowed', 'did:key:z6Mk… one per line')],
    blockedOriginators: [listInput(f, 'blockedOriginators', 'blocked', 'did:key:z6Mk… one per line')],
    minOriginatorRecord: [
      sub('Stop after this many bids without ever being picked', numberInput(f, 'rec-bids', read('maxBidsWithoutAssignment'), write('maxBidsWithoutAssignment'), { min: 1, unit: 'bids', placeholder: 'no limit' })),
      sub('Stop after this many failed jobs with none completed', numberInput(f, 'rec-failed', read('maxFailedWithoutCompletion'), write('maxFailedWithoutCompletion'), { min: 1, unit: 'jobs', placeholder: 'no limit' }))
    ]
  }
}
