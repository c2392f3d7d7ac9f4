import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createValidator, generateIdentity, peerIdFromDid, signMessage, type Identity, type JobAnnouncementV1, type Unsigned
} from '../../../src/shared/protocol/index.js'
import { openStore, type Store } from '../../../src/main/store/index.js'
import { createAutoBidder, createBidSender, EVALUATED_RULES, parsePolicy, storeDecisionSources, type AutoBidderOptions } from '../../../src/main/market/index.js'
import { OFFER, RUNTIME } from './fixtures.js'

function signedAnnouncement (originator: Identity, id: string, now: number, params: Partial<JobAnnouncementV1['job_params']> = {}): { bytes: Uint8Array, body: JobAnnouncementV1 } {
  const unsigned: Unsigned<JobAnnouncementV1> = {
    announcement_id: id,
    originator_did: originator.did,
    timestamp: new Date(now - 1000).toISOString(),
    job_params: {
      wasm_cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
      description: 'hello',
      resources_required: { CPU: '1c', RAM: '256MiB' },
      max_fuel: 2_000_000,
      timeout_seconds: 30,
      is_interactive: false,
      qos_profile: 'BestEffort',
      execution_policy: { max_price: 50, rep_weight: 500, price_weight: 500 },
      ...params
    }
  }
  const { bytes, message } = signMessage('JobAnnouncementV1', unsigned, originator)
  return { bytes, body: message.body }
}

async function withBidder (policyJson: Record<string, unknown>, fn: (x: { store: Store, me: Identity, sent: Array<{ peer: string, bytes: Uint8Array }>, opts: AutoBidderOptions }) => Promise<void>, sendBid?: AutoBidderOptions['sendBid']): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-bidder-'))
  const store = openStore(dir)
  const me = generateIdentity()
  const sent: Array<{ peer: string, bytes: Uint8Array }> = []
  const policy = parsePolicy(policyJson)
  const opts: AutoBidderOptions = {
    store,
    identity: me,
    getPolicy: () => ({ policy, version: 7 }),
    sources: storeDecisionSources(store, { offer: () => OFFER, runtimes: () => [RUNTIME], region: () => 'eu-west' }),
    sendBid: sendBid ?? (async (peer, bytes) => { sent.push({ peer, bytes }) })
  }
  try {
    await fn({ store, me, sent, opts })
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

test('auto-bidder: records the decision, signs one valid JobBidV1 and sends it to the originator', async () => {
  const originator = generateIdentity()
  await withBidder({ pricing: { mode: 'floor_plus_rate', floor: 3, ratePerMillionFuel: 4 } }, async ({ store, me, sent, opts }) => {
    const bidder = createAutoBidder(opts)
    const events: string[] = []
    bidder.on('announcement:decided', (e) => events.push(`decided ${e.announcementId} ${e.decision.bid}`))
    bidder.on('bid:sent', (e) => events.push(`sent ${e.announcementId} ${e.price}`))
    const now = Date.now()
    const a = signedAnnouncement(originator, 'job-1', now)
    const out = await bidder.handleAnnouncement(a.body, { raw: a.bytes })
    assert.equal(out.kind, 'bid')
    assert.equal(sent.length, 1)
    assert.equal(sent[0]?.peer, peerIdFromDid(originator.did))
    assert.equal(sent[0]?.peer, originator.peerId)
    // the bid is a valid signed message from us (checked by the protocol core's validator)
    const v = createValidator().validate(sent[0]?.bytes ?? new Uint8Array(), { remotePeerId: me.peerId })
    assert.ok(v.ok, v.ok ? '' : v.detail)
    assert.equal(v.message.variant, 'JobBidV1')
    if (v.message.variant !== 'JobBidV1') return
    assert.equal(v.message.body.announcement_id, 'job-1')
    assert.equal(v.message.body.executor_did, me.did)
    assert.equal(v.message.body.executor_peer_id, me.peerId)
    assert.equal(BigInt(v.message.body.price ?? -1), 11n) // 3 + 4 × 2
    assert.equal(v.message.body.region, 'eu-west')
    // stored: announcement with every reason, the bid, sent ok, originator history
    const stored = store.getAnnouncement('job-1')
    assert.equal(stored?.decision, 'bid')
    assert.equal(stored?.price, 11n)
    assert.equal(stored?.policyVersion, 7)
    assert.equal(stored?.reasons.length, EVALUATED_RULES.length)
    assert.deepEqual(stored?.raw, a.bytes)
    assert.equal(stored?.summary.max_fuel, '2000000')
    assert.equal(store.getBid('job-1')?.sentOk, true)
    assert.equal(store.getBid('job-1')?.price, 11n)
    assert.deepEqual([store.originatorRecord(originator.did)?.announcementsSeen, store.originatorRecord(originator.did)?.bidsSent], [1, 1])
    assert.deepEqual(events, ['decided job-1 true', 'sent job-1 11'])
    // the same announcement again (e.g. from the region topic): no second bid
    const again = await bidder.handleAnnouncement(a.body, { raw: a.bytes, topicRegion: 'eu-west' })
    assert.equal(again.kind, 'duplicate')
    assert.equal(sent.length, 1)
  })
})

test('auto-bidder: concurrent duplicates bid at most once', async () => {
  const originator = generateIdentity()
  await withBidder({ maxConcurrentJobs: 4 }, async ({ sent, opts }) => {
    const bidder = createAutoBidder(opts)
    const a = signedAnnouncement(originator, 'job-dup', Date.now())
    const outs = await Promise.all([1, 2, 3].map(() => bidder.handleAnnouncement(a.body, { raw: a.bytes })))
    assert.deepEqual(outs.map((o) => o.kind).sort(), ['bid', 'duplicate', 'duplicate'])
    assert.equal(sent.length, 1)
  })
})

test('auto-bidder: a no-bid is stored with its reasons and counted by first failing rule', async () => {
  const originator = generateIdentity()
  await withBidder({ pricing: { mode: 'fixed', price: 80 }, acceptedQos: ['BestEffort'] }, async ({ store, sent, opts }) => {
    const bidder = createAutoBidder(opts)
    const now = Date.now()
    const a1 = signedAnnouncement(originator, 'cheap', now)
    const a2 = signedAnnouncement(originator, 'fast', now, { qos_profile: 'LowLatency' })
    const o1 = await bidder.handleAnnouncement(a1.body, { raw: a1.bytes })
    const o2 = await bidder.handleAnnouncement(a2.body, { raw: a2.bytes })
    assert.equal(o1.kind, 'no_bid')
    assert.equal(o2.kind, 'no_bid')
    assert.equal(sent.length, 0)
    assert.equal(store.getBid('cheap'), undefined)
    assert.ok(store.getAnnouncement('cheap')?.reasons.some((r) => r.text === 'price: job max_price 50 < our price 80 (fixed 80)' && !r.ok))
    assert.deepEqual(store.announcementStats().byFirstFailedRule, [{ rule: 'price', count: 1 }, { rule: 'qos', count: 1 }])
  })
})

test('auto-bidder: a failed send is recorded and never retried as a second bid', async () => {
  const originator = generateIdentity()
  let calls = 0
  await withBidder({}, async ({ store, opts }) => {
    const bidder = createAutoBidder(opts)
    const failures: string[] = []
    bidder.on('bid:failed', (e) => failures.push(e.error))
    const a = signedAnnouncement(originator, 'job-x', Date.now())
    const out = await bidder.handleAnnouncement(a.body, { raw: a.bytes })
    assert.equal(out.kind, 'bid')
    if (out.kind !== 'bid') return
    assert.equal(out.sent, false)
    assert.equal(out.error, 'Error: dial refused')
    assert.deepEqual(failures, ['Error: dial refused'])
    assert.equal(store.getBid('job-x')?.sentOk, false)
    assert.equal(store.getBid('job-x')?.error, 'Error: dial refused')
    assert.equal((await bidder.handleAnnouncement(a.body, { raw: a.bytes })).kind, 'duplicate')
    assert.equal(calls, 1)
  }, async () => { calls++; throw new Error('dial refused') })
})

test('auto-bidder: active jobs in the store count against maxConcurrentJobs', async () => {
  const originator = generateIdentity()
  await withBidder({ maxConcurrentJobs: 1 }, async ({ store, sent, opts }) => {
    store.createJob({ announcementId: 'running', originatorDid: originator.did, wasmCid: 'bafkreix', maxFuel: 1, timeoutSeconds: 1 })
    const bidder = createAutoBidder(opts)
    const a = signedAnnouncement(originator, 'job-2', Date.now())
    const out = await bidder.handleAnnouncement(a.body, { raw: a.bytes })
    assert.equal(out.kind, 'no_bid')
    if (out.kind !== 'no_bid') return
    assert.equal(out.decision.firstFailedRule, 'concurrency')
    assert.equal(sent.length, 0)
  })
})

test('auto-bidder: an originator over its intake is recorded as skipped (intake) without evaluation; others are unaffected', async () => {
  const flooder = generateIdentity()
  const other = generateIdentity()
  let t = Date.now()
  await withBidder({ pricing: { mode: 'fixed', price: 1 }, maxConcurrentJobs: 100 }, async ({ store, sent, opts }) => {
    const bidder = createAutoBidder({ ...opts, intake: { burst: 5, perSecond: 1 }, now: () => t })
    const kinds: string[] = []
    for (let i = 0; i < 8; i++) {
      const a = signedAnnouncement(flooder, `flood-${i}`, t)
      kinds.push((await bidder.handleAnnouncement(a.body, { raw: a.bytes })).kind)
    }
    assert.deepEqual(kinds, ['bid', 'bid', 'bid', 'bid', 'bid', 'no_bid', 'no_bid', 'no_bid'])
    const skipped = store.getAnnouncement('flood-7')
    assert.equal(skipped?.decision, 'no_bid')
    assert.equal(skipped?.firstFailedRule, 'intake')
    assert.match(skipped?.reasons[0]?.text ?? '', /^intake: .* more than 5 announcements at once/)
    assert.equal(store.getBid('flood-7'), undefined, 'no bid reserved for a skipped announcement')
    // another originator is not limited by the flooder
    const a = signedAnnouncement(other, 'other-1', t)
    assert.equal((await bidder.handleAnnouncement(a.body, { raw: a.bytes })).kind, 'bid')
    // the bucket refills
    t += 2000
    const b = signedAnnouncement(flooder, 'flood-late', t)
    assert.equal((await bidder.handleAnnouncement(b.body, { raw: b.bytes })).kind, 'bid')
    // the clock steps back an hour (NTP): the bucket keeps its token, it is not drained for an hour
    t -= 3_600_000
    const c = signedAnnouncement(flooder, 'flood-after-step', t)
    assert.equal((await bidder.handleAnnouncement(c.body, { raw: c.bytes })).kind, 'bid')
    assert.equal(sent.length, 8)
  })
})

// ---- rule relay: the path to the originator vs. the blocks the job declares (wasm_size, input_size)

const MIB = 1024 * 1024
const BIG = { wasm_size: 4 * MIB, input_size: 8 * MIB } as Partial<JobAnnouncementV1['job_params']>

type Reach = NonNullable<AutoBidderOptions['path']>['reach']

/** A path source: `connected` peers answer at once with `limits`; others wait in reach() until settled by the test. */
function fakePath (limits: (peer: string) => { bytes?: bigint } | undefined): { path: NonNullable<AutoBidderOptions['path']>, connected: Set<string>, reaches: Array<{ peer: string, ok: () => void, fail: (e: Error) => void }>, reach: Reach } {
  const connected = new Set<string>()
  const reaches: Array<{ peer: string, ok: () => void, fail: (e: Error) => void }> = []
  const reach: Reach = async (peer) => await new Promise((resolve, reject) => {
    reaches.push({ peer, ok: () => { connected.add(peer); resolve(limits(peer)) }, fail: reject })
  })
  return { connected, reaches, reach, path: { connected: (p) => connected.has(p), relayLimitFor: (p) => connected.has(p) ? limits(p) : undefined, reach: async (p, o) => await reach(p, o) } }
}

const tick = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

test('auto-bidder: a connected originator reachable only through a small relay gets no bid, and the reason says so', async () => {
  const originator = generateIdentity()
  await withBidder({}, async ({ store, sent, opts }) => {
    const f = fakePath(() => ({ bytes: 131072n }))
    f.connected.add(originator.peerId)
    const bidder = createAutoBidder({ ...opts, path: { ...f.path, reach: async () => { throw new Error('no dial for a connected originator') } } })
    const decided: Array<{ bid: boolean, reasons: string[] }> = []
    bidder.on('announcement:decided', (e) => decided.push({ bid: e.decision.bid, reasons: e.decision.reasons.filter((r) => !r.ok).map((r) => r.text) }))
    const a = signedAnnouncement(originator, 'big-1', Date.now(), BIG)
    const out = await bidder.handleAnnouncement(a.body, { raw: a.bytes })
    assert.equal(out.kind, 'no_bid')
    if (out.kind !== 'no_bid') return
    assert.equal(out.decision.firstFailedRule, 'relay')
    assert.equal(decided.length, 1)
    assert.equal(decided[0]?.bid, false)
    assert.match(decided[0]?.reasons.join('; ') ?? '', /relay/i)
    assert.deepEqual(decided[0]?.reasons, ['relay: the only path to the originator is a relay allowing 128 KiB; the job\'s blocks are 12 MiB (module 4 MiB + input 8 MiB)'])
    assert.equal(sent.length, 0)
    assert.equal(store.getAnnouncement('big-1')?.firstFailedRule, 'relay')
    assert.equal(store.getBid('big-1'), undefined)
    // a direct connection to it: the same job is bid on
    const direct = createAutoBidder({ ...opts, path: { ...f.path, relayLimitFor: () => undefined } })
    const b = signedAnnouncement(originator, 'big-2', Date.now(), BIG)
    assert.equal((await direct.handleAnnouncement(b.body, { raw: b.bytes })).kind, 'bid')
    assert.ok(store.getAnnouncement('big-2')?.reasons.some((r) => r.rule === 'relay' && r.ok && r.text.startsWith('relay: direct connection')))
  })
})

test('auto-bidder: without declared sizes nothing is looked up and the job is bid on as before', async () => {
  const originator = generateIdentity()
  await withBidder({}, async ({ store, sent, opts }) => {
    const f = fakePath(() => ({ bytes: 1n }))
    const bidder = createAutoBidder({ ...opts, path: f.path })
    const a = signedAnnouncement(originator, 'small', Date.now())
    assert.equal((await bidder.handleAnnouncement(a.body, { raw: a.bytes })).kind, 'bid')
    assert.equal(f.reaches.length, 0, 'no connection for a job without sizes')
    assert.equal(sent.length, 1)
    assert.ok(store.getAnnouncement('small')?.reasons.some((r) => r.text === 'relay: job declares no block sizes (wasm_size, input_size); not checked'))
  })
})

test('auto-bidder: unconnected originators are reached through the bid sender\'s bounded lane, then decided with the path', async () => {
  const originators = Array.from({ length: 12 }, () => generateIdentity())
  await withBidder({ maxConcurrentJobs: 100 }, async ({ store, sent, opts }) => {
    const connected = new Set<string>()
    const connects: Array<{ peer: string, ok: () => void, fail: (e: Error) => void }> = []
    let open = 0
    let mostOpen = 0
    // even-numbered originators sit behind a 128 KiB relay, odd ones get a direct connection
    const small = new Set(originators.filter((_, i) => i % 2 === 0).map((o) => o.peerId))
    const limits = (p: string): { bytes?: bigint } | undefined => small.has(p) ? { bytes: 131072n } : undefined
    const sender = createBidSender({
      connected: (p) => connected.has(p),
      deliver: async () => {},
      connect: async (peer) => await new Promise((resolve, reject) => {
        open++
        mostOpen = Math.max(mostOpen, open)
        connects.push({ peer, ok: () => { open--; connected.add(peer); resolve(limits(peer)) }, fail: (e) => { open--; reject(e) } })
      }),
      maxColdInFlight: 2
    })
    const bidder = createAutoBidder({
      ...opts,
      unreachable: (p) => sender.cannotSend(p),
      path: { connected: (p) => connected.has(p), relayLimitFor: (p) => connected.has(p) ? limits(p) : undefined, reach: async (p, o) => await sender.reach(p, o) }
    })
    const decided: string[] = []
    bidder.on('announcement:decided', (e) => decided.push(e.announcementId))
    const outs = originators.map(async (o, i) => {
      const a = signedAnnouncement(o, `job-${i}`, Date.now(), BIG)
      return await bidder.handleAnnouncement(a.body, { raw: a.bytes })
    })
    await tick()
    assert.equal(connects.length, 2, 'at most maxColdInFlight connections at once')
    assert.equal(sender.stats().queued, 10)
    assert.equal(decided.length, 0, 'nothing is decided before the path is known')
    while (connects.some((c) => !connected.has(c.peer))) {
      for (const c of connects.filter((x) => !connected.has(x.peer))) c.ok()
      await tick()
      assert.ok(open <= 2)
    }
    const results = await Promise.all(outs)
    assert.equal(mostOpen, 2)
    assert.equal(connects.length, 12)
    assert.deepEqual(results.map((r) => r.kind), originators.map((_, i) => i % 2 === 0 ? 'no_bid' : 'bid'))
    assert.equal(sent.length, 6)
    assert.equal(decided.length, 12, 'each announcement decided once')
    assert.equal(store.getAnnouncement('job-0')?.firstFailedRule, 'relay')
  })
})

test('auto-bidder: a copy arriving while the path is looked up is a duplicate; an unreachable originator gets no bid, with the reason', async () => {
  const originator = generateIdentity()
  await withBidder({}, async ({ store, sent, opts }) => {
    const f = fakePath(() => undefined)
    const bidder = createAutoBidder({ ...opts, path: f.path })
    const a = signedAnnouncement(originator, 'dup', Date.now(), BIG)
    const first = bidder.handleAnnouncement(a.body, { raw: a.bytes })
    await tick()
    assert.equal(f.reaches.length, 1)
    assert.equal((await bidder.handleAnnouncement(a.body, { raw: a.bytes, topicRegion: 'eu-west' })).kind, 'duplicate')
    f.reaches[0]?.ok()
    const out = await first
    assert.equal(out.kind, 'bid')
    assert.equal(sent.length, 1)
    assert.equal((await bidder.handleAnnouncement(a.body, { raw: a.bytes })).kind, 'duplicate')

    // reaching fails: recorded as not bid on (unreachable), every evaluated verdict kept, no bid reserved
    const other = generateIdentity()
    const b = signedAnnouncement(other, 'gone', Date.now(), BIG)
    const pending = bidder.handleAnnouncement(b.body, { raw: b.bytes })
    await tick()
    f.reaches[1]?.fail(new Error('connecting to it failed: no addresses'))
    const gone = await pending
    assert.equal(gone.kind, 'no_bid')
    if (gone.kind !== 'no_bid') return
    assert.equal(gone.decision.firstFailedRule, 'unreachable')
    assert.equal(gone.decision.reasons.length, EVALUATED_RULES.length + 1)
    assert.match(gone.decision.reasons.at(-1)?.text ?? '', /^unreachable: could not reach the originator .*no addresses/)
    assert.equal(store.getAnnouncement('gone')?.decision, 'no_bid')
    assert.equal(store.getBid('gone'), undefined)
    assert.equal(sent.length, 1)
  })
})

test('auto-bidder: a job we would not bid on anyway costs no connection', async () => {
  const originator = generateIdentity()
  await withBidder({ pricing: { mode: 'fixed', price: 80 } }, async ({ opts }) => {
    const f = fakePath(() => undefined)
    const bidder = createAutoBidder({ ...opts, path: f.path })
    const a = signedAnnouncement(originator, 'cheap-big', Date.now(), BIG)
    const out = await bidder.handleAnnouncement(a.body, { raw: a.bytes })
    assert.equal(out.kind, 'no_bid')
    assert.equal(f.reaches.length, 0)
  })
})
