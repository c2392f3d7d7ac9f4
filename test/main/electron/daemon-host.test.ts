/**
 * The daemon side of what the desktop shell sends: node.setMachineState / node.shutdown validation,
 * the host's machine state (what startDaemon's callbacks read) with its expiry, the shutdown request,
 * and the API answering BadRequest when no host is linked.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ApiError, validateArgs, validateCall } from '../../../src/shared/api/index.js'
import { createDaemonHost } from '../../../src/main/api/daemon-adapter.js'
import { createApiService, type ApiDeps } from '../../../src/main/api/service.js'
import { createApiEventHub } from '../../../src/main/api/events.js'

const badRequest = (f: () => unknown, re: RegExp): void => {
  assert.throws(f, (err: unknown) => err instanceof ApiError && err.code === 'BadRequest' && re.test(err.message))
}

test('node.setMachineState and node.shutdown arguments are validated', () => {
  assert.deepEqual(validateArgs('node.setMachineState', { userIdleSeconds: 12.5, onBattery: false }), { userIdleSeconds: 12.5, onBattery: false })
  assert.deepEqual(validateArgs('node.setMachineState', { userIdleSeconds: null, onBattery: null }), { userIdleSeconds: null, onBattery: null })
  badRequest(() => validateArgs('node.setMachineState', { onBattery: true }), /userIdleSeconds/)
  badRequest(() => validateArgs('node.setMachineState', { userIdleSeconds: 1 }), /onBattery/)
  badRequest(() => validateArgs('node.setMachineState', { userIdleSeconds: -1, onBattery: true }), /userIdleSeconds/)
  badRequest(() => validateArgs('node.setMachineState', { userIdleSeconds: Number.NaN, onBattery: true }), /userIdleSeconds/)
  badRequest(() => validateArgs('node.setMachineState', { userIdleSeconds: '5', onBattery: true }), /userIdleSeconds/)
  badRequest(() => validateArgs('node.setMachineState', { userIdleSeconds: 5, onBattery: 'yes' }), /onBattery/)
  badRequest(() => validateArgs('node.setMachineState', { userIdleSeconds: 5, onBattery: true, load: 1 }), /unknown argument "load"/)
  assert.deepEqual(validateArgs('node.shutdown', {}), {})
  assert.deepEqual(validateArgs('node.shutdown', undefined), {})
  assert.deepEqual(validateArgs('node.shutdown', { graceSeconds: 0 }), { graceSeconds: 0 })
  badRequest(() => validateArgs('node.shutdown', { graceSeconds: -1 }), /graceSeconds/)
  badRequest(() => validateArgs('node.shutdown', { graceSeconds: 1e9 }), /graceSeconds/)
  badRequest(() => validateArgs('node.shutdown', { now: true }), /unknown argument/)
  assert.equal(validateCall('node.shutdown', {}).method, 'node.shutdown')
})

test('the host: reported machine state is what startDaemon reads, until it expires; unknown stays unknown', () => {
  let t = 1_000_000
  const host = createDaemonHost({ machineStateTtlMs: 60_000, now: () => t, graceSeconds: 45 })
  assert.equal(host.userIdleSeconds(), undefined)
  assert.equal(host.onBattery(), undefined)
  assert.deepEqual(host.setMachineState({ userIdleSeconds: 400, onBattery: true }), { userIdleSeconds: 400, onBattery: true, expiresAt: 1_060_000 })
  assert.equal(host.userIdleSeconds(), 400)
  assert.equal(host.onBattery(), true)
  t += 59_999
  assert.equal(host.userIdleSeconds(), 400)
  t += 1
  assert.equal(host.userIdleSeconds(), undefined, 'a shell that stopped reporting leaves no stale "idle"')
  assert.equal(host.onBattery(), undefined)
  assert.deepEqual(host.setMachineState({ userIdleSeconds: null, onBattery: false }), { userIdleSeconds: null, onBattery: false, expiresAt: t + 60_000 })
  assert.equal(host.userIdleSeconds(), undefined)
  assert.equal(host.onBattery(), false)
  assert.equal(host.setMachineState({ userIdleSeconds: null, onBattery: null }).expiresAt, null)
  assert.equal(host.defaultGraceSeconds, 45)
})

test('the host: a shutdown request resolves once, with the grace asked for, after the answer had time to leave', async () => {
  const host = createDaemonHost()
  let got: { graceSeconds: number | undefined } | undefined
  void host.shutdownRequested.then((v) => { got = v })
  assert.equal(host.stopRequested, false)
  host.requestShutdown(7)
  host.requestShutdown(99)
  assert.equal(host.stopRequested, true)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(got, undefined, 'not before the HTTP answer is written')
  assert.deepEqual(await host.shutdownRequested, { graceSeconds: 7 })
  assert.equal(host.defaultGraceSeconds, 30)
})

test('without a host the API answers BadRequest for both; with node control it reports and emits status', async () => {
  const events = createApiEventHub()
  const seen: string[] = []
  events.subscribe((e) => seen.push(e.type))
  const store = { listJobs: () => [] } as unknown as ApiDeps['store']
  const runtime = { online: true, peers: 0, autoBid: true, pausedUntil: null, draining: false, error: null, listenAddrs: [], region: null, running: [] }
  const base = {
    store, identity: { did: 'did:key:z6Mk', peerId: '12D3' }, events,
    policy: { validate: () => ({ ok: true, errors: [] }), simulate: () => { throw new Error('unused') } },
    settings: { get: () => { throw new Error('unused') }, update: () => { throw new Error('unused') } }
  } as unknown as Omit<ApiDeps, 'node'>
  const bare = createApiService({ ...base, node: { status: () => runtime, setAutoBid: () => {}, pauseUntil: () => {} } })
  await assert.rejects(bare.call('node.setMachineState', { userIdleSeconds: 1, onBattery: false }), (e: unknown) => e instanceof ApiError && e.code === 'BadRequest')
  await assert.rejects(bare.call('node.shutdown', {}), (e: unknown) => e instanceof ApiError && e.code === 'BadRequest' && /mesh-executor start/.test(e.message))

  const calls: unknown[] = []
  const linked = createApiService({
    ...base,
    node: {
      status: () => runtime,
      setAutoBid: () => {},
      pauseUntil: () => {},
      setMachineState: (s) => { calls.push(s); return { ...s, expiresAt: 5 } },
      shutdown: (g) => { calls.push(g); return { graceSeconds: g ?? 30, runningJobs: 0 } }
    }
  })
  assert.deepEqual(await linked.invoke('node.setMachineState', { userIdleSeconds: 3, onBattery: null }), { userIdleSeconds: 3, onBattery: null, expiresAt: 5 })
  assert.deepEqual(await linked.invoke('node.shutdown', {}), { graceSeconds: 30, runningJobs: 0 })
  assert.deepEqual(calls, [{ userIdleSeconds: 3, onBattery: null }, undefined])
  assert.ok(seen.includes('status:changed'), 'node.shutdown announces the new status')
})
