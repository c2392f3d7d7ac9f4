/**
 * A cheaper per-stream peer-store update.
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
 * store. Every other merge goes through unchanged, and the record still gets a real merge (which
 * refreshes its `updated` time, used for expiry after 6 h) at least every `refreshMs` per peer.
 */
import type { Libp2pEvents, Peer, PeerId, PeerStore, TypedEventTarget } from '@libp2p/interface'

interface Known { peer: Peer, protocols: Set<string>, at: number }

/** Installs the shortcut; returns the function that removes it. */
export function cachePeerStoreMerges (peerStore: PeerStore, events: TypedEventTarget<Libp2pEvents>, refreshMs = 60_000, maxPeers = 10_000): () => void {
  const known = new Map<string, Known>()
  const remember = (peer: Peer): void => {
    const id = peer.id.toString()
    known.delete(id)
    if (known.size >= maxPeers) {
      const oldest = known.keys().next()
      if (oldest.done !== true) known.delete(oldest.value)
    }
    known.set(id, { peer, protocols: new Set(peer.protocols), at: Date.now() })
  }
  const onUpdate = (evt: CustomEvent<{ peer: Peer }>): void => { remember(evt.detail.peer) }
  const onGone = (evt: CustomEvent<PeerId>): void => { known.delete(evt.detail.toString()) }
  const original = peerStore.merge
  const merge: PeerStore['merge'] = async (id, data, options) => {
    const protocols = data.protocols
    if (protocols?.length === 1 && Object.keys(data).length === 1) {
      const k = known.get(id.toString())
      if (k !== undefined && k.protocols.has(protocols[0] as string) && Date.now() - k.at < refreshMs) return k.peer
    }
    const peer = await original.call(peerStore, id, data, options)
    remember(peer)
    return peer
  }
  peerStore.merge = merge
  events.addEventListener('peer:update', onUpdate)
  events.addEventListener('peer:disconnect', onGone)
  return () => {
    if (peerStore.merge === merge) peerStore.merge = original
    events.removeEventListener('peer:update', onUpdate)
    events.removeEventListener('peer:disconnect', onGone)
    known.clear()
  }
}
