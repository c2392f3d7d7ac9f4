/** The API bound to a REAL executor daemon (store, mesh node on 127.0.0.1, executor, auto-bidder). */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
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
let thermalFile: string
/** a bootstrap peer nobody runs: the health check must name it */
const DEAD = `/ip4/127.0.0.1/tcp/9/p2p/${generateIdentity().peerId}`
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mesh-ui-daemon-'))
  thermalFile = join(dataDir, 'cpu-temp')
  await writeFile(thermalFile, '45000\n')
  process.env.MESH_EXECUTOR_THERMAL_FILE = thermalFile
  daemon = await startDaemon({
    dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], region: 'eu-west', bootstrap: [DEAD],
    policy: { pricing: { mode: 'fixed', price: 7 }, maxConcurrentJobs: 2, stopOnBattery: false },
    timers: { bootstrapRetryMs: 200, machineGuardMs: 50 }
  })
  bound = createDaemonApi(daemon)
})

async function until<T> (what: string, f: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
after(async () => {
  bound.dispose()
  await daemon.stop({ graceMs: 1000 })
  await rm(dataDir, { recursive: true, force: true })
})

test('status comes from the live daemon: what it offers, and why no work can come (the dead bootstrap peer)', async () => {
  const s = await until('the bootstrap failure', async () => {
    const st = await bound.api.invoke('node.status', {})
    return st.health?.reasons.some((r) => r.code === 'bootstrap_unreachable') === true ? st : undefined
  })
  assert.equal(s.did, daemon.identity.did)
  assert.equal(s.peerId, daemon.identity.peerId)
  assert.equal(s.online, true)
  assert.equal(s.region, 'eu-west')
  assert.ok(s.listenAddrs.some((a) => a.startsWith('/ip4/127.0.0.1/tcp/')))
  assert.equal(s.autoBid, true)
  // up, auto-bid on, but nobody to get work from: idle, with the reason and its fix
  assert.equal(s.state, 'idle')
  assert.equal(s.health?.canBid, false)
  const boot = s.health?.reasons.find((r) => r.code === 'bootstrap_unreachable')
  assert.ok(boot?.detail.startsWith(DEAD), boot?.detail)
  assert.match(boot?.fix ?? '', /Settings/)
  // the offer: the machine with the policy's caps, and the price with its unit
  const hw = daemon.hardware()
  assert.equal(s.offer?.cpu.machine, hw.cpuCores)
  assert.equal(s.offer?.cpu.offered, daemon.offer().cpu)
  assert.equal(s.offer?.ramBytes.machine, hw.ramBytes)
  assert.equal(s.offer?.price.text, '7 tokens per job')
  assert.equal(s.offer?.price.free, false)
  assert.equal(s.offer?.maxConcurrentJobs, 2)
  assert.equal(await until('a temperature', async () => (await bound.api.invoke('node.status', {})).offer?.cpuTemperatureC ?? undefined), 45)

  // a peer connects: work can come
  const peer = await createMeshNode({ identity: generateIdentity(), listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false })
  await peer.start()
  try {
    await peer.dial(daemon.node.multiaddrs()[0] ?? '')
    const ok = await until('bidding', async () => { const st = await bound.api.invoke('node.status', {}); return st.state === 'bidding' ? st : undefined })
    assert.equal(ok.health?.canBid, true)
    assert.ok(!(ok.health?.reasons ?? []).some((r) => r.code === 'bootstrap_unreachable' || r.code === 'no_peers'))
  } finally {
    await peer.stop()
  }
})

test('auto-bid, pause and resume are runtime state (no policy version) that the auto-bidder reads', async () => {
  const seen: ApiEvent[] = []
  const off = bound.api.onEvent((e) => seen.push(e))
  const v0 = daemon.policy().version
  const history0 = (await bound.api.invoke('policy.get', {})).history.length
  const s1 = await bound.api.invoke('node.setAutoBid', { enabled: false })
  assert.equal(s1.autoBid, false)
  assert.notEqual(s1.state, 'bidding')
  assert.ok(s1.health?.reasons.some((r) => r.code === 'autobid_off' && r.action?.kind === 'autobid_on'))
  assert.equal(daemon.effectivePolicy().policy.autoBid, false)
  const until2 = Date.now() + 3_600_000
  const s2 = await bound.api.invoke('node.pause', { untilMs: until2 })
  assert.equal(s2.state, 'paused')
  assert.equal(daemon.effectivePolicy().policy.pausedUntil, until2)
  const s3 = await bound.api.invoke('node.pause', { untilMs: null })
  assert.equal(s3.pausedUntil, null)
  assert.equal(daemon.effectivePolicy().policy.pausedUntil, undefined)
  await bound.api.invoke('node.setAutoBid', { enabled: true })
  assert.equal(daemon.effectivePolicy().policy.autoBid, true)
  // none of it is a policy version
  assert.equal(daemon.policy().version, v0)
  assert.equal((await bound.api.invoke('policy.get', {})).history.length, history0)
  assert.ok(!seen.some((e) => e.type === 'policy:saved'))
  assert.ok(seen.filter((e) => e.type === 'status:changed').length >= 4)
  assert.deepEqual(daemon.store.getSetting('runtime'), { autoBid: true, pausedUntil: null })
  off()
})

test('thermal guard: too hot stops bidding (health says so), hysteresis holds until below the resume limit', async () => {
  await bound.api.invoke('policy.save', { policy: { pricing: { mode: 'fixed', price: 7 }, maxConcurrentJobs: 2, stopOnBattery: false, thermalGuard: { stopAboveC: 80, resumeBelowC: 70 } } })
  const reason = async (): Promise<string | undefined> => (await bound.api.invoke('node.status', {})).health?.reasons.find((r) => r.code === 'too_hot')?.title
  assert.equal(await reason(), undefined)
  await writeFile(thermalFile, '91000\n')
  assert.equal(await until('too hot', reason), 'CPU too hot (91 °C)')
  // the health reads the sampler's 91 °C at once; the hold starts at the guard's next observation
  // (every machineGuardMs): cooling to 75 °C before that would never have held (a race in this test)
  await until('the guard holds', () => daemon.guard().thermal.holding ? true : undefined)
  await writeFile(thermalFile, '75000\n')
  await until('75 °C read', () => daemon.guard().thermal.tempC === 75 ? true : undefined)
  assert.equal(await reason(), 'CPU too hot (75 °C)', 'between the limits: still holding')
  await writeFile(thermalFile, '65000\n')
  await until('cooled down', async () => await reason() === undefined ? true : undefined)
})

test('settings: caps that do not change make no policy version; caps above the machine are refused', async () => {
  const v0 = daemon.policy().version
  await bound.api.invoke('settings.update', { patch: { startAtLogin: true } })
  await bound.api.invoke('settings.update', { patch: { caps: { maxConcurrentJobs: daemon.policy().policy.maxConcurrentJobs } } })
  assert.equal(daemon.policy().version, v0)
  const cores = daemon.hardware().cpuCores
  await assert.rejects(bound.api.invoke('settings.update', { patch: { caps: { cpu: cores + 62 } } }), new RegExp(`CPU cores offered: this machine has ${cores} core`))
  await assert.rejects(bound.api.invoke('settings.update', { patch: { region: 'EU West' } }), /did you mean "eu-west"/)
})

test('logs: the daemon\'s own log file through logs.tail', async () => {
  const r = await until('a log line', async () => { const l = await bound.api.invoke('logs.tail', { subs: ['daemon'] }); return l.lines.some((x) => x.msg === 'ready') ? l : undefined })
  assert.equal(r.dir, daemon.logDir)
  const boot = await bound.api.invoke('logs.tail', { level: 'warn', subs: ['mesh'], text: 'bootstrap' })
  assert.ok(boot.lines.length > 0 && boot.lines.every((l) => l.level === 'warn' && l.sub === 'mesh'))
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
