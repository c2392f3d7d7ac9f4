/** The form's sections: one card per group of fields, in the order the owner thinks about them. */
import type { FieldGroup } from '../../../shared/policy/fields.js'
import { h } from '../../dom.js'
import { fieldBox, type FieldBodies } from './controls.js'
import type { Key, PolicyDraft } from './draft.js'

const GROUPS: Array<{ id: FieldGroup | 'when', title: string, keys: Key[], intro?: string }> = [
  { id: 'pricing', title: 'Your price', keys: ['pricing'], intro: 'Prices are in tokens. Work is measured in fuel: about one WebAssembly instruction per unit, so a second of busy CPU is roughly a billion.' },
  { id: 'resources', title: 'What you offer', keys: ['offer', 'maxConcurrentJobs'], intro: 'The one place for CPU, memory, disk and GPU limits: buyers see this offer, and jobs needing more are skipped.' },
  { id: 'when', title: 'When to take work', keys: ['schedule', 'idleOnly', 'stopOnBattery', 'thermalGuard'] },
  { id: 'jobs', title: 'Which jobs', keys: ['acceptedQos', 'allowInteractive', 'maxTimeoutSeconds', 'maxFuel'] },
  { id: 'originators', title: 'Which buyers', keys: ['allowedRegions', 'allowedOriginators', 'blockedOriginators', 'minOriginatorRecord'] },
  { id: 'bidding', title: 'Bidding', keys: ['bidMarginMs'], intro: 'Bidding automatically and pausing are switches on the Overview (and the snooze below): they are not part of the policy versions.' }
]

/** The group cards, each field framed by fieldBox around its body; `snooze` closes the "when" group. */
export function groupSections (f: PolicyDraft, bodies: FieldBodies, snooze: HTMLElement): HTMLElement[] {
  return GROUPS.map((grp) => h('section', { class: 'card wide policy-group', 'aria-labelledby': `h-pg-${grp.id}`, 'data-testid': `group-${grp.id}` },
    h('h2', { id: `h-pg-${grp.id}` }, grp.title),
    grp.intro !== undefined ? h('p', { class: 'hint' }, grp.intro) : null,
    h('div', { class: 'form-grid' }, grp.keys.map((k) => fieldBox(f, k, ...(bodies[k] ?? [])))),
    grp.id === 'when' ? snooze : null))
}
