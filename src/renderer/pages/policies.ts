/**
 * The bidding policy as plain forms. Every label, help text, unit and default comes from the policy's
 * field table (src/shared/policy/fields.ts) and every check is validatePolicy — the same code the CLI's
 * --policy and the API run — so a draft is checked while typing and each problem is named by the label
 * the form shows. The JSON stays available (advanced) and in sync. Pause/snooze and auto-bid are
 * switches (runtime state), not policy versions: the snooze picker here calls node.pause.
 *
 * This file loads the policy and puts the page together: the draft and its controls are in policy/draft.ts
 * and policy/controls.ts, each group's fields in policy/{pricing,offer,schedule,conditions,limits}.ts.
 */
import type { Json, JsonObject, MarketRateView } from '../../shared/api/contract.js'
import { validatePolicy } from '../../shared/policy/validate.js'
import { h } from '../dom.js'
import { errorMessage, type PageCtx, type PageFactory } from '../page.js'
import { conditionFields } from './policy/conditions.js'
import { createDraft, isObj, syncAll, type PolicyDraft } from './policy/draft.js'
import { groupSections } from './policy/groups.js'
import { policyHistory, type PolicyHistory } from './policy/history.js'
import { buyerFields, jobFields } from './policy/limits.js'
import { offerFields, offerProblems } from './policy/offer.js'
import { draftPreview } from './policy/preview.js'
import { pricingField } from './policy/pricing.js'
import { showOne, showProblems } from './policy/problems.js'
import { scheduleField } from './policy/schedule.js'
import { snoozeBox } from './policy/snooze.js'

export { errorLabel } from './policy/labels.js'

export const policiesPage: PageFactory = async ({ api }) => {
  const [g, st, rate] = await Promise.all([
    api.call('policy.get', {}),
    api.call('node.status', {}),
    api.call('market.rate', {}).catch(() => null as MarketRateView | null)
  ])
  const f = createDraft(g.current?.policy ?? {}, st.offer ?? null)
  const json = h('textarea', { id: 'policy-json', rows: 16, spellcheck: 'false', class: 'mono', 'data-testid': 'policy-json', 'aria-describedby': 'policy-errors' })
  const errors = h('div', { id: 'policy-errors', 'data-testid': 'policy-errors', 'aria-live': 'polite' })
  const bar = saveBar()
  const history = policyHistory()
  const preview = draftPreview(api)
  const pricing = pricingField(f, rate)
  const bodies = { pricing: pricing.body, ...offerFields(f), schedule: scheduleField(f), ...conditionFields(f), ...jobFields(f), ...buyerFields(f) }

  f.changed = (from) => {
    if (from === 'form') json.value = JSON.stringify(f.draft, null, 2)
    else syncAll(f)
    const v = validatePolicy(f.draft)
    const list = [...(v.ok ? [] : v.errors), ...offerProblems(f.draft, f.machine)]
    showProblems(f, errors, list)
    const same = JSON.stringify(f.draft) === JSON.stringify(f.saved)
    bar.save.disabled = list.length > 0 || same
    bar.dirty.textContent = same ? 'No unsaved changes.' : 'Unsaved changes.'
    // the price in words and the free warning follow the price fields alone (an error elsewhere does
    // not hide them; an invalid price does not leave the last valid one in words), then what the
    // draft would have done
    const price = validatePolicy(f.draft.pricing === undefined ? {} : { pricing: f.draft.pricing })
    pricing.show(price.ok ? price.policy.pricing : undefined)
    if (v.ok) preview.update(f.draft)
  }
  json.addEventListener('input', () => { readJson(f, json.value, errors, bar.save) })
  bar.save.addEventListener('click', () => { saveDraft(api, f, { bar, errors, history, json }) })
  bar.revert.addEventListener('click', () => { f.draft = structuredClone(f.saved); json.value = JSON.stringify(f.draft, null, 2); f.changed('json'); bar.savedMsg.textContent = '' })

  const el = h('div', { class: 'grid', id: 'policies-form' },
    h('section', { class: 'card wide', 'aria-labelledby': 'h-pol' },
      h('h2', { id: 'h-pol' }, 'Bidding policy ', h('small', {}, '(', history.versionLabel, ')')),
      h('p', { class: 'hint' }, 'What this node bids on and at what price. Changes are checked as you type, with the same rules as a policy file on the command line; saving makes a new version the node uses for the next job announced.'),
      errors, preview.el,
      h('div', { class: 'buttons' }, h('label', { for: 'policy-note' }, 'Note '), bar.note, bar.save, bar.revert, bar.dirty), bar.savedMsg),
    ...groupSections(f, bodies, snoozeBox(api, st)),
    h('section', { class: 'card wide' }, h('details', { 'data-testid': 'policy-json-box' }, h('summary', {}, 'Advanced: the policy as JSON (the same format as mesh-executor start --policy FILE)'),
      h('label', { for: 'policy-json' }, 'Policy JSON'), json)),
    h('section', { class: 'card wide' }, h('h2', {}, 'History'), history.el))

  json.value = JSON.stringify(f.draft, null, 2)
  syncAll(f)
  history.render(g.history, g.current)
  f.changed('json')
  return { title: 'Policies', el, dispose () { preview.dispose() } }
}

interface SaveBar { note: HTMLInputElement, save: HTMLButtonElement, revert: HTMLButtonElement, savedMsg: HTMLElement, dirty: HTMLElement }

/** The note, save and discard buttons, what was saved, whether there are unsaved changes. */
function saveBar (): SaveBar {
  return {
    note: h('input', { id: 'policy-note', type: 'text', maxlength: 200, placeholder: 'what changed (optional)' }),
    save: h('button', { type: 'button', 'data-testid': 'policy-save' }, 'Save as new version'),
    revert: h('button', { type: 'button', class: 'secondary', 'data-testid': 'policy-revert' }, 'Discard changes'),
    savedMsg: h('p', { 'data-testid': 'policy-saved', role: 'status' }),
    dirty: h('span', { class: 'hint', 'data-testid': 'policy-dirty' })
  }
}

/** The JSON was edited: it becomes the draft if it is an object; otherwise why not, and no saving. */
function readJson (f: PolicyDraft, text: string, errors: HTMLElement, save: HTMLButtonElement): void {
  let p: unknown
  try { p = JSON.parse(text) } catch (err) {
    showOne(errors, h('p', { class: 'error', 'data-testid': 'json-syntax' }, `The JSON has a syntax error: ${errorMessage(err)}`))
    save.disabled = true
    return
  }
  if (!isObj(p as Json)) { showOne(errors, h('p', { class: 'error' }, 'The policy must be a JSON object { … }')); save.disabled = true; return }
  f.draft = p as JsonObject
  f.changed('json')
}

/** policy.save with the note; the saved version becomes the draft, and the history is re-read. */
function saveDraft (api: PageCtx['api'], f: PolicyDraft, ui: { bar: SaveBar, errors: HTMLElement, history: PolicyHistory, json: HTMLTextAreaElement }): void {
  const { bar, errors, history, json } = ui
  bar.save.disabled = true
  const n = bar.note.value.trim()
  api.call('policy.save', n === '' ? { policy: f.draft } : { policy: f.draft, note: n }).then(async (v) => {
    // the history first, so the title's version and the saved message change together
    const g2 = await api.call('policy.get', {})
    history.render(g2.history, g2.current)
    bar.savedMsg.textContent = `Saved as version ${v.version}. The node uses it for the next announcement.`
    bar.note.value = ''
    f.saved = v.policy
    f.draft = structuredClone(v.policy)
    json.value = JSON.stringify(f.draft, null, 2)
    syncAll(f)
    f.changed('json')
  }, (err: unknown) => { bar.savedMsg.textContent = ''; showOne(errors, h('p', { class: 'error', role: 'alert' }, errorMessage(err))) })
}
