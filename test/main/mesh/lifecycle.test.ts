import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateIdentity } from '../../../src/shared/protocol/index.js'
import { createMeshNode } from '../../../src/main/mesh/index.js'
import { bid, connect, spawn, stopAll } from './helpers.js'

test('options are checked', async () => {
  const identity = generateIdentity()
  await assert.rejects(createMeshNode({ identity, regions: ['EU West'] }), { name: 'MeshError', code: 'InvalidOptions' })
  await assert.rejects(createMeshNode({ identity, limits: { maxFrameBytes: 0 } }), { name: 'MeshError', code: 'InvalidOptions' })
  await assert.rejects(createMeshNode({ identity, score: { graylistThreshold: 5 } }), { name: 'MeshError', code: 'InvalidOptions' })
  await assert.rejects(createMeshNode({ identity: {} as never }), { name: 'MeshError', code: 'InvalidOptions' })
})

test('the libp2p PeerId is the identity PeerId; start/stop events; calls before start fail', async () => {
  const identity = generateIdentity()
  const node = await createMeshNode({ identity, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true })
  assert.equal(node.libp2p.peerId.toString(), identity.peerId)
  await assert.rejects(node.sendDirect(identity.peerId, bid(identity)), { name: 'MeshError', code: 'NotStarted' })
  const started = node.events.waitFor('node:started')
  await node.start()
  const e = await started
  assert.equal(e.peerId, identity.peerId)
  assert.ok(e.multiaddrs.some((m) => m.startsWith('/ip4/127.0.0.1/tcp/')))
  await assert.rejects(node.start(), { name: 'MeshError', code: 'AlreadyStarted' })
  const stopped = node.events.waitFor('node:stopped')
  await node.stop()
  await stopped
  await node.stop() // idempotent
})

test('bootstrap list: dialed at start, failures reported', async (t) => {
  const a = await spawn()
  const dead = generateIdentity()
  const deadAddr = `/ip4/127.0.0.1/tcp/1/p2p/${dead.peerId}`
  const b = await createMeshNode({
    identity: generateIdentity(),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    lan: true,
    bootstrap: [a.node.multiaddrs()[0]!, deadAddr],
    timeouts: { dialMs: 2000 }
  })
  const failed = b.events.waitFor('bootstrap:failed')
  t.after(async () => { await stopAll([a.node, b]) })
  await b.start()
  assert.ok(b.connectedPeers().includes(a.node.peerId))
  assert.equal((await failed).addr, deadAddr)
})

test('sendDirect retries transport errors then fails with a MeshError; abort is honoured', async (t) => {
  const a = await spawn()
  const b = await spawn()
  t.after(async () => { await stopAll([a.node, b.node]) })
  await connect(a.node, b.node)
  b.node.handleDirect('JobBidV1', () => {})
  assert.deepEqual(await a.node.sendDirect(b.node.peerId, bid(a.id)), { ok: true })
  await b.node.stop()
  const t0 = Date.now()
  await assert.rejects(a.node.sendDirect(b.node.peerId, bid(a.id)), { name: 'MeshError', code: 'Transport' })
  assert.ok(Date.now() - t0 >= 200 + 400, 'two backoff delays between three attempts')
  const ac = new AbortController()
  ac.abort()
  await assert.rejects(a.node.sendDirect(b.node.peerId, bid(a.id), { signal: ac.signal }))
})
