import type { Json, JsonObject, PolicyIssue, PolicyView } from '../../shared/api/contract.js'
import { h, clear, field, time, table } from '../dom.js'
import { errorMessage, type PageFactory } from '../page.js'

const QOS = ['BestEffort', 'LowLatency', 'CostOptimized', 'GuaranteedCompletion']

type Getter = (p: JsonObject) => Json | undefined
type Setter = (p: JsonObject, v: Json | undefined) => void

function path (keys: string[]): { get: Getter, set: Setter } {
  return {
    get: (p) => {
      let cur: Json | undefined = p
      for (const k of keys) cur = cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? cur[k] : undefined
      return cur
    },
    set: (p, v) => {
      let cur: JsonObject = p
      for (const k of keys.slice(0, -1)) {
        const next = cur[k]
        if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[k] = {}
        cur = cur[k] as JsonObject
      }
      const last = keys[keys.length - 1] as string
      if (v === undefined) delete cur[last]
      else cur[last] = v
    }
  }
}

interface Binding { control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, read(p: JsonObject): void, write(p: JsonObject): void, path: string }

function numberField (keys: string[], opts: { step?: string, min?: number } = {}): Binding {
  const { get, set } = path(keys)
  const control = h('input', { type: 'number', step: opts.step ?? '1', min: opts.min ?? 0, name: keys.join('.') })
  return {
    control,
    path: keys.join('.'),
    read: (p) => { const v = get(p); control.value = typeof v === 'number' || typeof v === 'string' ? String(v) : '' },
    write: (p) => {
      if (control.value.trim() === '') { set(p, undefined); return }
      const n = Number(control.value)
      set(p, Number.isSafeInteger(n) || !Number.isInteger(n) ? n : control.value.trim())
    }
  }
}
function boolField (keys: string[], dflt: boolean): Binding {
  const { get, set } = path(keys)
  const control = h('input', { type: 'checkbox', name: keys.join('.') })
  return { control, path: keys.join('.'), read: (p) => { const v = get(p); control.checked = typeof v === 'boolean' ? v : dflt }, write: (p) => { set(p, control.checked) } }
}
function listField (keys: string[], sep: RegExp): Binding {
  const { get, set } = path(keys)
  const control = h('textarea', { rows: 2, name: keys.join('.'), spellcheck: 'false' })
  return {
    control,
    path: keys.join('.'),
    read: (p) => { const v = get(p); control.value = Array.isArray(v) ? v.map(String).join('\n') : '' },
    write: (p) => { const xs = control.value.split(sep).map((x) => x.trim()).filter((x) => x !== ''); set(p, xs.length === 0 ? undefined : xs) }
  }
}

export const policiesPage: PageFactory = async ({ api }) => {
  const json = h('textarea', { id: 'policy-json', rows: 18, spellcheck: 'false', class: 'mono', 'data-testid': 'policy-json', 'aria-describedby': 'policy-errors' })
  const errors = h('div', { id: 'policy-errors', 'data-testid': 'policy-errors', 'aria-live': 'polite' })
  const note = h('input', { id: 'policy-note', type: 'text', maxlength: 200, placeholder: 'what changed (optional)' })
  const save = h('button', { type: 'button', 'data-testid': 'policy-save' }, 'Save as new version')
  const saved = h('p', { 'data-testid': 'policy-saved', role: 'status' })
  const history = h('div', {})
  const versionLabel = h('span', { 'data-testid': 'policy-version' })

  const mode = h('select', { name: 'pricing.mode' }, ['fixed', 'per_mfuel', 'floor_plus_rate'].map((m) => h('option', { value: m }, m)))
  const qosBoxes = QOS.map((q) => h('input', { type: 'checkbox', value: q, name: 'acceptedQos' }))
  const b = {
    autoBid: boolField(['autoBid'], true),
    price: numberField(['pricing', 'price']),
    rate: numberField(['pricing', 'ratePerMillionFuel']),
    floor: numberField(['pricing', 'floor']),
    maxConcurrentJobs: numberField(['maxConcurrentJobs']),
    maxFuel: numberField(['maxFuel']),
    maxTimeoutSeconds: numberField(['maxTimeoutSeconds'], { min: 1 }),
    cpuFraction: numberField(['offer', 'cpuFraction'], { step: '0.05' }),
    ramFraction: numberField(['offer', 'ramFraction'], { step: '0.05' }),
    allowedRegions: listField(['allowedRegions'], /[\s,]+/),
    allowedOriginators: listField(['allowedOriginators'], /\s+/),
    blockedOriginators: listField(['blockedOriginators'], /\s+/),
    stopOnBattery: boolField(['stopOnBattery'], true),
    allowInteractive: boolField(['allowInteractive'], true),
    bidMarginMs: numberField(['bidMarginMs']),
    maxBids: numberField(['minOriginatorRecord', 'maxBidsWithoutAssignment'], { min: 1 }),
    maxFailed: numberField(['minOriginatorRecord', 'maxFailedWithoutCompletion'], { min: 1 }),
    idleLoad: numberField(['idleOnly', 'maxLoadPerCore'], { step: '0.1' }),
    idleSecs: numberField(['idleOnly', 'minUserIdleSeconds'])
  }
  const all: Binding[] = Object.values(b)

  let current: JsonObject = {}
  const parse = (): JsonObject | undefined => {
    try {
      const v = JSON.parse(json.value) as unknown
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as JsonObject : undefined
    } catch { return undefined }
  }
  const toForm = (p: JsonObject): void => {
    for (const x of all) x.read(p)
    const pr = p.pricing
    mode.value = pr !== null && typeof pr === 'object' && !Array.isArray(pr) && typeof pr.mode === 'string' ? pr.mode : 'fixed'
    const q = Array.isArray(p.acceptedQos) ? p.acceptedQos : QOS
    for (const box of qosBoxes) box.checked = q.includes(box.value)
    syncPricing()
  }
  const fromForm = (): void => {
    const p = parse() ?? current
    for (const x of all) x.write(p)
    const pr = path(['pricing'])
    const prev = pr.get(p)
    const obj: JsonObject = prev !== null && typeof prev === 'object' && !Array.isArray(prev) ? { ...prev } : {}
    obj.mode = mode.value
    if (mode.value === 'fixed') { delete obj.ratePerMillionFuel; delete obj.floor } else { delete obj.price; if (mode.value === 'per_mfuel') delete obj.floor }
    pr.set(p, obj)
    const chosen = qosBoxes.filter((x) => x.checked).map((x) => x.value)
    p.acceptedQos = chosen
    for (const k of ['offer', 'minOriginatorRecord', 'idleOnly']) {
      const v = p[k]
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) delete p[k]
    }
    json.value = JSON.stringify(p, null, 2)
    void validate()
  }
  const syncPricing = (): void => {
    b.price.control.closest('.field')?.classList.toggle('hidden', mode.value !== 'fixed')
    b.rate.control.closest('.field')?.classList.toggle('hidden', mode.value === 'fixed')
    b.floor.control.closest('.field')?.classList.toggle('hidden', mode.value !== 'floor_plus_rate')
  }

  let seq = 0
  const showErrors = (list: PolicyIssue[], syntax?: string): void => {
    clear(errors)
    for (const x of all) x.control.removeAttribute('aria-invalid')
    mode.removeAttribute('aria-invalid')
    if (syntax !== undefined) { errors.append(h('p', { class: 'error' }, `JSON syntax: ${syntax}`)); save.disabled = true; return }
    save.disabled = list.length > 0
    if (list.length === 0) { errors.append(h('p', { class: 'ok' }, '✓ Policy is valid')); return }
    errors.append(h('ul', { class: 'errors' }, list.map((e) => h('li', { class: 'error', 'data-path': e.path }, h('code', {}, e.path), ': ', e.message))))
    for (const x of all) if (list.some((e) => e.path === x.path || e.path.startsWith(x.path + '['))) x.control.setAttribute('aria-invalid', 'true')
    if (list.some((e) => e.path === 'pricing.mode' || e.path === 'pricing')) mode.setAttribute('aria-invalid', 'true')
  }
  const validate = async (): Promise<void> => {
    const mine = ++seq
    let p: unknown
    try { p = JSON.parse(json.value) } catch (err) { showErrors([], errorMessage(err)); return }
    if (typeof p !== 'object' || p === null || Array.isArray(p)) { showErrors([], 'the policy must be a JSON object'); return }
    try {
      const r = await api.call('policy.validate', { policy: p as JsonObject })
      if (mine === seq) showErrors(r.errors)
    } catch (err) { if (mine === seq) showErrors([{ path: '$', message: errorMessage(err) }]) }
  }

  const renderHistory = (h0: PolicyView[], cur: PolicyView | null): void => {
    versionLabel.textContent = cur === null ? 'none saved yet' : `version ${cur.version}`
    clear(history)
    history.append(table(['Version', 'Saved', 'Note'], h0.map((v) => [String(v.version), time(v.createdAt), v.note ?? '']), { testid: 'policy-history' }))
  }

  save.addEventListener('click', () => {
    const p = parse()
    if (p === undefined) return
    save.disabled = true
    const n = note.value.trim()
    api.call('policy.save', n === '' ? { policy: p } : { policy: p, note: n }).then(async (v) => {
      saved.textContent = `Saved as version ${v.version}. The node uses it for the next announcement.`
      note.value = ''
      current = v.policy
      const g = await api.call('policy.get', {})
      renderHistory(g.history, g.current)
    }, (err: unknown) => { saved.textContent = ''; showErrors([{ path: '$', message: errorMessage(err) }]) }).finally(() => { save.disabled = false })
  })
  json.addEventListener('input', () => {
    const p = parse()
    if (p !== undefined) toForm(p)
    void validate()
  })
  const formEls: HTMLElement[] = [...all.map((x) => x.control), mode, ...qosBoxes]
  for (const c of formEls) c.addEventListener('change', () => { syncPricing(); fromForm() })

  const el = h('div', { class: 'grid' },
    h('section', { class: 'card wide', 'aria-labelledby': 'h-pol' },
      h('h2', { id: 'h-pol' }, 'Bidding policy ', h('small', {}, '(', versionLabel, ')')),
      h('div', { class: 'form-grid' },
        h('fieldset', {}, h('legend', {}, 'Bidding'),
          field('Auto-bid', b.autoBid.control), field('Pricing mode', mode), field('Fixed price', b.price.control),
          field('Rate per 1M fuel', b.rate.control), field('Floor', b.floor.control), field('Max concurrent jobs', b.maxConcurrentJobs.control),
          field('Bid margin (ms)', b.bidMarginMs.control)),
        h('fieldset', {}, h('legend', {}, 'Limits'),
          field('Max fuel per job', b.maxFuel.control, 'empty = no limit'), field('Max timeout (s)', b.maxTimeoutSeconds.control, 'empty = no limit'),
          field('CPU share offered (0–1)', b.cpuFraction.control), field('RAM share offered (0–1)', b.ramFraction.control),
          field('Interactive jobs', b.allowInteractive.control), field('Stop on battery', b.stopOnBattery.control),
          field('Idle only: max load per core', b.idleLoad.control), field('Idle only: min user idle (s)', b.idleSecs.control)),
        h('fieldset', {}, h('legend', {}, 'Who and where'),
          field('Allowed regions', b.allowedRegions.control, 'empty = any region'),
          field('Allowed originators (DIDs)', b.allowedOriginators.control, 'empty = anyone not blocked'),
          field('Blocked originators (DIDs)', b.blockedOriginators.control),
          field('Max bids without assignment', b.maxBids.control), field('Max failures without completion', b.maxFailed.control),
          h('div', { class: 'field' }, h('span', { class: 'label' }, 'Accepted QoS'), h('div', { class: 'checks' }, qosBoxes.map((box) => h('label', {}, box, ` ${box.value}`)))))),
      field('Full policy (JSON; also schedule, pausedUntil…)', json),
      errors,
      h('div', { class: 'buttons' }, field('Note', note), save),
      saved),
    h('section', { class: 'card wide' }, h('h2', {}, 'History'), history))

  const g = await api.call('policy.get', {})
  current = g.current?.policy ?? {}
  json.value = JSON.stringify(current, null, 2)
  toForm(current)
  renderHistory(g.history, g.current)
  await validate()
  return { title: 'Policies', el }
}
