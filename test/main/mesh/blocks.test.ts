import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { rawCid } from '../../../src/shared/protocol/index.js'
import { MemoryBlockStore } from '../../../src/main/mesh/index.js'
import type { BlockStore, MeshEvents } from '../../../src/main/mesh/index.js'
import { connect, spawn, stopAll, until } from './helpers.js'

/** A provider that answers wrong bytes for every CID it is asked for. */
class LyingStore implements BlockStore {
  get (): Uint8Array { return new TextEncoder().encode('definitely not what you asked for') }
  put (): void {}
}

test('block protocol: honest and lying providers, providers via the DHT, limits, access rules', async (t) => {
  const honestStore = new MemoryBlockStore()
  const secret = new Uint8Array(randomBytes(100))
  const secretCid = rawCid(secret)
  let allowed = ''
  // access rule: the secret block only for one requester
  const guarded: BlockStore = {
    get: (cid, requester) => cid === secretCid ? (requester === allowed ? secret : undefined) : honestStore.get(cid),
    put: (cid, bytes) => { honestStore.put(cid, bytes) }
  }
  const honest = await spawn({ blockStore: guarded })
  const liar = await spawn({ blockStore: new LyingStore() })
  const client = await spawn()
  const other = await spawn()
  t.after(async () => { await stopAll([honest.node, liar.node, client.node, other.node]) })
  await connect(client.node, honest.node)
  await connect(client.node, liar.node)
  await connect(other.node, honest.node)
  allowed = client.node.peerId

  const data = new Uint8Array(randomBytes(5 * 1024 * 1024 + 123))
  const cid = rawCid(data)
  honestStore.put(cid, data)

  await t.test('lying provider: CidMismatch, nothing stored', async () => {
    const events: Array<MeshEvents['block:rejected']> = []
    client.node.events.on('block:rejected', (e) => { events.push(e) })
    await assert.rejects(client.node.fetchBlock(cid, { from: liar.node.peerId, providers: false }), { name: 'MeshError', code: 'CidMismatch' })
    assert.equal(await client.node.blockStore.get(cid, client.node.peerId), undefined)
    assert.equal(events.length, 1)
    assert.equal(events[0]?.peerId, liar.node.peerId)
  })

  await t.test('honest provider: verified and stored (5 MiB block)', async () => {
    const got = await client.node.fetchBlock(cid, { from: honest.node.peerId, providers: false })
    assert.equal(Buffer.compare(Buffer.from(got), Buffer.from(data)), 0)
    assert.ok((await client.node.blockStore.get(cid, client.node.peerId)) !== undefined)
  })

  await t.test('lying first, then a DHT provider', async () => {
    const small = new Uint8Array(randomBytes(1000))
    const smallCid = rawCid(small)
    honestStore.put(smallCid, small)
    await until(() => (honest.node.libp2p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size > 0, 'routing table')
    await honest.node.provide(smallCid)
    const fresh = await spawn()
    t.after(async () => { await fresh.node.stop() })
    await connect(fresh.node, liar.node)
    await connect(fresh.node, other.node)
    await until(() => (fresh.node.libp2p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size >= 2, 'routing table of fresh')
    const got = await fresh.node.fetchBlock(smallCid, { from: liar.node.peerId })
    assert.equal(Buffer.compare(Buffer.from(got), Buffer.from(small)), 0)
  })

  await t.test('size limit and missing blocks', async () => {
    const big = await spawn()
    t.after(async () => { await big.node.stop() })
    await connect(big.node, honest.node)
    await assert.rejects(big.node.fetchBlock(cid, { from: honest.node.peerId, providers: false, maxBytes: 1024 * 1024 }),
      (err: Error & { code?: string }) => err.name === 'MeshError' && err.code === 'NotFound' && /TooLarge/.test(err.message))
    await assert.rejects(big.node.fetchBlock(rawCid(new Uint8Array([1, 2, 3])), { from: honest.node.peerId, providers: false }),
      { name: 'MeshError', code: 'NotFound' })
    await assert.rejects(big.node.fetchBlock('not-a-cid'), { name: 'MeshError', code: 'InvalidInput' })
  })

  await t.test('access rules see the requester PeerId', async () => {
    const got = await client.node.fetchBlock(secretCid, { from: honest.node.peerId, providers: false })
    assert.equal(Buffer.compare(Buffer.from(got), Buffer.from(secret)), 0)
    await assert.rejects(other.node.fetchBlock(secretCid, { from: honest.node.peerId, providers: false }), { name: 'MeshError', code: 'NotFound' })
  })
})
