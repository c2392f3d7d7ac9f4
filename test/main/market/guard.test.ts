/** The thermal guard (hysteresis) and the idle-only flapping guard (grace), from samples to decisions. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createMachineGuard, decide, parsePolicy, validatePolicy, type MachineState } from '../../../src/main/market/index.js'
import { T, announcement, context } from './fixtures.js'

const BASE = { pricing: { mode: 'fixed', price: 5 }, stopOnBattery: false }
const reason = (d: ReturnType<typeof decide>, rule: string): { ok: boolean, text: string } | undefined => d.reasons.find((r) => r.rule === rule)

test('thermal guard: the policy field (true = 85/75 °C; limits checked; resume below stop)', () => {
  assert.deepEqual(parsePolicy({ thermalGuard: true }).thermalGuard, { stopAboveC: 85, resumeBelowC: 75 })
  assert.deepEqual(parsePolicy({ thermalGuard: { stopAboveC: 80 } }).thermalGuard, { stopAboveC: 80, resumeBelowC: 75 })
  assert.equal(parsePolicy({ thermalGuard: false }).thermalGuard, undefined)
  const bad = validatePolicy({ thermalGuard: { stopAboveC: 70, resumeBelowC: 72 } })
  assert.equal(bad.ok, false)
  assert.deepEqual(!bad.ok && bad.errors.map((e) => `${e.label} (${e.path}): ${e.message}`), ['Thermal guard (thermalGuard.resumeBelowC): must be below the stop temperature (70 °C), got 72'])
  const hot = validatePolicy({ thermalGuard: { stopAboveC: 200 } })
  assert.equal(!hot.ok && hot.errors[0]?.message, 'must be a temperature from 30 to 110 °C, got 200')
})

test('thermal guard: stops above the limit, holds until below the lower one, then resumes', () => {
  const policy = parsePolicy({ ...BASE, thermalGuard: { stopAboveC: 85, resumeBelowC: 75 } })
  const guard = createMachineGuard(T)
  const at = (c: number, i: number): ReturnType<typeof decide> => {
    const m: MachineState = { loadAvg: 0, cpuCount: 2, cpuTemperatureC: c }
    const state = guard.observe(m, policy, 2, T + i * 5000)
    return decide(announcement(), policy, context({ now: T, machine: m, guard: state }))
  }
  assert.equal(reason(at(60, 0), 'thermal')?.text, 'thermal: CPU 60 °C < 85 °C')
  const hot = at(90, 1)
  assert.equal(hot.bid, false)
  assert.equal(hot.firstFailedRule, 'thermal')
  assert.equal(reason(hot, 'thermal')?.text, 'thermal: CPU 90 °C: stopped above 85 °C, resumes below 75 °C')
  // 80 °C is below the stop limit, but the guard holds until the CPU is below 75 °C (no flapping at 84/86)
  assert.equal(at(80, 2).bid, false)
  assert.equal(at(84, 3).bid, false)
  // a sample without a temperature (a failed read) does not end the hold
  const unknown = guard.observe({ loadAvg: 0, cpuCount: 2 }, policy, 2, T + 3 * 5000 + 1)
  assert.equal(unknown.thermal.holding, true)
  assert.equal(at(80, 3).bid, false, 'still holding after the failed read')
  assert.equal(at(74, 4).bid, true)
  assert.equal(at(84, 5).bid, true, 'below the stop limit and not holding: bids')
  // without the guard's memory the rule still stops above the limit
  const noGuard = decide(announcement(), policy, context({ machine: { loadAvg: 0, cpuTemperatureC: 95 } }))
  assert.equal(noGuard.firstFailedRule, 'thermal')
  // unknown temperature (VMs, no sensor) never blocks; the guard off passes
  assert.equal(reason(decide(announcement(), policy, context({ machine: { loadAvg: 0 } })), 'thermal')?.text, 'thermal: CPU temperature unknown')
  assert.equal(reason(decide(announcement(), parsePolicy(BASE), context()), 'thermal')?.text, 'thermal: thermal guard off')
})

test('idle-only grace: a short spike does not stop bidding; a long one does, and bidding resumes after the grace', () => {
  const policy = parsePolicy({ ...BASE, idleOnly: { maxLoadPerCore: 0.5, graceSeconds: 30 } })
  const guard = createMachineGuard(T)
  let t = T
  const sample = (load: number, advanceS: number): ReturnType<typeof decide> => {
    t += advanceS * 1000
    const m: MachineState = { loadAvg: load, cpuCount: 2 }
    const state = guard.observe(m, policy, 2, t)
    return decide(announcement({ timestamp: new Date(t - 1000).toISOString() }), policy, context({ now: t, machine: m, guard: state }))
  }
  assert.equal(sample(0.2, 0).bid, true)
  // a 10 s compile: load 1.6 (0.8 per core) but within the grace
  const spike = sample(1.6, 5)
  assert.equal(spike.bid, true)
  assert.equal(reason(spike, 'idle')?.text, 'idle: load 0.80 per core > 0.5 for 0s only (< 30s grace)')
  assert.equal(sample(1.6, 10).bid, true)
  assert.equal(sample(0.2, 5).bid, true, 'the spike ended before the grace: never stopped')
  // a long busy spell: bidding stops once it lasted the grace
  sample(1.6, 5)
  assert.equal(sample(1.6, 20).bid, true)
  const busy = sample(1.6, 15)
  assert.equal(busy.bid, false)
  assert.equal(reason(busy, 'idle')?.text, 'idle: load 0.80 per core > 0.5')
  // idle again: held for the grace, then bidding resumes
  const calm = sample(0.2, 5)
  assert.equal(calm.bid, false)
  assert.equal(reason(calm, 'idle')?.text, 'idle: idle again for 0s; bidding resumes after 30s idle')
  assert.equal(sample(0.2, 20).bid, false)
  assert.equal(sample(0.2, 15).bid, true)
})

test('idle-only grace 0: the rule follows the machine directly; a node starting busy does not bid', () => {
  const policy = parsePolicy({ ...BASE, idleOnly: { maxLoadPerCore: 0.5, graceSeconds: 0 } })
  const guard = createMachineGuard(T)
  const m: MachineState = { loadAvg: 1.6, cpuCount: 2 }
  assert.equal(decide(announcement(), policy, context({ machine: m, guard: guard.observe(m, policy, 2, T) })).bid, false)
  const g60 = createMachineGuard(T)
  const p60 = parsePolicy({ ...BASE, idleOnly: { maxLoadPerCore: 0.5 } })
  assert.equal(decide(announcement(), p60, context({ machine: m, guard: g60.observe(m, p60, 2, T) })).bid, false, 'busy from the first sample: held, no free grace')
})

test('idle-only grace is for load spikes: the user back at the keyboard stops bidding at once', () => {
  const policy = parsePolicy({ ...BASE, idleOnly: { minUserIdleSeconds: 300, maxLoadPerCore: 0.5, graceSeconds: 60 } })
  const guard = createMachineGuard(T)
  let t = T
  const sample = (userIdleSeconds: number, advanceS: number): ReturnType<typeof decide> => {
    t += advanceS * 1000
    const m: MachineState = { loadAvg: 0, cpuCount: 2, userIdleSeconds }
    const state = guard.observe(m, policy, 2, t)
    return decide(announcement({ timestamp: new Date(t - 1000).toISOString() }), policy, context({ now: t, machine: m, guard: state }))
  }
  assert.equal(sample(1000, 0).bid, true)
  const back = sample(10, 5)
  assert.equal(back.bid, false, 'no grace for the user')
  assert.equal(back.firstFailedRule, 'idle')
  assert.equal(reason(back, 'idle')?.text, 'idle: user active 10s ago < 300s')
  // away again long enough: bids at once (the 300 s threshold is the hysteresis; no extra grace)
  assert.equal(sample(301, 5).bid, true)
})
