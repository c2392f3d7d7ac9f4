/**
 * Cheaper peer-store reads and no-op updates.
 *
 * js-libp2p (libp2p 3.x, connection.js) records the protocol of every stream it opens or accepts
 * with `peerStore.merge(remotePeer, { protocols: [protocol] })`. Each call takes the peer's write
 * lock, reads and decodes its record, merges, re-encodes and writes it back — even when the peer
 * already has that protocol, which is every stream after the first. The mesh opens one stream per
 * direct message, block and DHT query (about 30 per job), and these merges were a quarter of the
 * CPU of a job round trip.
 *
 * This wraps the peer store's `merge` so that exactly that call — a single protocol the peer is
 * already known (within `refreshMs`) to have — returns the peer as last read, without touching the
 * store. The same goes for the merges of peer discovery: kad-dht reports the 20 closer peers of
 * every query answer, and libp2p merges their addresses, almost always ones the record has. Every
 * other merge goes through unchanged, and the record still gets a real merge (which refreshes its
 * `updated` time, used for expiry after 6 h, and its addresses' age, 1 h) at least every
 * `refreshMs` per peer while merges keep coming.
 *
 * Reads are the same story: kad-dht answers every FIND_NODE / GET_VALUE / PUT_VALUE query with the
 * addresses of the 20 closest peers it knows, one `peerStore.get` each (read lock, datastore read,
 * protobuf decode). In the 30-node scale bench the peer store was 22 % of a node's CPU while
 * receipts were put, most of it these reads. So `get` (and `getInfo`, which calls it) returns the
 * peer as last read or updated, when that was within `refreshMs`. Every change to a record emits
 * `peer:update` with the new record, which replaces the cached one, so a cached read is never older
 * than the store's last change; it only skips re-reading a record nothing has changed.
 */
import type { Libp2pEvents, Peer, PeerId, PeerStore, TypedEventTarget } from '@libp2p/interface'

interface Known { peer: Peer, protocols: Set<string>, addrs: Set<string>, at: number }

/** A merge of protocols and addresses only (what stream opening and peer discovery send). */
function onlyProtocolsAndAddresses (data: Parameters<PeerStore['merge']>[1]): boolean {
  for (const key of Object.keys(data)) if (key !== 'protocols' && key !== 'multiaddrs') return false
  return true
}

/** Installs the shortcuts; returns the function that removes them. */
export function cachePeerStore (peerStore: PeerStore, events: TypedEventTarget<Libp2pEvents>, refreshMs = 60_000, maxPeers = 10_000): () => void {
  const known = new Map<string, Known>()
  const remember = (peer: Peer): void => {
    const id = peer.id.toString()
    known.delete(id)
    if (known.size >= maxPeers) {
      const oldest = known.keys().next()
      if (oldest.done !== true) known.delete(oldest.value)
    }
    known.set(id, { peer, protocols: new Set(peer.protocols), addrs: new Set(peer.addresses.map((a) => a.multiaddr.toString())), at: Date.now() })
  }
  const onUpdate = (evt: CustomEvent<{ peer: Peer }>): void => { remember(evt.detail.peer) }
  const onGone = (evt: CustomEvent<PeerId>): void => { known.delete(evt.detail.toString()) }
  const fresh = (id: PeerId): Known | undefined => {
    const k = known.get(id.toString())
    return k !== undefined && Date.now() - k.at < refreshMs ? k : undefined
  }
  const originalGet = peerStore.get
  const get: PeerStore['get'] = async (id, options) => {
    const k = fresh(id)
    if (k !== undefined) return k.peer
    const before = known.get(id.toString())
    const peer = await originalGet.call(peerStore, id, options)
    // an update that landed while we read is newer than what we read: keep it
    if (known.get(id.toString()) === before) remember(peer)
    return peer
  }
  const originalDelete = peerStore.delete
  const del: PeerStore['delete'] = async (id, options) => {
    known.delete(id.toString())
    await originalDelete.call(peerStore, id, options)
  }
  const original = peerStore.merge
  const merge: PeerStore['merge'] = async (id, data, options) => {
    const k = onlyProtocolsAndAddresses(data) ? fresh(id) : undefined
    if (k !== undefined && (data.protocols ?? []).every((p) => k.protocols.has(p)) && (data.multiaddrs ?? []).every((m) => k.addrs.has(m.toString()))) return k.peer
    const peer = await original.call(peerStore, id, data, options)
    remember(peer)
    return peer
  }
  peerStore.merge = merge
  peerStore.get = get
  peerStore.delete = del
  events.addEventListener('peer:update', onUpdate)
  events.addEventListener('peer:disconnect', onGone)
  return () => {
    if (peerStore.merge === merge) peerStore.merge = original
    if (peerStore.get === get) peerStore.get = originalGet
    if (peerStore.delete === del) peerStore.delete = originalDelete
    events.removeEventListener('peer:update', onUpdate)
    events.removeEventListener('peer:disconnect', onGone)
    known.clear()
  }
}
