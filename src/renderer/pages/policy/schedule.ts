/** Working hours: the switch, the time zone and the weekly windows (days, from, until), re-drawn from the draft. */
import type { Json, JsonObject } from '../../../shared/api/contract.js'
import { WEEKDAYS } from '../../../shared/policy/types.js'
import { h, clear, append, type Child } from '../../dom.js'
import { checkbox, sub } from './controls.js'
import { isObj, obj, setKey, setSub, type PolicyDraft } from './draft.js'

const DAY_WORDS: Record<string, string> = { sun: 'Sun', mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat' }

export function scheduleField (f: PolicyDraft): Child[] {
  const scheduleOn = checkbox(f, 'schedule-on', () => isObj(f.draft.schedule), (on) => {
    setKey(f, 'schedule', on ? { timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '18:00', to: '08:00' }, { days: ['sat', 'sun'], from: '00:00', to: '24:00' }] } : undefined)
  })
  const box = h('div', { class: 'schedule', 'data-testid': 'schedule-editor' })
  const zones = ((Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? ['UTC']).slice()
  const render = (): void => {
    clear(box)
    const s = f.draft.schedule
    if (!isObj(s)) { box.append(h('p', { class: 'hint' }, 'Always: bids go out at any hour.')); return }
    const tz = h('select', { 'data-testid': 'schedule-tz', id: 'pf-schedule-tz' }, [...new Set(['UTC', String(s.timezone ?? 'UTC'), ...zones])].map((z) => h('option', { value: z }, z)))
    tz.value = String(s.timezone ?? 'UTC')
    tz.addEventListener('change', () => { setSub(f, 'schedule', 'timezone', tz.value); f.changed('form') })
    const windows = Array.isArray(s.windows) ? s.windows : []
    append(box, [
      sub('Time zone', tz),
      ...windows.map((w, i) => windowRow(f, windows, w, i, render)),
      h('button', { type: 'button', class: 'small', 'data-testid': 'schedule-add', onclick: () => { setSub(f, 'schedule', 'windows', [...windows, { days: ['sat', 'sun'], from: '00:00', to: '24:00' }]); render(); f.changed('form') } }, 'Add hours'),
      h('p', { class: 'hint' }, 'A window whose end is before its start runs past midnight (Mon 18:00 until 08:00 = Monday evening to Tuesday morning). Until 00:00 means to the end of the day.')
    ])
  }
  f.syncs.push(render)
  return [h('label', {}, scheduleOn, ' Only during these hours'), box]
}

/** Window `i`: its days, from and until, and a button removing it (`render` re-draws the editor). */
function windowRow (f: PolicyDraft, windows: Json[], w: Json, i: number, render: () => void): HTMLElement {
  const win = obj(w)
  const days = Array.isArray(win.days) ? win.days.map(String) : []
  const setWin = (patch: JsonObject): void => {
    const list = Array.isArray(obj(f.draft.schedule).windows) ? [...(obj(f.draft.schedule).windows as Json[])] : []
    list[i] = { ...obj(list[i]), ...patch }
    setSub(f, 'schedule', 'windows', list)
    f.changed('form')
  }
  const dayBoxes = WEEKDAYS.map((d) => {
    const b = h('input', { type: 'checkbox', value: d, 'data-testid': `win-${i}-${d}` })
    b.checked = days.includes(d)
    b.addEventListener('change', () => { setWin({ days: dayBoxes.filter((x) => x.checked).map((x) => x.value) }) })
    return b
  })
  const from = h('input', { type: 'time', value: String(win.from ?? '18:00'), 'data-testid': `win-${i}-from`, 'aria-label': `window ${i + 1} from` })
  const to = h('input', { type: 'time', value: String(win.to === '24:00' ? '00:00' : win.to ?? '08:00'), 'data-testid': `win-${i}-to`, 'aria-label': `window ${i + 1} until` })
  from.addEventListener('input', () => { setWin({ from: from.value }) })
  // 00:00 as an end means the end of the day (the policy writes 24:00)
  to.addEventListener('input', () => { setWin({ to: to.value === '00:00' ? '24:00' : to.value }) })
  const remove = h('button', { type: 'button', class: 'small secondary', 'aria-label': `remove window ${i + 1}`, onclick: () => { const list = [...windows]; list.splice(i, 1); setSub(f, 'schedule', 'windows', list); render(); f.changed('form') } }, 'Remove')
  return h('div', { class: 'window', 'data-testid': `window-${i}` },
    h('div', { class: 'checks' }, dayBoxes.map((b) => h('label', {}, b, ` ${DAY_WORDS[b.value] ?? b.value}`))),
    h('span', {}, 'from ', from, ' until ', to, ' '), remove)
}
