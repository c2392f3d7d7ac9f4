/**
 * The controls of the policy forms, each bound to the draft: it shows what the draft holds (its sync),
 * writes what is typed back into it and reports the change. fieldBox frames one policy field with the
 * label, help, unit and default from its descriptor, and the slot its errors appear in while typing.
 */
import type { Json } from '../../../shared/api/contract.js'
import { FIELDS, type PolicyField } from '../../../shared/policy/fields.js'
import { h, type Child } from '../../dom.js'
import { numOrStr, setKey, syncAll, type Key, type PolicyDraft } from './draft.js'
import { defaultText } from './labels.js'

export interface NumberOpts { step?: string, min?: number, max?: number, unit?: string, placeholder?: string, scale?: number }

/** A number (with its unit); `scale` shows the value divided by it (bytes as GiB). Text that is no number is kept, for validation to name. */
export function numberInput (f: PolicyDraft, testid: string, read: () => Json | undefined, write: (v: Json | undefined) => void, o: NumberOpts = {}): HTMLElement {
  const input = h('input', { type: 'number', inputmode: 'decimal', step: o.step ?? '1', min: o.min, max: o.max, placeholder: o.placeholder ?? '', 'data-testid': testid, id: `pf-${testid}` })
  const sync = (): void => {
    const v = read()
    input.value = typeof v === 'number' ? String(o.scale !== undefined ? Math.round(v / o.scale * 100) / 100 : v) : typeof v === 'string' ? v : ''
  }
  f.syncs.push(sync)
  input.addEventListener('input', () => {
    const t = input.value.trim()
    if (t === '') write(undefined)
    else if (o.scale !== undefined) write(Number.isFinite(Number(t)) ? Math.round(Number(t) * o.scale) : t)
    else write(/^\d+$/.test(t) ? numOrStr(t) : Number.isFinite(Number(t)) ? Number(t) : t)
    f.changed('form')
  })
  return h('span', { class: 'with-unit' }, input, o.unit !== undefined ? h('span', { class: 'unit' }, o.unit) : null)
}

/** A switch; turning it on or off may show or hide parts, so every control is synced after. */
export function checkbox (f: PolicyDraft, testid: string, read: () => boolean, write: (on: boolean) => void): HTMLInputElement {
  const box = h('input', { type: 'checkbox', 'data-testid': testid, id: `pf-${testid}` })
  f.syncs.push(() => { box.checked = read() })
  box.addEventListener('change', () => { write(box.checked); syncAll(f); f.changed('form') })
  return box
}

/** A list field, one entry per line or comma. */
export function listInput (f: PolicyDraft, k: Key, testid: string, placeholder: string): HTMLElement {
  const ta = h('textarea', { rows: 2, spellcheck: 'false', 'data-testid': testid, id: `pf-${testid}`, placeholder })
  f.syncs.push(() => { const v = f.draft[k]; ta.value = Array.isArray(v) ? v.map(String).join('\n') : '' })
  // one entry per line or comma: "EU West" stays one entry (and is named as wrong), not two regions
  ta.addEventListener('input', () => { const xs = ta.value.split(/[\n,]+/).map((x) => x.trim()).filter((x) => x !== ''); setKey(f, k, xs.length === 0 ? undefined : xs); f.changed('form') })
  return ta
}

/** One part of a composite field: its label, the control, an optional hint. */
export const sub = (label: string, control: Child, hint?: string): HTMLElement => h('div', { class: 'subfield' }, h('span', { class: 'label' }, label), control, hint !== undefined ? h('small', { class: 'hint' }, hint) : null)

/** One policy field: label, help, default and unit from its descriptor; its errors appear in its slot while typing. */
export function fieldBox (f: PolicyDraft, k: Key, ...body: Child[]): HTMLElement {
  const d = FIELDS[k] as PolicyField<Key>
  const slot = h('ul', { class: 'field-errors', 'data-testid': `errors-${k}` })
  f.slots.set(k, slot)
  return h('fieldset', { class: 'pfield', 'data-field': k, 'data-testid': `field-${k}` },
    h('legend', {}, d.label, d.unit !== undefined && d.unit !== 'tokens' ? h('span', { class: 'unit' }, ` (${d.unit})`) : null),
    h('p', { class: 'help' }, d.help),
    ...body,
    h('p', { class: 'hint default' }, `Default: ${defaultText(k)}`),
    slot)
}

/** The bodies of the fields a section builds, by field. */
export type FieldBodies = Partial<Record<Key, Child[]>>
