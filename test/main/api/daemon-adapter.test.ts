/** The API bound to a REAL executor daemon (store, mesh node on 127.0.0.1, executor, auto-bidder). */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon, type Daemon } from '../../../src/main/daemon/index.js'
import { createDaemonApi, type DaemonApi } from '../../../src/main/api/daemon-adapter.js'
import type { ApiEvent } from '../../../src/shared/api/index.js'

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
