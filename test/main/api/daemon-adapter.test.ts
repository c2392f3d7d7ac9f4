/** The API bound to a REAL executor daemon (store, mesh node on 127.0.0.1, executor, auto-bidder). */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon, type Daemon } from '../../../src/main/daemon/index.js'
import { createDaemonApi, type DaemonApi } from '../../../src/main/api/daemon-adapter.js'
import type { ApiEvent, ReachabilityView } from '../../../src/shared/api/index.js'
import { createMeshNode } from '../../../src/main/mesh/index.js'
import { generateIdentity } from '../../../src/shared/protocol/index.js'

let dataDir: string
let daemon: Daemon
let bound: DaemonApi
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mesh-ui-daemon-'))
  daemon = await startDaemon({
    dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], region: 'eu-west',
    policy: { pricing: { mode: 'fixed', price: 7 }, maxConcurrentJobs: 2, stopOnBattery: false }
  })
  bound = createDaemonApi(daemon)
})
after(async () => {
  bound.dispose()
  await daemon.stop({ graceMs: 1000 })
  await rm(dataDir, { recursive: true, force: true })
})

test('status comes from the live daemon', async () => {
  const s = await bound.api.invoke('node.status', {})
  assert.equal(s.did, daemon.identity.did)
  assert.equal(s.peerId, daemon.identity.peerId)
  assert.equal(s.online, true)
  assert.equal(s.region, 'eu-west')
  assert.ok(s.listenAddrs.some((a) => a.startsWith('/ip4/127.0.0.1/tcp/')))
  assert.equal(s.autoBid, true)
  assert.equal(s.state, 'bidding')
})

test('auto-bid, pause and resume become policy versions the auto-bidder reads', async () => {
  const seen: ApiEvent[] = []
  const off = bound.api.onEvent((e) => seen.push(e))
  const v0 = daemon.policy().version ?? 0
  const s1 = await bound.api.invoke('node.setAutoBid', { enabled: false })
  assert.equal(s1.autoBid, false)
  assert.equal(s1.state, 'idle')
  assert.equal(daemon.policy().policy.autoBid, false)
  assert.equal(daemon.policy().version, v0 + 1)
  const until = Date.now() + 3_600_000
  const s2 = await bound.api.invoke('node.pause', { untilMs: until })
  assert.equal(s2.state, 'paused')
  assert.equal(daemon.policy().policy.pausedUntil, until)
  const s3 = await bound.api.invoke('node.pause', { untilMs: null })
  assert.equal(s3.pausedUntil, null)
  assert.equal(daemon.policy().policy.pausedUntil, undefined)
  await bound.api.invoke('node.setAutoBid', { enabled: true })
  assert.ok(seen.some((e) => e.type === 'policy:saved'))
  assert.ok(seen.filter((e) => e.type === 'status:changed').length >= 4)
  off()
})

test('policy.save goes through the daemon; caps from Settings land in the policy offer', async () => {
  const saved = await bound.api.invoke('policy.save', { policy: { pricing: { mode: 'per_mfuel', ratePerMillionFuel: 3 }, maxConcurrentJobs: 3, stopOnBattery: false }, note: 'from UI' })
  assert.equal(daemon.policy().version, saved.version)
  assert.deepEqual(daemon.policy().policy.pricing, { mode: 'per_mfuel', ratePerMillionFuel: 3n })
  const st = await bound.api.invoke('settings.update', { patch: { caps: { cpu: 1, maxConcurrentJobs: 1 }, startMinimized: true } })
  assert.equal(st.caps.cpu, 1)
  assert.equal(st.caps.maxConcurrentJobs, 1)
  assert.equal(st.startMinimized, true)
  assert.equal(daemon.policy().policy.maxConcurrentJobs, 1)
  assert.equal(daemon.policy().policy.offer.cpuCores, 1)
  const sim = await bound.api.invoke('market.simulate', { policy: { autoBid: true }, lastN: 50 })
  assert.equal(sim.considered, 0)
})

test('reachability: a relay reservation on a real circuit relay v2 server shows up as "relayed" with its circuit address', async () => {
  const before = await bound.api.invoke('node.status', {})
  assert.equal(before.reachability.state, 'unknown')
  assert.deepEqual(before.reachability.relayAddrs, [])
  assert.ok(before.reachability.listenAddrs.some((a) => a.startsWith('/ip4/127.0.0.1/tcp/')))
  assert.ok(before.reachability.listenAddrs.every((a) => !a.includes('/p2p-circuit')))

  const relay = await createMeshNode({ identity: generateIdentity(), listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: { relayServer: true } })
  await relay.start()
  try {
    const seen: ApiEvent[] = []
    const off = bound.api.onEvent((e) => seen.push(e))
    const relayed = new Promise<ReachabilityView>((resolve, reject) => {
      const giveUp = AbortSignal.timeout(20_000)
      const stop = bound.api.onEvent((e) => {
        if (e.type === 'reachability:changed' && e.payload.state === 'relayed') { stop(); resolve(e.payload) }
      })
      giveUp.addEventListener('abort', () => { stop(); reject(new Error(`no relayed reachability: ${JSON.stringify(daemon.reachability())}`)) })
    })
    await daemon.node.dial(`${relay.multiaddrs()[0] ?? ''}`)
    const r = await relayed
    off()
    const circuit = `/p2p/${relay.peerId}/p2p-circuit/p2p/${daemon.identity.peerId}`
    assert.ok(r.relayAddrs.some((a) => a.endsWith(circuit)), JSON.stringify(r.relayAddrs))
    assert.ok(r.listenAddrs.every((a) => !a.includes('/p2p-circuit')))
    assert.equal(typeof r.changedAt, 'number')
    assert.ok(r.connections.direct >= 1)
    // status follows, and Settings shows the same addresses in use
    assert.ok(seen.some((e) => e.type === 'status:changed' && e.payload.reachability.state === 'relayed'))
    const s = await bound.api.invoke('node.status', {})
    assert.equal(s.reachability.state, 'relayed')
    assert.deepEqual(s.reachability.relayAddrs, r.relayAddrs)
    const settings = await bound.api.invoke('settings.get', {})
    assert.deepEqual(settings.reachability.relayAddrs, r.relayAddrs)
    assert.deepEqual(JSON.parse(JSON.stringify(s.reachability)), s.reachability)
  } finally {
    await relay.stop()
  }
})
