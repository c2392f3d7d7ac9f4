import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createFixture } from './fixture.js'
import { ApiError, validateArgs, base64FromBytes, reachabilityText, type ApiEvent } from '../../../src/shared/api/index.js'
import { hostPortToMultiaddr, reachabilityView } from '../../../src/main/api/index.js'

test('queries return real store data as JSON-safe views', async () => {
  const f = await createFixture()
  try {
    const status = await f.api.invoke('node.status', {})
    assert.equal(status.did, f.executor.did)
    assert.equal(status.state, 'running')
    assert.equal(status.running.length, 1)
    assert.equal(status.running[0]?.announcementId, f.runningId)

    const earnings = await f.api.invoke('earnings.get', {})
    assert.equal(earnings.jobs, f.completedIds.length)
    const sumByOrig = earnings.byOriginator.reduce((s, o) => s + BigInt(o.amount), 0n)
    assert.equal(sumByOrig.toString(), earnings.allTime)
    assert.ok(BigInt(earnings.allTime) > 0n)

    const jobs = await f.api.invoke('jobs.list', {})
    assert.equal(jobs.length, f.completedIds.length + 2)
    const job = await f.api.invoke('jobs.get', { announcementId: f.completedIds[0] ?? '' })
    assert.deepEqual(job.timeline.map((t) => t.to), ['Assigned', 'Accepted', 'FetchingInputs', 'Running', 'Completed'])
    assert.equal(job.receipts.length, 1)
    assert.ok(job.logs.some((l) => l.text.startsWith('done:')))

    const stats = await f.api.invoke('market.stats', {})
    assert.equal(stats.total, 14)
    assert.equal(stats.bid + stats.noBid, 14)
    const price = stats.skipped.find((s) => s.rule === 'price')
    assert.ok(price !== undefined)
    assert.equal(price.text, `${price.count} skipped: job pays less than our price`)
    // JSON round trip is lossless (no bigint, no Uint8Array leaks).
    for (const v of [status, earnings, jobs, job, stats]) assert.deepEqual(JSON.parse(JSON.stringify(v)), v)
  } finally { f.close() }
})

test('receipts: detail has every field; verify succeeds on the stored block and fails on a tampered one', async () => {
  const f = await createFixture()
  try {
    const cid = f.receiptCids[0] ?? ''
    const d = await f.api.invoke('receipts.get', { cid })
    assert.equal(d.fields !== null && typeof d.fields.ExecutionReceiptV1, 'object')
    const ok = await f.api.invoke('receipts.verify', { cid })
    assert.equal(ok.ok, true)
    const bytes = Buffer.from(d.blockBase64, 'base64')
    const i = bytes.indexOf(Buffer.from('CompletedSuccessfully'))
    const tampered = Buffer.from(bytes)
    if (i >= 0) tampered[i + 1] = 'x'.charCodeAt(0)
    else tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1
    const bad = await f.api.invoke('receipts.verify', { blockBase64: base64FromBytes(tampered) })
    assert.equal(bad.ok, false)
    await assert.rejects(f.api.invoke('receipts.get', { cid: 'bafyreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }), (e: unknown) => e instanceof ApiError && e.code === 'NotFound')
  } finally { f.close() }
})

test('commands change state and emit events; the simulator matches the engine', async () => {
  const f = await createFixture()
  try {
    const seen: ApiEvent[] = []
    const off = f.api.onEvent((e) => seen.push(e))
    const s = await f.api.invoke('node.setAutoBid', { enabled: false })
    assert.equal(s.autoBid, false)
    const until = Date.now() + 3_600_000
    const p = await f.api.invoke('node.pause', { untilMs: until })
    assert.equal(p.state, 'paused')
    assert.equal(p.pausedUntil, until)
    const draft = { pricing: { mode: 'per_mfuel', ratePerMillionFuel: 20 }, maxFuel: 5_000_000, maxConcurrentJobs: 4, stopOnBattery: false }
    const saved = await f.api.invoke('policy.save', { policy: draft, note: 'double the rate' })
    assert.equal(saved.version, 2)
    assert.deepEqual(seen.map((e) => e.type), ['status:changed', 'status:changed', 'policy:saved'])
    off()
    await assert.rejects(f.api.invoke('policy.save', { policy: { pricing: { mode: 'auction' } } }), /Price \(pricing.mode\): must be "fixed" \(one price per job\), "per_mfuel"/)

    // Replaying the policy in force reproduces exactly what the node decided live.
    const anns = await f.api.invoke('market.announcements', { limit: 14 })
    const same = await f.api.invoke('market.simulate', { policy: { pricing: { mode: 'per_mfuel', ratePerMillionFuel: 10 }, maxFuel: 5_000_000, maxConcurrentJobs: 4, stopOnBattery: false }, lastN: 14 })
    assert.equal(same.considered, 14)
    for (const item of same.items) assert.equal(item.decision, item.actualDecision, item.announcementId)
    assert.equal(same.wouldBid, anns.filter((a) => a.decision === 'bid').length)

    // A draft with twice the rate: bid iff max_fuel ≤ 5M and max_price ≥ ceil(fuel × 20 / 1e6).
    const sim = await f.api.invoke('market.simulate', { policy: draft, lastN: 10 })
    assert.equal(sim.considered, 10)
    assert.equal(sim.wouldBid + sim.wouldSkip, 10)
    let implied = 0n
    let bids = 0
    for (const a of anns.slice(0, 10)) {
      const fuel = BigInt(String(a.summary.max_fuel))
      const ours = (fuel * 20n + 999_999n) / 1_000_000n
      if (fuel <= 5_000_000n && BigInt(String(a.summary.max_price)) >= ours) { bids++; implied += ours }
    }
    assert.ok(bids > 0 && bids < 10)
    assert.equal(sim.wouldBid, bids)
    assert.equal(sim.impliedEarnings, implied.toString())
    assert.deepEqual(sim.skipped.map((s) => s.rule).sort(), ['fuel', 'price'])

    const st = await f.api.invoke('settings.update', { patch: { region: 'us-east', caps: { cpu: 1.5 }, startAtLogin: true } })
    assert.equal(st.region, 'us-east')
    assert.equal(st.caps.cpu, 1.5)
    assert.equal(st.caps.maxConcurrentJobs, 2)
    assert.equal((await f.api.invoke('settings.get', {})).startAtLogin, true)
  } finally { f.close() }
})

test('validators reject malformed arguments with a clear message', () => {
  const cases: Array<[Parameters<typeof validateArgs>[0], unknown, RegExp]> = [
    ['jobs.get', {}, /jobs.get: announcementId must be a non-empty string/],
    ['jobs.list', { states: ['Sleeping'] }, /unknown job state "Sleeping"/],
    ['jobs.list', { limit: 0 }, /limit must be an integer in 1..1000/],
    ['node.status', { x: 1 }, /unknown argument "x" \(this method takes none\)/],
    ['node.setAutoBid', { enabled: 'yes' }, /enabled must be true or false/],
    ['market.simulate', { policy: {}, lastN: 0 }, /lastN must be an integer/],
    ['market.simulate', { policy: [], lastN: 5 }, /policy must be a JSON object/],
    ['receipts.verify', {}, /exactly one of cid or blockBase64/],
    ['receipts.get', { cid: 'not a cid' }, /cid has an invalid format/],
    ['settings.update', { patch: { bootstrapPeers: ['/ip4/1.2.3.4/tcp/1'] } }, /Bootstrap peers: .* must be a peer's address ending in \/p2p\//],
    ['node.pause', { untilMs: 'soon' }, /untilMs must be/],
    ['policy.save', 'x', /arguments must be a JSON object/]
  ]
  for (const [m, args, re] of cases) {
    assert.throws(() => validateArgs(m, args), (e: unknown) => e instanceof ApiError && e.code === 'BadRequest' && re.test(e.message), `${m} ${JSON.stringify(args)}`)
  }
  assert.deepEqual(validateArgs('node.pause', { untilMs: null }), { untilMs: null })
})

test('reachability: unknown until the node knows, then the runtime view in node.status, settings and events', async () => {
  const f = await createFixture({ announcements: 0 })
  try {
    const s0 = await f.api.invoke('node.status', {})
    assert.equal(s0.reachability.state, 'unknown')
    assert.deepEqual(s0.reachability.listenAddrs, f.runtime.listenAddrs)
    assert.equal(s0.reachability.observedPublicAddr, null)
    assert.equal((await f.api.invoke('settings.get', {})).reachability.state, 'unknown')

    // what the daemon adapter builds from the mesh node's status (behind NAT, one relay reservation)
    const relay = '12D3KooWRelayRelayRelayRelayRelayRelayRelayRelayRelay'
    const view = reachabilityView({
      reachability: 'relayed',
      autonat: 'private',
      natDetected: true,
      observedAddrs: ['198.51.100.11:40312', '198.51.100.11:40200'],
      publicAddrs: [],
      relayAddrs: [`/ip4/198.51.100.1/tcp/4001/p2p/${relay}/p2p-circuit`],
      checks: { ok: 0, failed: 2 }
    }, {
      addrs: ['/ip4/10.231.1.2/tcp/4101', `/ip4/198.51.100.1/tcp/4001/p2p/${relay}/p2p-circuit`],
      connections: [{ relayed: false }, { relayed: true }, { relayed: true }],
      holePunched: 0,
      changedAt: 1234
    })
    assert.deepEqual(view.listenAddrs, ['/ip4/10.231.1.2/tcp/4101'])
    assert.deepEqual(view.relayAddrs, [`/ip4/198.51.100.1/tcp/4001/p2p/${relay}/p2p-circuit`])
    assert.equal(view.observedPublicAddr, '/ip4/198.51.100.11/tcp/40312')
    assert.deepEqual(view.connections, { direct: 1, relayed: 2 })
    assert.equal(hostPortToMultiaddr('[2001:db8::1]:4001'), '/ip6/2001:db8::1/tcp/4001')

    f.runtime.reachability = view
    const seen: ApiEvent[] = []
    const off = f.api.onEvent((e) => seen.push(e))
    f.events.emit('reachability:changed', view)
    off()
    assert.deepEqual(seen, [{ type: 'reachability:changed', payload: view }])
    const s1 = await f.api.invoke('node.status', {})
    assert.deepEqual(s1.reachability, view)
    assert.equal(reachabilityText(s1.reachability.state), 'behind NAT, reachable via relay')
    assert.deepEqual((await f.api.invoke('settings.update', { patch: { startMinimized: false } })).reachability, view)
  } finally { f.close() }
})
