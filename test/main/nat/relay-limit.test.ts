/**
 * Relay limits on loopback: B holds a reservation on relay R (64 KiB per relayed connection); A
 * reaches B only through R. relayLimitFor / pathTo report the relay's limit, and a block larger
 * than it fails with RelayLimited, naming the limit.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { rawCid } from '../../../src/shared/protocol/index.js'
import { MemoryBlockStore } from '../../../src/main/mesh/index.js'
import { spawn, stopAll, until } from '../mesh/helpers.js'

test('a peer reached only through a relay: its limit is reported, a block over it fails RelayLimited', async (t) => {
  const relay = await spawn({ nat: { relayServer: { dataLimitBytes: 64 * 1024, durationLimitSeconds: 60 }, autonat: false } })
  const store = new MemoryBlockStore()
  const b = await spawn({ blockStore: store, bootstrap: [relay.node.multiaddrs()[0] as string], nat: { autonat: false } })
  const a = await spawn({ bootstrap: [relay.node.multiaddrs()[0] as string], nat: { autonat: false } })
  t.after(async () => { await stopAll([a.node, b.node, relay.node]) })
  await until(() => b.node.reachability().relayAddrs.length > 0, 'B holds a reservation on the relay', 10_000)
  const circuit = `${relay.node.multiaddrs()[0] as string}/p2p-circuit/p2p/${b.node.peerId}`

  assert.equal(a.node.relayLimitFor(b.node.peerId), undefined, 'no connection yet')
  await a.node.dial(circuit)
  assert.ok(a.node.connections(b.node.peerId).every((c) => c.relayed), 'only a relayed connection')
  const path = a.node.relayLimitFor(b.node.peerId)
  assert.ok(path?.bytes !== undefined && path.bytes > 0n && path.bytes <= 64n * 1024n, `relay data limit reported: ${String(path?.bytes)}`)
  assert.deepEqual(await a.node.pathTo(b.node.peerId), a.node.relayLimitFor(b.node.peerId))

  const small = new Uint8Array(randomBytes(1000))
  const big = new Uint8Array(randomBytes(256 * 1024))
  store.put(rawCid(small), small)
  store.put(rawCid(big), big)
  const got = await a.node.fetchBlock(rawCid(small), { from: b.node.peerId, providers: false, store: false })
  assert.equal(Buffer.compare(Buffer.from(got), Buffer.from(small)), 0, 'a small block crosses the relay')
  await assert.rejects(a.node.fetchBlock(rawCid(big), { from: b.node.peerId, providers: false, store: false, timeoutMs: 10_000 }),
    (err: Error & { code?: string }) => err.name === 'MeshError' && err.code === 'RelayLimited' && /relay allows \d+ bytes/.test(err.message))

  // with a direct connection there is no relay limit
  await a.node.dial(b.node.multiaddrs().find((m) => !m.includes('p2p-circuit')) as string)
  await until(() => a.node.connections(b.node.peerId).some((c) => !c.relayed), 'a direct connection', 5000)
  assert.equal(a.node.relayLimitFor(b.node.peerId), undefined)
})
