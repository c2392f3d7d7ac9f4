/** The machine's conditions for taking work: only while idle, not on battery, not when the CPU is too hot. */
import type { Json, JsonObject } from '../../../shared/api/contract.js'
import { DEFAULT_THERMAL_GUARD, DEFAULT_IDLE_GRACE_SECONDS } from '../../../shared/policy/fields.js'
import { h, append } from '../../dom.js'
import { checkbox, numberInput, sub, type FieldBodies } from './controls.js'
import { isObj, obj, setKey, setSub, type PolicyDraft } from './draft.js'

/** What `idleOnly: true` means, the parts it starts from when one is edited. */
const IDLE_TRUE = (): JsonObject => ({ maxLoadPerCore: 0.5, minUserIdleSeconds: 300 })

export function conditionFields (f: PolicyDraft): FieldBodies {
  return {
    idleOnly: idleField(f),
    stopOnBattery: [h('label', {}, checkbox(f, 'battery', () => f.draft.stopOnBattery !== false, (on) => { setKey(f, 'stopOnBattery', on ? undefined : false) }), ' Do not bid on battery power')],
    thermalGuard: thermalField(f)
  }
}

function idleField (f: PolicyDraft): HTMLElement[] {
  const parts = h('div', { class: 'parts' })
  const on = checkbox(f, 'idle-on', () => f.draft.idleOnly === true || isObj(f.draft.idleOnly), (v) => { setKey(f, 'idleOnly', v ? { maxLoadPerCore: 0.5, minUserIdleSeconds: 300, graceSeconds: DEFAULT_IDLE_GRACE_SECONDS } : undefined) })
  const read = (sk: string) => () => f.draft.idleOnly === true ? IDLE_TRUE()[sk] : obj(f.draft.idleOnly)[sk]
  const write = (sk: string) => (v: Json | undefined) => { if (f.draft.idleOnly === true) f.draft.idleOnly = IDLE_TRUE(); setSub(f, 'idleOnly', sk, v) }
  append(parts, [
    sub('Busiest load per core', numberInput(f, 'idle-load', read('maxLoadPerCore'), write('maxLoadPerCore'), { step: '0.05', min: 0, placeholder: 'no limit' }), '1-minute load average divided by the cores; 0.5 = half busy'),
    sub('User away for at least', numberInput(f, 'idle-user', read('minUserIdleSeconds'), write('minUserIdleSeconds'), { unit: 'seconds', min: 0, placeholder: 'not checked' }), 'the desktop app reports it; a headless node cannot tell and skips this check'),
    sub('Ignore spikes shorter than', numberInput(f, 'idle-grace', read('graceSeconds'), write('graceSeconds'), { unit: 'seconds', min: 0, max: 3600, placeholder: String(DEFAULT_IDLE_GRACE_SECONDS) }), `so a short burst does not stop and restart bidding; also how long the machine must stay idle again (default ${DEFAULT_IDLE_GRACE_SECONDS} s)`)
  ])
  f.syncs.push(() => { parts.hidden = !(f.draft.idleOnly === true || isObj(f.draft.idleOnly)) })
  return [h('label', {}, on, ' Only bid while the machine is idle'), parts]
}

function thermalField (f: PolicyDraft): HTMLElement[] {
  const machine = f.machine
  const parts = h('div', { class: 'parts' })
  const on = checkbox(f, 'thermal-on', () => f.draft.thermalGuard === true || isObj(f.draft.thermalGuard), (v) => { setKey(f, 'thermalGuard', v ? { ...DEFAULT_THERMAL_GUARD } : undefined) })
  const read = (sk: 'stopAboveC' | 'resumeBelowC') => () => f.draft.thermalGuard === true ? DEFAULT_THERMAL_GUARD[sk] : obj(f.draft.thermalGuard)[sk]
  const write = (sk: string) => (v: Json | undefined) => { if (f.draft.thermalGuard === true) f.draft.thermalGuard = { ...DEFAULT_THERMAL_GUARD }; setSub(f, 'thermalGuard', sk, v) }
  append(parts, [
    sub('Stop bidding above', numberInput(f, 'thermal-stop', read('stopAboveC'), write('stopAboveC'), { unit: '°C', min: 30, max: 110 })),
    sub('Resume below', numberInput(f, 'thermal-resume', read('resumeBelowC'), write('resumeBelowC'), { unit: '°C', min: 30, max: 110 }), 'lower than the stop temperature, so bidding does not flap around one value'),
    h('p', { class: 'hint', 'data-testid': 'thermal-now' }, machine?.cpuTemperatureC === null || machine === null ? 'This machine does not report its CPU temperature: the guard has nothing to act on.' : `CPU now: ${machine.cpuTemperatureC.toFixed(0)} °C.`)
  ])
  f.syncs.push(() => { parts.hidden = !(f.draft.thermalGuard === true || isObj(f.draft.thermalGuard)) })
  return [h('label', {}, on, ' Stop bidding when the CPU is too hot'), parts]
}
