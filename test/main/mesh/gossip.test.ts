import nodeCrypto, { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Message } from '@libp2p/gossipsub'
import type { MeshEvents, MeshNode } from '../../../src/main/mesh/index.js'
import { CAPABILITIES_TOPIC, JOBS_ANNOUNCE_TOPIC, jobsTopic, RECEIPTS_AVAILABLE_TOPIC } from '../../../src/main/mesh/index.js'
import { announcement, capabilityAd, connect, corruptSignature, receipt, receiptAvailable, spawn, stopAll, until } from './helpers.js'
import type { TestNode } from './helpers.js'

const REGION = 'eu-west'

function record<K extends keyof MeshEvents> (node: MeshNode, name: K): Array<MeshEvents[K]> {
  const out: Array<MeshEvents[K]> = []
  node.events.on(name, (e) => { out.push(e) })
  return out
}

test('gossip over a 6-node line: delivery, regions, forged messages, scoring', async (t) => {
  // honest line n0 - n1 - n2 - n3 - n4, misbehaving m attached to n0
  const n: TestNode[] = []
  for (let i = 0; i < 5; i++) n.push(await spawn({ regions: i >= 2 ? [REGION] : [] }))
  const m = await spawn()
  const all = [...n, m]
  t.after(async () => { await stopAll(all.map((x) => x.node)) })
  for (let i = 0; i < 4; i++) await connect(n[i]!.node, n[i + 1]!.node)
  await connect(m.node, n[0]!.node)

  // mesh formation: every honest link is grafted on the global topics
  await until(() => n.every((x, i) =>
    [CAPABILITIES_TOPIC, JOBS_ANNOUNCE_TOPIC].every((topic) => {
      const peers = x.node.meshPeers(topic)
      return (i === 0 || peers.includes(n[i - 1]!.node.peerId)) && (i === 4 || peers.includes(n[i + 1]!.node.peerId))
    })) && n[0]!.node.meshPeers(CAPABILITIES_TOPIC).includes(m.node.peerId),
  'gossip mesh')
  await until(() => n[2]!.node.meshPeers(jobsTopic(REGION)).includes(n[3]!.node.peerId) &&
    n[3]!.node.meshPeers(jobsTopic(REGION)).includes(n[4]!.node.peerId), 'region mesh')

  const received = all.map((x) => record(x.node, 'message:received'))
  const rejected = all.map((x) => record(x.node, 'message:rejected'))
  const rawTopics = all.map((x) => {
    const topics: string[] = []
    x.node.libp2p.services.pubsub.addEventListener('message', (e: CustomEvent<Message>) => { topics.push(e.detail.topic) })
    return topics
  })

  await t.test('a capability ad reaches every subscriber exactly once', async () => {
    const ad = capabilityAd(n[4]!.id)
    const res = await n[4]!.node.publishCapability(ad)
    assert.deepEqual(res.topics, [CAPABILITIES_TOPIC])
    const others = all.filter((x) => x !== n[4])
    await Promise.all(others.map(async (x) => await x.node.events.waitFor('message:received', {
      signal: AbortSignal.timeout(10_000),
      predicate: (e) => e.message.variant === 'CapabilityAdvertisementV1' && e.message.signer === n[4]!.id.did
    })))
    for (const [i, r] of received.entries()) {
      assert.equal(r.filter((e) => e.message.signer === n[4]!.id.did).length, all[i] === n[4] ? 0 : 1)
    }
  })

  await t.test('a region-scoped announcement reaches everyone once, region nodes also via the region topic', async () => {
    const bytes = announcement(n[4]!.id)
    const res = await n[4]!.node.publishAnnouncement(bytes, REGION)
    assert.deepEqual(res.topics, [JOBS_ANNOUNCE_TOPIC, jobsTopic(REGION)])
    const others = all.filter((x) => x !== n[4])
    await Promise.all(others.map(async (x) => await x.node.events.waitFor('message:received', {
      signal: AbortSignal.timeout(10_000),
      predicate: (e) => e.message.variant === 'JobAnnouncementV1'
    })))
    // region subscribers n2, n3 also get the region copy (validated, then deduplicated)
    await until(() => [2, 3].every((i) => rawTopics[i]!.includes(jobsTopic(REGION))), 'region copies')
    for (const [i, r] of received.entries()) {
      assert.equal(r.filter((e) => e.message.variant === 'JobAnnouncementV1').length, all[i] === n[4] ? 0 : 1, `node ${i}`)
    }
    // nodes outside the region never see the region topic
    for (const i of [0, 1, 5]) assert.ok(!rawTopics[i]!.includes(jobsTopic(REGION)))
  })

  await t.test('a forged announcement is delivered to nobody and stops at the first hop', async () => {
    const forged = corruptSignature(announcement(m.id))
    // bypass the helper's own validation: publish raw bytes through m's gossipsub
    await m.node.libp2p.services.pubsub.publish(JOBS_ANNOUNCE_TOPIC, forged)
    await n[0]!.node.events.waitFor('message:rejected', {
      signal: AbortSignal.timeout(10_000), predicate: (e) => e.fromPeerId === m.node.peerId
    })
    const r0 = rejected[0]!.filter((e) => e.fromPeerId === m.node.peerId)
    assert.equal(r0.length, 1)
    assert.equal(r0[0]?.reason, 'BadSignature')
    assert.equal(r0[0]?.action, 'reject')
    // barrier: a valid message from m travels the same links after the forged one
    const valid = announcement(m.id)
    await m.node.publishAnnouncement(valid)
    await Promise.all(n.map(async (x) => await x.node.events.waitFor('message:received', {
      signal: AbortSignal.timeout(10_000), predicate: (e) => e.message.signer === m.id.did
    })))
    // No honest node passes it on. (m publishes to every subscribed peer it is connected to, and its
    // DHT may have connected it to more than n0 by now; a copy straight from m is refused the same way.)
    const mPeers = m.node.connectedPeers()
    for (let i = 1; i < 5; i++) {
      const via = rejected[i]!.filter((e) => e.fromPeerId !== m.node.peerId).map((e) => e.fromPeerId)
      assert.deepEqual(via, [], `node ${i} got the forged message from an honest node`)
      // the original assertion, where its premise holds: a node m is not connected to never sees it
      if (!mPeers.includes(n[i]!.node.peerId)) assert.equal(rejected[i]!.length, 0, `node ${i} must never see the forged message`)
    }
    for (const r of received) assert.ok(!r.some((e) => e.bytes.length === forged.length && Buffer.compare(Buffer.from(e.bytes), Buffer.from(forged)) === 0))
    // scores are recomputed on the heartbeat
    await until(() => n[0]!.node.peerScore(m.node.peerId) < 0, 'negative score of m at n0', 5000)
  })

  await t.test('a peer that keeps sending invalid messages is graylisted and ejected', async () => {
    const ejected = n[0]!.node.events.waitFor('peer:ejected', { signal: AbortSignal.timeout(15_000), predicate: (e) => e.peerId === m.node.peerId })
    for (let i = 0; i < 3; i++) {
      await m.node.libp2p.services.pubsub.publish(CAPABILITIES_TOPIC, corruptSignature(capabilityAd(m.id, undefined, { alias: `x${i}` })))
    }
    const e = await ejected
    assert.ok(e.score < -80, `score ${e.score}`)
    await until(() => !n[0]!.node.connectedPeers().includes(m.node.peerId) && !m.node.connectedPeers().includes(n[0]!.node.peerId), 'disconnect of m')
    // the ban holds: n0 refuses m's new connection after the handshake
    const reconnects = record(n[0]!.node, 'peer:connected')
    await m.node.dial(n[0]!.node.multiaddrs()[0]!).catch(() => {})
    await until(() => !m.node.connectedPeers().includes(n[0]!.node.peerId), 'refused reconnection')
    assert.equal(reconnects.filter((x) => x.peerId === m.node.peerId).length, 0)
  })

  await t.test('a newcomer subscribing to capabilities triggers one republish event', async () => {
    const late = await spawn()
    all.push(late)
    const subscribed = n[4]!.node.events.waitFor('capability:subscribed', { signal: AbortSignal.timeout(10_000), predicate: (e) => e.peerId === late.node.peerId })
    const republish = n[4]!.node.events.waitFor('capability:republish', { signal: AbortSignal.timeout(10_000), predicate: (e) => e.peerIds.includes(late.node.peerId) })
    await connect(late.node, n[4]!.node)
    await subscribed
    await republish
    // and a republished ad reaches the newcomer
    const got = late.node.events.waitFor('message:received', { signal: AbortSignal.timeout(10_000), predicate: (ev) => ev.message.signer === n[4]!.id.did })
    await n[4]!.node.publishCapability(capabilityAd(n[4]!.id))
    await got
  })

  await t.test('receipt availability reaches every subscriber', async () => {
    const r = receipt(n[1]!.id, n[3]!.id)
    const bytes = receiptAvailable(n[1]!.id, n[3]!.id, r.cid)
    const waits = n.filter((x) => x !== n[1]).map(async (x) => await x.node.events.waitFor('message:received', {
      signal: AbortSignal.timeout(10_000), predicate: (e) => e.message.variant === 'ExecutionReceiptAvailableV1' && e.topic === RECEIPTS_AVAILABLE_TOPIC
    }))
    assert.deepEqual((await n[1]!.node.publishReceiptAvailable(bytes)).topics, [RECEIPTS_AVAILABLE_TOPIC])
    await Promise.all(waits)
  })

  await t.test('receipt-available helper checks the variant', async () => {
    await assert.rejects(n[0]!.node.publishReceiptAvailable(capabilityAd(n[0]!.id)), { name: 'MeshError', code: 'InvalidInput' })
    await assert.rejects(n[0]!.node.publishCapability(capabilityAd(n[1]!.id)), { name: 'MeshError', code: 'InvalidInput' })
    assert.ok(n[0]!.node.topics().includes(RECEIPTS_AVAILABLE_TOPIC))
  })
})

test('a node that only submits jobs (jobAnnouncements: false) publishes announcements but never receives them; receipts still reach it', async (t) => {
  // executors e0 - e1, buyer b attached to e0
  const e0 = await spawn()
  const e1 = await spawn()
  const b = await spawn({ jobAnnouncements: false })
  t.after(async () => { await stopAll([e0.node, e1.node, b.node]) })
  await connect(e0.node, e1.node)
  await connect(b.node, e0.node)
  assert.deepEqual(b.node.topics().sort(), [CAPABILITIES_TOPIC, RECEIPTS_AVAILABLE_TOPIC].sort())
  assert.ok(e0.node.topics().includes(JOBS_ANNOUNCE_TOPIC))
  await until(() => e0.node.meshPeers(JOBS_ANNOUNCE_TOPIC).includes(e1.node.peerId) && b.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(e0.node.peerId) &&
    e0.node.meshPeers(RECEIPTS_AVAILABLE_TOPIC).includes(b.node.peerId), 'gossip mesh')
  const got = [e0, e1, b].map((x) => record(x.node, 'message:received'))
  const fromBuyer = randomUUID()
  const fromE1 = randomUUID()
  const announcements = (i: number): string[] => got[i]!.filter((e) => e.message.variant === 'JobAnnouncementV1').map((e) => (e.message.body as { announcement_id: string }).announcement_id)

  // the buyer's announcement goes out through the fanout and reaches both executors
  const r = await b.node.publishAnnouncement(announcement(b.id, fromBuyer))
  assert.ok(r.recipients >= 1)
  await until(() => announcements(0).includes(fromBuyer) && announcements(1).includes(fromBuyer), 'the buyer announcement at both executors')

  // another originator's announcement (published by e1) reaches e0, never the buyer
  await e1.node.publishAnnouncement(announcement(e1.id, fromE1))
  await until(() => announcements(0).includes(fromE1), 'e1 announcement at e0')
  // a receipt announcement published after it reaches the buyer: by then the announcement would have too
  const bytes = receiptAvailable(e1.id, b.id, receipt(e1.id, b.id).cid)
  await e1.node.publishReceiptAvailable(bytes)
  await until(() => got[2]!.some((e) => e.message.variant === 'ExecutionReceiptAvailableV1'), 'receipt announcement at the buyer')
  assert.deepEqual(announcements(2), [])
})

test('duplicate copies of a message are dropped before gossipsub verifies their signature again', async (t) => {
  // four nodes, every pair connected: each message reaches a receiver from up to three peers
  const n: TestNode[] = []
  for (let i = 0; i < 4; i++) n.push(await spawn())
  t.after(async () => { await stopAll(n.map((x) => x.node)) })
  for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) await connect(n[i]!.node, n[j]!.node)
  await until(() => n.every((x) => x.node.meshPeers(JOBS_ANNOUNCE_TOPIC).length === 3), 'complete gossip mesh')

  // gossipsub's StrictSign check: node:crypto verify over "libp2p-pubsub:" ‖ message (@libp2p/crypto calls it on the module object)
  const prefix = Buffer.from('libp2p-pubsub:')
  let envelopeChecks = 0
  const realVerify = nodeCrypto.verify
  nodeCrypto.verify = ((...a: Parameters<typeof nodeCrypto.verify>) => {
    const data = a[1]
    if (data instanceof Uint8Array && Buffer.from(data.subarray(0, prefix.length)).equals(prefix)) envelopeChecks++
    return realVerify(...a)
  }) as typeof nodeCrypto.verify
  t.after(() => { nodeCrypto.verify = realVerify })
  // every copy handed to gossipsub, duplicates included
  let copies = 0
  for (const x of n.slice(1)) {
    const ps = x.node.libp2p.services.pubsub as unknown as { handleReceivedMessage: (...a: unknown[]) => Promise<void> }
    const handle = ps.handleReceivedMessage.bind(ps)
    ps.handleReceivedMessage = async (...a) => { copies++; await handle(...a) }
  }

  const received = n.map((x) => record(x.node, 'message:received'))
  const count = 5
  for (let k = 0; k < count; k++) await n[0]!.node.publishAnnouncement(announcement(n[0]!.id))
  await until(() => received.slice(1).every((r) => r.length === count), 'every announcement at every node')
  // let the duplicates still in flight arrive (each receiver forwards to the two others)
  await until(() => copies >= count * 3 + 1, 'duplicate copies', 5000)
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.ok(copies > count * 3, `duplicates arrived (${copies} copies of ${count * 3} deliveries)`)
  assert.equal(envelopeChecks, count * 3, 'one envelope check per receiving node and message')
})

test('a copy with a forged gossipsub envelope that arrives first does not shadow the real message', async (t) => {
  // r hears h's announcement first from m (a copy under a forged envelope signature), then from h
  const r = await spawn()
  const m = await spawn()
  const h = await spawn()
  t.after(async () => { await stopAll([r, m, h].map((x) => x.node)) })
  await connect(m.node, r.node)
  await connect(h.node, r.node)
  await until(() => r.node.meshPeers(JOBS_ANNOUNCE_TOPIC).length === 2, 'r meshed with m and h')
  // gossipsub's verdict on each copy r gets: [sender, code]
  const verdicts: Array<[string, string]> = []
  const ps = r.node.libp2p.services.pubsub as unknown as { validateReceivedMessage: (from: { toString: () => string }, ...rest: unknown[]) => Promise<{ code: string }> }
  const validate = ps.validateReceivedMessage.bind(ps)
  ps.validateReceivedMessage = async (from, ...rest) => {
    const v = await validate(from, ...rest)
    verdicts.push([from.toString(), v.code])
    return v
  }
  const received = record(r.node, 'message:received')

  const data = announcement(h.id) // a genuine announcement, signed by its originator h
  const realSign = nodeCrypto.sign
  const prefix = Buffer.from('libp2p-pubsub:')
  nodeCrypto.sign = ((...a: Parameters<typeof nodeCrypto.sign>) => {
    const sig = realSign(...a) as unknown as Buffer
    const d = a[1]
    if (d instanceof Uint8Array && Buffer.from(d.subarray(0, prefix.length)).equals(prefix)) sig[0] = (sig[0] as number) ^ 0xff
    return sig
  }) as typeof nodeCrypto.sign
  try {
    await m.node.libp2p.services.pubsub.publish(JOBS_ANNOUNCE_TOPIC, data)
  } finally {
    nodeCrypto.sign = realSign
  }
  await until(() => verdicts.some(([from]) => from === m.node.peerId), 'r checked the forged copy')
  assert.deepEqual(verdicts, [[m.node.peerId, 'invalid']], 'the forged copy is refused at the envelope check')
  assert.equal(received.length, 0)

  await h.node.publishAnnouncement(data)
  await r.node.events.waitFor('message:received', { signal: AbortSignal.timeout(10_000) })
  assert.equal(received.length, 1)
  assert.equal(Buffer.compare(Buffer.from(received[0]!.bytes), Buffer.from(data)), 0)
  assert.deepEqual(verdicts[1], [h.node.peerId, 'valid'], 'the real copy is checked and accepted, not taken for a duplicate')
})
