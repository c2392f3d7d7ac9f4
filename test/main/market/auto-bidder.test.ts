import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createValidator, generateIdentity, peerIdFromDid, signMessage, type Identity, type JobAnnouncementV1, type Unsigned
} from '../../../src/shared/protocol/index.js'
import { openStore, type Store } from '../../../src/main/store/index.js'
import { createAutoBidder, EVALUATED_RULES, parsePolicy, storeDecisionSources, type AutoBidderOptions } from '../../../src/main/market/index.js'
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
    assert.equal(sent.length, 7)
  })
})
