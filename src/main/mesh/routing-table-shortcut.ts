/**
 * A cheaper kad-dht routing-table update.
 *
 * kad-dht (16.x) queues a routing-table update for every peer named in a DHT message — each query
 * answer names up to 20 closer peers — and for every peer that answers a query. Each update is a
 * queue job with its own abort signals and a timeout timer, and for a peer already in the table it
 * ends doing nothing (`KBucket._add` returns when the contact exists; js kad-dht keeps no
 * last-seen order to refresh). In the 30-node scale bench these jobs were about 5 % of a node's CPU
 * while receipts were put.
 *
 * This wraps the routing table's `queueRoutingTableUpdate` so that a peer the table holds (tracked
 * from its `peer:add` / `peer:remove` events) is skipped; every other peer goes through unchanged.
 * Without the internals it expects (another kad-dht version), it installs nothing.
 */
import type { PeerId } from '@libp2p/interface'

interface RoutingTableLike {
  queueRoutingTableUpdate: (peerId: PeerId, options?: unknown) => void
  addEventListener: (type: 'peer:add' | 'peer:remove', fn: (evt: CustomEvent<PeerId>) => void) => void
  removeEventListener: (type: 'peer:add' | 'peer:remove', fn: (evt: CustomEvent<PeerId>) => void) => void
}

function routingTableOf (dht: unknown): RoutingTableLike | undefined {
  const rt = (dht as { routingTable?: Partial<RoutingTableLike> } | undefined)?.routingTable
  if (typeof rt?.queueRoutingTableUpdate !== 'function' || typeof rt.addEventListener !== 'function' || typeof rt.removeEventListener !== 'function') return undefined
  return rt as RoutingTableLike
}

/** Installs the shortcut on the kad-dht service; returns the function that removes it. */
export function skipKnownRoutingTableUpdates (dht: unknown): () => void {
  const rt = routingTableOf(dht)
  if (rt === undefined) return () => {}
  const inTable = new Set<string>()
  const onAdd = (evt: CustomEvent<PeerId>): void => { inTable.add(evt.detail.toString()) }
  const onRemove = (evt: CustomEvent<PeerId>): void => { inTable.delete(evt.detail.toString()) }
  const original = rt.queueRoutingTableUpdate
  const update: RoutingTableLike['queueRoutingTableUpdate'] = (peerId, options) => {
    if (inTable.has(peerId.toString())) return
    original.call(rt, peerId, options)
  }
  rt.queueRoutingTableUpdate = update
  rt.addEventListener('peer:add', onAdd)
  rt.addEventListener('peer:remove', onRemove)
  return () => {
    if (rt.queueRoutingTableUpdate === update) rt.queueRoutingTableUpdate = original
    rt.removeEventListener('peer:add', onAdd)
    rt.removeEventListener('peer:remove', onRemove)
    inTable.clear()
  }
}
