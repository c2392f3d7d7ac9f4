import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateIdentity } from '../../../src/shared/protocol/index.js'
import { receiptKey, receiptValidator, receiptSelector } from '../../../src/main/mesh/index.js'
import type { MeshNode } from '../../../src/main/mesh/index.js'
import { connect, corruptSignature, receipt, spawn, stopAll, until } from './helpers.js'

const routingTableSize = (n: MeshNode): number =>
  (n.libp2p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size

test('DHT receipt records through a line a - b - c', async (t) => {
  const a = await spawn()
  const b = await spawn()
  const c = await spawn()
  t.after(async () => { await stopAll([a.node, b.node, c.node]) })
  await connect(a.node, b.node)
  await connect(c.node, b.node)
  await until(() => routingTableSize(a.node) >= 1 && routingTableSize(b.node) >= 2 && routingTableSize(c.node) >= 1, 'routing tables')
  const originator = generateIdentity()

  const r = receipt(a.id, originator)

  await t.test('a puts and provides; c gets it and finds a after a stopped', async () => {
    const put = await a.node.putReceipt(r.bytes)
    assert.equal(put.cid, r.cid)
    assert.ok(put.peers >= 1, `stored on ${put.peers} peers`)
    await a.node.provide(r.cid)
    await a.node.stop()
    const got = await c.node.getReceipt(r.cid)
    assert.ok(got !== undefined)
    assert.equal(Buffer.compare(Buffer.from(got), Buffer.from(r.bytes)), 0)
    const providers = await c.node.findProviders(r.cid)
    assert.ok(providers.includes(a.node.peerId), `providers: ${providers.join(',')}`)
  })

  await t.test('an unknown receipt is undefined', async () => {
    const other = receipt(c.id, originator)
    assert.equal(await c.node.getReceipt(other.cid), undefined)
  })

  await t.test('forged record values are refused by the validator', async () => {
    const good = receipt(c.id, originator)
    const forged = corruptSignature(good.bytes)
    assert.throws(() => { receiptValidator(receiptKey(good.cid), forged) }, { name: 'ReceiptRecordError' })
    // a valid receipt under another receipt's key
    assert.throws(() => { receiptValidator(receiptKey(r.cid), good.bytes) }, { name: 'ReceiptRecordError' })
    assert.doesNotThrow(() => { receiptValidator(receiptKey(good.cid), good.bytes) })
    assert.equal(receiptSelector(receiptKey(good.cid), [forged, good.bytes]), 1)
    // our helper refuses to put it
    await assert.rejects(c.node.putReceipt(forged), { name: 'MeshError', code: 'InvalidInput' })
    // pushed raw through kad-dht to b: b's validator refuses it, so nobody can get it
    const key = receiptKey(good.cid)
    let accepted = 0
    try {
      for await (const ev of c.node.libp2p.services.dht.put(key, forged, { signal: AbortSignal.timeout(10_000) })) {
        if (ev.name === 'PEER_RESPONSE' && ev.messageName === 'PUT_VALUE') accepted++
      }
    } catch {
      // the put fails as a whole when no peer accepts it
    }
    assert.equal(accepted, 0)
    const d = await spawn()
    t.after(async () => { await d.node.stop() })
    await connect(d.node, b.node)
    await until(() => routingTableSize(d.node) >= 1, 'routing table of d')
    assert.equal(await d.node.getReceipt(good.cid), undefined)
  })
})
