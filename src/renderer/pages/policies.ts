/**
 * The bidding policy as plain forms. Every label, help text, unit and default comes from the policy's
 * field table (src/shared/policy/fields.ts) and every check is validatePolicy — the same code the CLI's
 * --policy and the API run — so a draft is checked while typing and each problem is named by the label
 * the form shows. The JSON stays available (advanced) and in sync. Pause/snooze and auto-bid are
 * switches (runtime state), not policy versions: the snooze picker here calls node.pause.
 */
import type { Json, JsonObject, MarketRateView, NodeStatus, OfferView, PolicyView } from '../../shared/api/contract.js'
import { formatBytes, formatTokens, priceText } from '../../shared/api/format.js'
import { FIELDS, type FieldGroup, type PolicyField } from '../../shared/policy/fields.js'
import { validatePolicy } from '../../shared/policy/validate.js'
import { quote } from '../../shared/policy/pricing.js'
import { DEFAULT_THERMAL_GUARD, DEFAULT_IDLE_GRACE_SECONDS } from '../../shared/policy/fields.js'
import { WEEKDAYS, type Policy, type PolicyError } from '../../shared/policy/types.js'
import { QOS_PROFILES } from '../../shared/protocol/types.js'
import { h, clear, time, table, append, type Child } from '../dom.js'
import { errorMessage, type PageFactory } from '../page.js'

const GIB = 1024 ** 3
type Key = keyof Policy

/** Labels of the parts of composite fields (errors name them after the field's label). */
const SUB_LABELS: Record<string, string> = {
  'pricing.mode': 'how you charge',
  'pricing.price': 'price per job',
  'pricing.floor': 'minimum per job',
  'pricing.ratePerMillionFuel': 'rate per million fuel',
  'offer.cpuCores': 'CPU cores',
  'offer.cpuFraction': 'CPU share',
  'offer.ramBytes': 'memory',
  'offer.ramFraction': 'memory share',
  'offer.diskBytes': 'disk space',
  'offer.offerGpus': 'GPUs',
  'idleOnly.maxLoadPerCore': 'busiest load per core',
  'idleOnly.minUserIdleSeconds': 'user away for at least',
  'idleOnly.graceSeconds': 'ignore spikes shorter than',
  'thermalGuard.stopAboveC': 'stop above',
  'thermalGuard.resumeBelowC': 'resume below',
  'minOriginatorRecord.maxBidsWithoutAssignment': 'bids without ever being picked',
  'minOriginatorRecord.maxFailedWithoutCompletion': 'failed jobs without one completed',
  'schedule.timezone': 'time zone'
}
const QOS_WORDS: Record<string, string> = { BestEffort: 'Best effort', LowLatency: 'Low latency', CostOptimized: 'Cost optimised', GuaranteedCompletion: 'Guaranteed completion' }
const DAY_WORDS: Record<string, string> = { sun: 'Sun', mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat' }
const GROUPS: Array<{ id: FieldGroup | 'when', title: string, keys: Key[], intro?: string }> = [
  { id: 'pricing', title: 'Your price', keys: ['pricing'], intro: 'Prices are in tokens. Work is measured in fuel: about one WebAssembly instruction per unit, so a second of busy CPU is roughly a billion.' },
  { id: 'resources', title: 'What you offer', keys: ['offer', 'maxConcurrentJobs'], intro: 'The one place for CPU, memory, disk and GPU limits: buyers see this offer, and jobs needing more are skipped.' },
  { id: 'when', title: 'When to take work', keys: ['schedule', 'idleOnly', 'stopOnBattery', 'thermalGuard'] },
  { id: 'jobs', title: 'Which jobs', keys: ['acceptedQos', 'allowInteractive', 'maxTimeoutSeconds', 'maxFuel'] },
  { id: 'originators', title: 'Which buyers', keys: ['allowedRegions', 'allowedOriginators', 'blockedOriginators', 'minOriginatorRecord'] },
  { id: 'bidding', title: 'Bidding', keys: ['bidMarginMs'], intro: 'Bidding automatically and pausing are switches on the Overview (and the snooze below): they are not part of the policy versions.' }
]

const isObj = (v: Json | undefined): v is JsonObject => v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v)
const obj = (v: Json | undefined): JsonObject => isObj(v) ? v : {}
const numOrStr = (s: string): Json => { const n = Number(s); return Number.isSafeInteger(n) ? n : s }

/** The label an error is named by: the field's label, plus the part for composite fields. */
export function errorLabel (e: Pick<PolicyError, 'path' | 'label'>): string {
  const base = e.path.replace(/\[\d+\]/g, '')
  const sub = SUB_LABELS[base] ?? (base.startsWith('schedule.windows') ? `window ${Number(/\[(\d+)\]/.exec(e.path)?.[1] ?? 0) + 1}${base.endsWith('.days') ? ' days' : base.endsWith('.from') ? ' from' : base.endsWith('.to') ? ' to' : ''}` : undefined)
  const entry = /^(allowedRegions|allowedOriginators|blockedOriginators|acceptedQos)\[(\d+)\]$/.exec(e.path)
  return sub !== undefined ? `${e.label} — ${sub}` : entry !== null ? `${e.label} — entry ${Number(entry[2]) + 1}` : e.label
}

/** What leaving a field out means, where "none" would not say it. */
const EMPTY_MEANS: Partial<Record<Key, string>> = {
  schedule: 'always (no working hours)', pausedUntil: 'not paused', idleOnly: 'off', thermalGuard: 'off', maxTimeoutSeconds: 'no limit', maxFuel: 'no limit',
  allowedRegions: 'any region', allowedOriginators: 'anyone not blocked', blockedOriginators: 'nobody', minOriginatorRecord: 'no minimum', acceptedQos: 'all four'
}

function defaultText (k: Key): string {
  const f = FIELDS[k] as PolicyField<Key>
  const empty = EMPTY_MEANS[k]
  if (empty !== undefined) return empty
  const j = f.toJson(f.default as never)
  if (j === undefined) return 'none'
  if (typeof j === 'boolean') return j ? 'on' : 'off'
  if (Array.isArray(j)) return j.length === 0 ? 'empty' : j.map((x) => QOS_WORDS[String(x)] ?? String(x)).join(', ')
  if (k === 'pricing') return '0 tokens per job (free)'
  if (typeof j === 'object' && j !== null) return Object.keys(j).length === 0 ? 'the whole machine' : JSON.stringify(j)
  return `${String(j)}${f.unit !== undefined ? ` ${j === 1 ? f.unit.replace(/s$/, '') : f.unit}` : ''}`
}

export const policiesPage: PageFactory = async ({ api }) => {
  const [g, st, rate] = await Promise.all([
    api.call('policy.get', {}),
    api.call('node.status', {}),
    api.call('market.rate', {}).catch(() => null as MarketRateView | null)
  ])
  let saved: JsonObject = g.current?.policy ?? {}
  let draft: JsonObject = structuredClone(saved)
  const machine: OfferView | null = st.offer ?? null
  const slots = new Map<Key, HTMLElement>()
  const inputs: Array<() => void> = []
  const json = h('textarea', { id: 'policy-json', rows: 16, spellcheck: 'false', class: 'mono', 'data-testid': 'policy-json', 'aria-describedby': 'policy-errors' })
  const errors = h('div', { id: 'policy-errors', 'data-testid': 'policy-errors', 'aria-live': 'polite' })
  const note = h('input', { id: 'policy-note', type: 'text', maxlength: 200, placeholder: 'what changed (optional)' })
  const save = h('button', { type: 'button', 'data-testid': 'policy-save' }, 'Save as new version')
  const revert = h('button', { type: 'button', class: 'secondary', 'data-testid': 'policy-revert' }, 'Discard changes')
  const savedMsg = h('p', { 'data-testid': 'policy-saved', role: 'status' })
  const dirty = h('span', { class: 'hint', 'data-testid': 'policy-dirty' })
  const preview = h('p', { class: 'hint', 'data-testid': 'policy-preview', 'aria-live': 'polite' })
  const history = h('div', {})
  const versionLabel = h('span', { 'data-testid': 'policy-version' })

  // ---- the draft ------------------------------------------------------------------------------
  const setKey = (k: string, v: Json | undefined): void => { if (v === undefined) delete draft[k]; else draft[k] = v }
  const setSub = (k: string, sub: string, v: Json | undefined): void => {
    const o = { ...obj(draft[k]) }
    if (v === undefined) delete o[sub]; else o[sub] = v
    draft[k] = o
  }

  // ---- controls ---------------------------------------------------------------------------------
  const numberInput = (testid: string, read: () => Json | undefined, write: (v: Json | undefined) => void, o: { step?: string, min?: number, max?: number, unit?: string, placeholder?: string, scale?: number } = {}): HTMLElement => {
    const input = h('input', { type: 'number', inputmode: 'decimal', step: o.step ?? '1', min: o.min, max: o.max, placeholder: o.placeholder ?? '', 'data-testid': testid, id: `pf-${testid}` })
    const sync = (): void => {
      const v = read()
      input.value = typeof v === 'number' ? String(o.scale !== undefined ? Math.round(v / o.scale * 100) / 100 : v) : typeof v === 'string' ? v : ''
    }
    inputs.push(sync)
    input.addEventListener('input', () => {
      const t = input.value.trim()
      if (t === '') write(undefined)
      else if (o.scale !== undefined) write(Number.isFinite(Number(t)) ? Math.round(Number(t) * o.scale) : t)
      else write(/^\d+$/.test(t) ? numOrStr(t) : Number.isFinite(Number(t)) ? Number(t) : t)
      changed('form')
    })
    return h('span', { class: 'with-unit' }, input, o.unit !== undefined ? h('span', { class: 'unit' }, o.unit) : null)
  }
  const checkbox = (testid: string, read: () => boolean, write: (on: boolean) => void): HTMLInputElement => {
    const box = h('input', { type: 'checkbox', 'data-testid': testid, id: `pf-${testid}` })
    inputs.push(() => { box.checked = read() })
    box.addEventListener('change', () => { write(box.checked); inputs.forEach((sync) => { sync() }); changed('form') })
    return box
  }
  const listInput = (k: Key, testid: string, placeholder: string): HTMLElement => {
    const ta = h('textarea', { rows: 2, spellcheck: 'false', 'data-testid': testid, id: `pf-${testid}`, placeholder })
    inputs.push(() => { const v = draft[k]; ta.value = Array.isArray(v) ? v.map(String).join('\n') : '' })
    // one entry per line or comma: "EU West" stays one entry (and is named as wrong), not two regions
    ta.addEventListener('input', () => { const xs = ta.value.split(/[\n,]+/).map((x) => x.trim()).filter((x) => x !== ''); setKey(k, xs.length === 0 ? undefined : xs); changed('form') })
    return ta
  }
  const sub = (label: string, control: Child, hint?: string): HTMLElement => h('div', { class: 'subfield' }, h('span', { class: 'label' }, label), control, hint !== undefined ? h('small', { class: 'hint' }, hint) : null)

  /** One policy field: label, help, default and unit from its descriptor; its errors appear in its slot while typing. */
  const fieldBox = (k: Key, ...body: Child[]): HTMLElement => {
    const f = FIELDS[k] as PolicyField<Key>
    const slot = h('ul', { class: 'field-errors', 'data-testid': `errors-${k}` })
    slots.set(k, slot)
    return h('fieldset', { class: 'pfield', 'data-field': k, 'data-testid': `field-${k}` },
      h('legend', {}, f.label, f.unit !== undefined && f.unit !== 'tokens' ? h('span', { class: 'unit' }, ` (${f.unit})`) : null),
      h('p', { class: 'help' }, f.help),
      ...body,
      h('p', { class: 'hint default' }, `Default: ${defaultText(k)}`),
      slot)
  }

  // ---- price ------------------------------------------------------------------------------------
  const priceFree = h('p', { class: 'warning loud', role: 'alert', 'data-testid': 'policy-free' }, 'At 0 tokens you sell for free: every job earns nothing.')
  const priceExample = h('p', { class: 'hint', 'data-testid': 'price-example' })
  const modes: Array<[string, string]> = [['fixed', 'One price per job'], ['per_mfuel', 'Per unit of work (per million fuel)'], ['floor_plus_rate', 'A minimum plus per unit of work']]
  const modeBoxes = modes.map(([m]) => h('input', { type: 'radio', name: 'pricing-mode', value: m, 'data-testid': `mode-${m}` }))
  const pricingRead = (sk: string) => () => obj(draft.pricing)[sk]
  const pricingWrite = (sk: string) => (v: Json | undefined) => { setSub('pricing', sk, v) }
  const priceIn = numberInput('price-fixed', pricingRead('price'), pricingWrite('price'), { unit: 'tokens per job', min: 0 })
  const floorIn = numberInput('price-floor', pricingRead('floor'), pricingWrite('floor'), { unit: 'tokens per job', min: 0 })
  const rateIn = numberInput('price-rate', pricingRead('ratePerMillionFuel'), pricingWrite('ratePerMillionFuel'), { unit: 'tokens per million fuel', min: 0 })
  const priceParts = { price: sub('Price per job', priceIn), floor: sub('Minimum per job', floorIn), rate: sub('Rate', rateIn, 'charged on the job\'s work budget (its max fuel), rounded up to whole tokens') }
  const syncMode = (): void => {
    const m = String(obj(draft.pricing).mode ?? 'fixed')
    for (const b of modeBoxes) b.checked = b.value === m
    priceParts.price.hidden = m !== 'fixed'
    priceParts.floor.hidden = m !== 'floor_plus_rate'
    priceParts.rate.hidden = m === 'fixed'
  }
  inputs.push(syncMode)
  for (const b of modeBoxes) {
    b.addEventListener('change', () => {
      const p = obj(draft.pricing)
      const keep = (k: string, d: Json): Json => p[k] ?? d
      draft.pricing = b.value === 'fixed' ? { mode: 'fixed', price: keep('price', 0) } : b.value === 'per_mfuel' ? { mode: 'per_mfuel', ratePerMillionFuel: keep('ratePerMillionFuel', 1) } : { mode: 'floor_plus_rate', floor: keep('floor', 1), ratePerMillionFuel: keep('ratePerMillionFuel', 1) }
      syncMode()
      inputs.forEach((s) => { s() })
      changed('form')
    })
  }
  const suggested = rate?.suggestedPrice ?? null
  const marketHint = suggested !== null && rate !== null && rate.price !== null
    ? h('p', { class: 'suggest', 'data-testid': 'policy-suggest' }, `Buyers paid a median of ${formatTokens(rate.price.median)} per job recently (${rate.samples} signed receipts of other executors). `,
      h('button', { type: 'button', class: 'small', 'data-testid': 'use-suggested', onclick: () => { draft.pricing = { mode: 'fixed', price: Number(suggested) }; inputs.forEach((s) => { s() }); changed('form') } }, `Use ${formatTokens(suggested)} per job`))
    : h('p', { class: 'hint' }, 'No market rate yet: it appears once other executors\' signed receipts have been heard (Market page).')

  // ---- offer ------------------------------------------------------------------------------------
  const offerRead = (sk: string) => () => obj(draft.offer)[sk]
  const offerWrite = (sk: string) => (v: Json | undefined) => { setSub('offer', sk, v) }
  const ofMachine = (s: string): string => machine === null ? '' : ` of ${s} on this machine`
  const gpuList = machine === null || machine.gpus.length === 0 ? 'No GPU found on this machine.' : machine.gpus.map((x) => `${x.vendor} ${x.model}`).join(', ')

  // ---- schedule ---------------------------------------------------------------------------------
  const scheduleOn = checkbox('schedule-on', () => isObj(draft.schedule), (on) => {
    setKey('schedule', on ? { timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '18:00', to: '08:00' }, { days: ['sat', 'sun'], from: '00:00', to: '24:00' }] } : undefined)
  })
  const scheduleBox = h('div', { class: 'schedule', 'data-testid': 'schedule-editor' })
  const zones = ((Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? ['UTC']).slice()
  const renderSchedule = (): void => {
    clear(scheduleBox)
    const s = draft.schedule
    if (!isObj(s)) { scheduleBox.append(h('p', { class: 'hint' }, 'Always: bids go out at any hour.')); return }
    const tz = h('select', { 'data-testid': 'schedule-tz', id: 'pf-schedule-tz' }, [...new Set(['UTC', String(s.timezone ?? 'UTC'), ...zones])].map((z) => h('option', { value: z }, z)))
    tz.value = String(s.timezone ?? 'UTC')
    tz.addEventListener('change', () => { setSub('schedule', 'timezone', tz.value); changed('form') })
    const windows = Array.isArray(s.windows) ? s.windows : []
    const rows = windows.map((w, i) => {
      const win = obj(w)
      const days = Array.isArray(win.days) ? win.days.map(String) : []
      const setWin = (patch: JsonObject): void => {
        const list = Array.isArray(obj(draft.schedule).windows) ? [...(obj(draft.schedule).windows as Json[])] : []
        list[i] = { ...obj(list[i]), ...patch }
        setSub('schedule', 'windows', list)
        changed('form')
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
      const remove = h('button', { type: 'button', class: 'small secondary', 'aria-label': `remove window ${i + 1}`, onclick: () => { const list = [...windows]; list.splice(i, 1); setSub('schedule', 'windows', list); renderSchedule(); changed('form') } }, 'Remove')
      return h('div', { class: 'window', 'data-testid': `window-${i}` },
        h('div', { class: 'checks' }, dayBoxes.map((b) => h('label', {}, b, ` ${DAY_WORDS[b.value] ?? b.value}`))),
        h('span', {}, 'from ', from, ' until ', to, ' '), remove)
    })
    append(scheduleBox, [
      sub('Time zone', tz),
      ...rows,
      h('button', { type: 'button', class: 'small', 'data-testid': 'schedule-add', onclick: () => { setSub('schedule', 'windows', [...windows, { days: ['sat', 'sun'], from: '00:00', to: '24:00' }]); renderSchedule(); changed('form') } }, 'Add hours'),
      h('p', { class: 'hint' }, 'A window whose end is before its start runs past midnight (Mon 18:00 until 08:00 = Monday evening to Tuesday morning). Until 00:00 means to the end of the day.')
    ])
  }
  inputs.push(renderSchedule)

  // ---- idle, thermal ------------------------------------------------------------------------------
  const idleParts = h('div', { class: 'parts' })
  const idleOn = checkbox('idle-on', () => draft.idleOnly === true || isObj(draft.idleOnly), (on) => { setKey('idleOnly', on ? { maxLoadPerCore: 0.5, minUserIdleSeconds: 300, graceSeconds: DEFAULT_IDLE_GRACE_SECONDS } : undefined) })
  const idleRead = (sk: string) => () => draft.idleOnly === true ? ({ maxLoadPerCore: 0.5, minUserIdleSeconds: 300 } as JsonObject)[sk] : obj(draft.idleOnly)[sk]
  const idleWrite = (sk: string) => (v: Json | undefined) => { if (draft.idleOnly === true) draft.idleOnly = { maxLoadPerCore: 0.5, minUserIdleSeconds: 300 }; setSub('idleOnly', sk, v) }
  append(idleParts, [
    sub('Busiest load per core', numberInput('idle-load', idleRead('maxLoadPerCore'), idleWrite('maxLoadPerCore'), { step: '0.05', min: 0, placeholder: 'no limit' }), '1-minute load average divided by the cores; 0.5 = half busy'),
    sub('User away for at least', numberInput('idle-user', idleRead('minUserIdleSeconds'), idleWrite('minUserIdleSeconds'), { unit: 'seconds', min: 0, placeholder: 'not checked' }), 'the desktop app reports it; a headless node cannot tell and skips this check'),
    sub('Ignore spikes shorter than', numberInput('idle-grace', idleRead('graceSeconds'), idleWrite('graceSeconds'), { unit: 'seconds', min: 0, max: 3600, placeholder: String(DEFAULT_IDLE_GRACE_SECONDS) }), `so a short burst does not stop and restart bidding; also how long the machine must stay idle again (default ${DEFAULT_IDLE_GRACE_SECONDS} s)`)
  ])
  inputs.push(() => { idleParts.hidden = !(draft.idleOnly === true || isObj(draft.idleOnly)) })

  const thermalParts = h('div', { class: 'parts' })
  const thermalOn = checkbox('thermal-on', () => draft.thermalGuard === true || isObj(draft.thermalGuard), (on) => { setKey('thermalGuard', on ? { ...DEFAULT_THERMAL_GUARD } : undefined) })
  const thRead = (sk: 'stopAboveC' | 'resumeBelowC') => () => draft.thermalGuard === true ? DEFAULT_THERMAL_GUARD[sk] : obj(draft.thermalGuard)[sk]
  const thWrite = (sk: string) => (v: Json | undefined) => { if (draft.thermalGuard === true) draft.thermalGuard = { ...DEFAULT_THERMAL_GUARD }; setSub('thermalGuard', sk, v) }
  append(thermalParts, [
    sub('Stop bidding above', numberInput('thermal-stop', thRead('stopAboveC'), thWrite('stopAboveC'), { unit: '°C', min: 30, max: 110 })),
    sub('Resume below', numberInput('thermal-resume', thRead('resumeBelowC'), thWrite('resumeBelowC'), { unit: '°C', min: 30, max: 110 }), 'lower than the stop temperature, so bidding does not flap around one value'),
    h('p', { class: 'hint', 'data-testid': 'thermal-now' }, machine?.cpuTemperatureC === null || machine === null ? 'This machine does not report its CPU temperature: the guard has nothing to act on.' : `CPU now: ${machine.cpuTemperatureC.toFixed(0)} °C.`)
  ])
  inputs.push(() => { thermalParts.hidden = !(draft.thermalGuard === true || isObj(draft.thermalGuard)) })

  // ---- qos, record --------------------------------------------------------------------------------
  const qosBoxes = QOS_PROFILES.map((q) => {
    const b = h('input', { type: 'checkbox', value: q, name: 'acceptedQos', 'data-testid': `qos-${q}` })
    inputs.push(() => { const v = draft.acceptedQos; b.checked = Array.isArray(v) ? v.includes(q) : true })
    b.addEventListener('change', () => { const on = qosBoxes.filter((x) => x.checked).map((x) => x.value); setKey('acceptedQos', on.length === QOS_PROFILES.length ? undefined : on); changed('form') })
    return b
  })
  const recRead = (sk: string) => () => obj(draft.minOriginatorRecord)[sk]
  const recWrite = (sk: string) => (v: Json | undefined) => { setSub('minOriginatorRecord', sk, v) }

  // ---- the form -----------------------------------------------------------------------------------
  const bodies: Partial<Record<Key, Child[]>> = {
    pricing: [h('div', { class: 'checks column' }, modes.map(([_m, label], i) => h('label', {}, modeBoxes[i], ` ${label}`))), priceParts.price, priceParts.floor, priceParts.rate, priceExample, priceFree, marketHint],
    offer: [
      sub('CPU cores', numberInput('offer-cpu', offerRead('cpuCores'), offerWrite('cpuCores'), { step: '0.5', min: 0, unit: `cores${ofMachine(String(machine?.cpu.machine ?? ''))}`, placeholder: 'all' })),
      sub('Memory', numberInput('offer-ram', offerRead('ramBytes'), offerWrite('ramBytes'), { step: '0.5', min: 0, unit: `GiB${ofMachine(formatBytes(machine?.ramBytes.machine))}`, placeholder: 'all', scale: GIB })),
      sub('Disk space', numberInput('offer-disk', offerRead('diskBytes'), offerWrite('diskBytes'), { step: '1', min: 0, unit: `GiB${machine?.diskBytes.machineFree !== null && machine !== null ? ` of ${formatBytes(machine.diskBytes.machineFree)} free` : ''}`, placeholder: 'all free', scale: GIB })),
      h('div', { class: 'subfield' }, h('label', {}, checkbox('offer-gpus', () => obj(draft.offer).offerGpus !== false, (on) => { setSub('offer', 'offerGpus', on ? undefined : false) }), ' Offer my GPUs'), h('small', { class: 'hint' }, gpuList)),
      h('details', { class: 'advanced' }, h('summary', {}, 'Share of the machine instead of amounts'),
        sub('CPU share', numberInput('offer-cpu-share', offerRead('cpuFraction'), offerWrite('cpuFraction'), { step: '0.05', min: 0, max: 1, placeholder: '1 = all' }), '0.5 = half the cores; with cores set too, the smaller wins'),
        sub('Memory share', numberInput('offer-ram-share', offerRead('ramFraction'), offerWrite('ramFraction'), { step: '0.05', min: 0, max: 1, placeholder: '1 = all' }))),
      h('p', { class: 'hint', 'data-testid': 'offer-now' }, machine === null ? '' : `Buyers see now: ${machine.cpu.offered} cores, ${formatBytes(machine.ramBytes.offered)} memory${machine.gpus.some((x) => x.offered) ? `, ${machine.gpus.length} GPU(s)` : ''}.`)
    ],
    maxConcurrentJobs: [numberInput('max-jobs', () => draft.maxConcurrentJobs, (v) => { setKey('maxConcurrentJobs', v) }, { min: 0, max: 1024, unit: 'jobs', placeholder: '1' })],
    schedule: [h('label', {}, scheduleOn, ' Only during these hours'), scheduleBox],
    idleOnly: [h('label', {}, idleOn, ' Only bid while the machine is idle'), idleParts],
    stopOnBattery: [h('label', {}, checkbox('battery', () => draft.stopOnBattery !== false, (on) => { setKey('stopOnBattery', on ? undefined : false) }), ' Do not bid on battery power')],
    thermalGuard: [h('label', {}, thermalOn, ' Stop bidding when the CPU is too hot'), thermalParts],
    acceptedQos: [h('div', { class: 'checks' }, qosBoxes.map((b) => h('label', {}, b, ` ${QOS_WORDS[b.value] ?? b.value}`)))],
    allowInteractive: [h('label', {}, checkbox('interactive', () => draft.allowInteractive !== false, (on) => { setKey('allowInteractive', on ? undefined : false) }), ' Take jobs that talk to the buyer while they run')],
    maxTimeoutSeconds: [numberInput('max-timeout', () => draft.maxTimeoutSeconds, (v) => { setKey('maxTimeoutSeconds', v) }, { min: 1, unit: 'seconds', placeholder: 'no limit' })],
    maxFuel: [numberInput('max-fuel', () => draft.maxFuel, (v) => { setKey('maxFuel', v) }, { min: 0, unit: 'fuel', placeholder: 'no limit' }), h('p', { class: 'hint' }, 'Fuel counts the work of a job: roughly one unit per WebAssembly instruction. 1 000 000 000 is about a second of busy CPU.')],
    allowedRegions: [listInput('allowedRegions', 'regions', 'eu-west, us-east')],
    allowedOriginators: [listInput('allowedOriginators', 'allowed', 'did:key:z6Mk… one per line')],
    blockedOriginators: [listInput('blockedOriginators', 'blocked', 'did:key:z6Mk… one per line')],
    minOriginatorRecord: [
      sub('Stop after this many bids without ever being picked', numberInput('rec-bids', recRead('maxBidsWithoutAssignment'), recWrite('maxBidsWithoutAssignment'), { min: 1, unit: 'bids', placeholder: 'no limit' })),
      sub('Stop after this many failed jobs with none completed', numberInput('rec-failed', recRead('maxFailedWithoutCompletion'), recWrite('maxFailedWithoutCompletion'), { min: 1, unit: 'jobs', placeholder: 'no limit' }))
    ],
    bidMarginMs: [numberInput('bid-margin', () => draft.bidMarginMs, (v) => { setKey('bidMarginMs', v) }, { min: 0, max: 60000, unit: 'milliseconds', placeholder: '100' })]
  }

  // ---- snooze (runtime, not a version) ----------------------------------------------------------
  const snoozeAt = h('input', { type: 'datetime-local', 'data-testid': 'snooze-at', id: 'snooze-at' })
  const snoozeMsg = h('p', { role: 'status', 'data-testid': 'snooze-status' })
  const showSnooze = (s: NodeStatus): void => { snoozeMsg.textContent = s.pausedUntil === null ? 'Not paused.' : `Paused until ${new Date(s.pausedUntil).toLocaleString()}.` }
  const snoozeBtn = h('button', { type: 'button', 'data-testid': 'snooze', onclick: () => {
    const t = new Date(snoozeAt.value).getTime()
    if (!Number.isFinite(t) || t <= Date.now()) { snoozeMsg.textContent = 'Choose a time in the future.'; return }
    api.call('node.pause', { untilMs: t }).then(showSnooze, (err: unknown) => { snoozeMsg.textContent = errorMessage(err) })
  } }, 'Snooze until then')
  const resumeBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': 'snooze-resume', onclick: () => { api.call('node.pause', { untilMs: null }).then(showSnooze, (err: unknown) => { snoozeMsg.textContent = errorMessage(err) }) } }, 'Resume now')
  showSnooze(st)

  // ---- validation while typing -------------------------------------------------------------------
  const localProblems = (): PolicyError[] => {
    const out: PolicyError[] = []
    const off = obj(draft.offer)
    const label = FIELDS.offer.label
    if (machine !== null && typeof off.cpuCores === 'number' && off.cpuCores > machine.cpu.machine) out.push({ path: 'offer.cpuCores', label, message: `this machine has ${machine.cpu.machine} cores: offer at most ${machine.cpu.machine}` })
    if (machine !== null && typeof off.ramBytes === 'number' && off.ramBytes > machine.ramBytes.machine) out.push({ path: 'offer.ramBytes', label, message: `this machine has ${formatBytes(machine.ramBytes.machine)} of memory: offer at most that` })
    return out
  }
  let simTimer: ReturnType<typeof setTimeout> | undefined
  let simSeq = 0
  const simulate = (): void => {
    if (simTimer !== undefined) clearTimeout(simTimer)
    simTimer = setTimeout(() => {
      const mine = ++simSeq
      api.call('market.simulate', { policy: draft, lastN: 100 }).then((r) => {
        if (mine !== simSeq) return
        preview.textContent = r.considered === 0 ? 'No announcements yet to try this policy on.' : `With this draft, of the last ${r.considered} jobs announced you would have bid on ${r.wouldBid} (now: ${r.items.filter((i) => i.actualDecision === 'bid').length}), worth ${formatTokens(r.impliedEarnings)} if every bid won.`
      }, () => { if (mine === simSeq) preview.textContent = '' })
    }, 400)
  }
  function changed (from: 'form' | 'json'): void {
    if (from === 'form') json.value = JSON.stringify(draft, null, 2)
    else inputs.forEach((s) => { s() })
    const v = validatePolicy(draft)
    const list = [...(v.ok ? [] : v.errors), ...localProblems()]
    for (const slot of slots.values()) clear(slot)
    for (const el of document.querySelectorAll('#policies-form [aria-invalid="true"]')) el.setAttribute('aria-invalid', 'false')
    clear(errors)
    for (const e of list) {
      const key = e.path.split(/[.[]/)[0] as Key
      slots.get(key)?.append(h('li', { class: 'error', 'data-path': e.path }, `${errorLabel(e)}: ${e.message}`))
      slots.get(key)?.closest('fieldset')?.querySelectorAll('input, textarea, select').forEach((x) => { if ((x as HTMLInputElement).type !== 'radio' && (x as HTMLInputElement).type !== 'checkbox') x.setAttribute('aria-invalid', 'true') })
    }
    if (list.length === 0) errors.append(h('p', { class: 'ok' }, '✓ The policy is valid'))
    else errors.append(h('p', { class: 'error' }, `${list.length} problem${list.length === 1 ? '' : 's'} to fix before saving:`), h('ul', { class: 'errors' }, list.map((e) => h('li', { class: 'error', 'data-path': e.path }, h('strong', {}, errorLabel(e)), ': ', e.message))))
    save.disabled = list.length > 0 || JSON.stringify(draft) === JSON.stringify(saved)
    dirty.textContent = JSON.stringify(draft) === JSON.stringify(saved) ? 'No unsaved changes.' : 'Unsaved changes.'
    // the price in words, and the free warning
    if (v.ok) {
      const p = v.policy.pricing
      const ex = [100_000_000n, 10_000_000_000n].map((f) => `${(Number(f) / 1e6).toLocaleString()} million fuel → ${formatTokens(quote(p, f).price.toString())}`)
      priceExample.textContent = `${priceText({ mode: p.mode, price: p.mode === 'fixed' ? p.price.toString() : null, floor: p.mode === 'floor_plus_rate' ? p.floor.toString() : null, ratePerMillionFuel: p.mode === 'fixed' ? null : p.ratePerMillionFuel.toString() })}. A job of ${ex.join('; a job of ')}.`
      priceFree.hidden = !(p.mode === 'fixed' ? p.price === 0n : p.mode === 'per_mfuel' ? p.ratePerMillionFuel === 0n : p.floor === 0n && p.ratePerMillionFuel === 0n)
      simulate()
    }
  }
  json.addEventListener('input', () => {
    let p: unknown
    try { p = JSON.parse(json.value) } catch (err) {
      clear(errors)
      errors.append(h('p', { class: 'error', 'data-testid': 'json-syntax' }, `The JSON has a syntax error: ${errorMessage(err)}`))
      save.disabled = true
      return
    }
    if (!isObj(p as Json)) { clear(errors); errors.append(h('p', { class: 'error' }, 'The policy must be a JSON object { … }')); save.disabled = true; return }
    draft = p as JsonObject
    changed('json')
  })

  const renderHistory = (h0: PolicyView[], cur: PolicyView | null): void => {
    versionLabel.textContent = cur === null ? 'none saved yet: the built-in default is in force' : `version ${cur.version}`
    clear(history)
    history.append(table(['Version', 'Saved', 'Note'], h0.map((v) => [String(v.version), time(v.createdAt), v.note ?? '']), { testid: 'policy-history', empty: 'No version saved yet.' }))
  }
  save.addEventListener('click', () => {
    save.disabled = true
    const n = note.value.trim()
    api.call('policy.save', n === '' ? { policy: draft } : { policy: draft, note: n }).then(async (v) => {
      savedMsg.textContent = `Saved as version ${v.version}. The node uses it for the next announcement.`
      note.value = ''
      saved = v.policy
      draft = structuredClone(v.policy)
      json.value = JSON.stringify(draft, null, 2)
      inputs.forEach((s) => { s() })
      const g2 = await api.call('policy.get', {})
      renderHistory(g2.history, g2.current)
      changed('json')
    }, (err: unknown) => { savedMsg.textContent = ''; clear(errors); errors.append(h('p', { class: 'error', role: 'alert' }, errorMessage(err))) })
  })
  revert.addEventListener('click', () => { draft = structuredClone(saved); json.value = JSON.stringify(draft, null, 2); changed('json'); savedMsg.textContent = '' })

  const sections = GROUPS.map((grp) => h('section', { class: 'card wide policy-group', 'aria-labelledby': `h-pg-${grp.id}`, 'data-testid': `group-${grp.id}` },
    h('h2', { id: `h-pg-${grp.id}` }, grp.title),
    grp.intro !== undefined ? h('p', { class: 'hint' }, grp.intro) : null,
    h('div', { class: 'form-grid' }, grp.keys.map((k) => fieldBox(k, ...(bodies[k] ?? [])))),
    grp.id === 'when'
      ? h('fieldset', { class: 'pfield', 'data-testid': 'snooze-box' }, h('legend', {}, 'Snooze'), h('p', { class: 'help' }, 'No bids until a time you choose. A switch, not a policy change: it makes no new version.'),
        h('div', { class: 'buttons' }, h('label', { for: 'snooze-at' }, 'Until '), snoozeAt, snoozeBtn, resumeBtn), snoozeMsg)
      : null))

  const el = h('div', { class: 'grid', id: 'policies-form' },
    h('section', { class: 'card wide', 'aria-labelledby': 'h-pol' },
      h('h2', { id: 'h-pol' }, 'Bidding policy ', h('small', {}, '(', versionLabel, ')')),
      h('p', { class: 'hint' }, 'What this node bids on and at what price. Changes are checked as you type, with the same rules as a policy file on the command line; saving makes a new version the node uses for the next job announced.'),
      errors, preview,
      h('div', { class: 'buttons' }, h('label', { for: 'policy-note' }, 'Note '), note, save, revert, dirty), savedMsg),
    ...sections,
    h('section', { class: 'card wide' }, h('details', { 'data-testid': 'policy-json-box' }, h('summary', {}, 'Advanced: the policy as JSON (the same format as mesh-executor start --policy FILE)'),
      h('label', { for: 'policy-json' }, 'Policy JSON'), json)),
    h('section', { class: 'card wide' }, h('h2', {}, 'History'), history))

  json.value = JSON.stringify(draft, null, 2)
  inputs.forEach((s) => { s() })
  renderHistory(g.history, g.current)
  changed('json')
  return { title: 'Policies', el, dispose () { if (simTimer !== undefined) clearTimeout(simTimer) } }
}


