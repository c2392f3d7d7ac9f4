import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { connect, spawn, stopAll, until } from './helpers.js'

test('peer store cache: reads skip the store only while nothing changed; updates and deletes show at once', async (t) => {
  const a = await spawn()
  const b = await spawn()
  t.after(async () => { await stopAll([a.node, b.node]) })
  await connect(a.node, b.node)
  const store = a.node.libp2p.peerStore
  const bId = peerIdFromString(b.node.peerId)
  await until(() => a.node.connectedPeers().includes(b.node.peerId), 'connection')

  // two reads of an unchanged record: the second is the cached record
  const first = await store.get(bId)
  const second = await store.get(bId)
  assert.equal(second, first)
  assert.deepEqual(await store.getInfo(bId).then((i) => i.id.toString()), b.node.peerId)

  // a change through the store is visible to the next read (and getInfo)
  const extra = multiaddr('/ip4/10.9.8.7/tcp/4001')
  await store.merge(bId, { multiaddrs: [extra] })
  const after = await store.get(bId)
  assert.ok(after.addresses.some((x) => x.multiaddr.equals(extra)), 'merged address missing from the read')
  assert.ok((await store.getInfo(bId)).multiaddrs.some((m) => m.equals(extra)))
  await store.patch(bId, { tags: { 'test-tag': { value: 7 } } })
  assert.equal((await store.get(bId)).tags.get('test-tag')?.value, 7)

  // a protocol merge the peer already has changes nothing and is answered from the cache
  const withProtocol = await store.merge(bId, { protocols: ['/test/cache/1.0.0'] })
  assert.ok(withProtocol.protocols.includes('/test/cache/1.0.0'))
  assert.equal(await store.merge(bId, { protocols: ['/test/cache/1.0.0'] }), await store.get(bId))

  // so is a discovery merge of addresses the record already has; a new address goes to the store
  const current = await store.get(bId)
  assert.equal(await store.merge(bId, { multiaddrs: current.addresses.map((x) => x.multiaddr) }), current)
  const another = multiaddr('/ip4/10.9.8.6/tcp/4001')
  const grown = await store.merge(bId, { multiaddrs: [another] })
  assert.notEqual(grown, current)
  assert.ok((await store.get(bId)).addresses.some((x) => x.multiaddr.equals(another)))

  // a deleted record is gone for readers at once
  await store.delete(bId)
  await assert.rejects(store.get(bId), { name: 'NotFoundError' })
})
