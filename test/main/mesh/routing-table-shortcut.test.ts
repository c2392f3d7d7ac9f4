import { test } from 'node:test'
import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { skipKnownRoutingTableUpdates } from '../../../src/main/mesh/routing-table-shortcut.js'
import { generateIdentity } from '../../../src/shared/protocol/index.js'
import { spawn, stopAll } from './helpers.js'

class FakeTable extends EventTarget {
  readonly queued: string[] = []
  queueRoutingTableUpdate (peerId: { toString: () => string }): void { this.queued.push(peerId.toString()) }
}

test('routing-table shortcut: peers the table holds are skipped, others are queued, removal is tracked, uninstall restores', () => {
  const rt = new FakeTable()
  const undo = skipKnownRoutingTableUpdates({ routingTable: rt })
  const a = peerIdFromString(generateIdentity().peerId)
  const b = peerIdFromString(generateIdentity().peerId)
  rt.queueRoutingTableUpdate(a)
  rt.dispatchEvent(new CustomEvent('peer:add', { detail: a }))
  rt.queueRoutingTableUpdate(a) // in the table: skipped
  rt.queueRoutingTableUpdate(b)
  rt.dispatchEvent(new CustomEvent('peer:remove', { detail: a }))
  rt.queueRoutingTableUpdate(a) // gone from the table: queued again
  assert.deepEqual(rt.queued, [a.toString(), b.toString(), a.toString()])
  undo()
  rt.dispatchEvent(new CustomEvent('peer:add', { detail: b }))
  rt.queueRoutingTableUpdate(b)
  assert.equal(rt.queued.length, 4)
  // an object without the expected internals is left alone
  assert.doesNotThrow(() => { skipKnownRoutingTableUpdates({})() })
})

test('routing-table shortcut is installed on the kad-dht this project pins (its internals are as expected)', async (t) => {
  const n = await spawn()
  t.after(async () => { await stopAll([n.node]) })
  const rt = (n.node.libp2p.services.dht as unknown as { routingTable: { queueRoutingTableUpdate: unknown } }).routingTable
  assert.equal(typeof rt.queueRoutingTableUpdate, 'function')
  assert.notEqual(rt.queueRoutingTableUpdate, (Object.getPrototypeOf(rt) as { queueRoutingTableUpdate: unknown }).queueRoutingTableUpdate, 'the shortcut did not recognise this kad-dht')
})
