/** The draft's problems shown while typing: each in its field's slot (the field's inputs marked invalid) and all in the summary. */
import type { PolicyError } from '../../../shared/policy/types.js'
import { h, clear } from '../../dom.js'
import type { Key, PolicyDraft } from './draft.js'
import { errorLabel } from './labels.js'

export function showProblems (f: PolicyDraft, summary: HTMLElement, list: PolicyError[]): void {
  for (const slot of f.slots.values()) clear(slot)
  for (const el of document.querySelectorAll('#policies-form [aria-invalid="true"]')) el.setAttribute('aria-invalid', 'false')
  clear(summary)
  for (const e of list) {
    const key = e.path.split(/[.[]/)[0] as Key
    f.slots.get(key)?.append(h('li', { class: 'error', 'data-path': e.path }, `${errorLabel(e)}: ${e.message}`))
    f.slots.get(key)?.closest('fieldset')?.querySelectorAll('input, textarea, select').forEach((x) => { if ((x as HTMLInputElement).type !== 'radio' && (x as HTMLInputElement).type !== 'checkbox') x.setAttribute('aria-invalid', 'true') })
  }
  if (list.length === 0) summary.append(h('p', { class: 'ok' }, '✓ The policy is valid'))
  else summary.append(h('p', { class: 'error' }, `${list.length} problem${list.length === 1 ? '' : 's'} to fix before saving:`), h('ul', { class: 'errors' }, list.map((e) => h('li', { class: 'error', 'data-path': e.path }, h('strong', {}, errorLabel(e)), ': ', e.message))))
}

/** A problem that is not about one field (the JSON does not parse, is no object, saving failed). */
export function showOne (summary: HTMLElement, p: HTMLElement): void {
  clear(summary)
  summary.append(p)
}
