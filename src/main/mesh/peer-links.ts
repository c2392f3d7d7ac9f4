/**
 * Peer links (a js-libp2p service): connections and how we reach a peer.
 *
 * - reports libp2p's peer and connection events as mesh events (`peer:connected`,
 *   `connection:opened` with `relayed` / `upgraded`, …);
 * - dials the bootstrap list once started and again every `bootstrapRetryMs` while disconnected;
 * - makes libp2p's per-stream peer-store update cheap (peer-store-cache.ts);
 * - opens the streams of our own protocols: a direct connection is preferred over a relayed one; a
 *   dial that fails with the addresses we hold asks the DHT afresh before giving up; the limits of the
 *   connection used are remembered per peer, so a failure over a limited relay is reported as such;
 *   on every connection, a stream of our direct, block or DHT protocol that the peer is known to
 *   speak is selected optimistically (optimistic-select.ts).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, ConnectionLimits, Libp2pEvents, PeerId, PeerStore, Stream, TypedEventTarget } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../log/index.js'
import { MeshError } from './errors.js'
import type { TypedEmitter } from './events.js'
import { abortError, timeoutSignal } from './frame.js'
import { isCircuit } from './nat.js'
import { optimisticStreams } from './optimistic-select.js'
import { cachePeerStore } from './peer-store-cache.js'
import { skipKnownRoutingTableUpdates } from './routing-table-shortcut.js'
import { batchTcpWrites } from './tcp-write-batching.js'
import type { ConnectionInfo, MeshEvents, RelayLimits, RelayPath } from './types.js'

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(t); reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

export function errMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Why a bootstrap dial failed, in the owner's terms where libp2p's are cryptic: another node at the
 * address (the /p2p/ part is wrong or the node got a new key) and dialing ourselves.
 */
export function bootstrapDialError (err: unknown): string {
  const msg = errMessage(err)
  const other = /Payload identity key (\S+) does not match expected remote identity key (\S+)/.exec(msg)
  if (other !== null) return `a different node answers there (PeerId ${other[1] ?? '?'}, not ${other[2] ?? '?'}): correct the /p2p/ part of the address`
  if (/Can not dial self/i.test(msg)) return 'that is this node\'s own PeerId'
  return msg
}

export function toPeerId (s: string): PeerId {
  try {
    return peerIdFromString(s)
  } catch {
    throw new MeshError('InvalidInput', `invalid PeerId "${s}"`)
  }
}

/** A dial that found no address to try, outside LAN mode: the likely cause and its fix, for the person reading it. */
export function explainDialFailure (err: unknown, lan: boolean): unknown {
  if (lan || !(err instanceof Error) || err.name !== 'NoValidAddressesError') return err
  const e = new Error(`${err.message} (no usable address is known for it: outside LAN mode private and loopback addresses are dropped; on one machine or a LAN, run every node with --lan)`, { cause: err })
  e.name = err.name
  return e
}

export function limitsInfo (l: ConnectionLimits): RelayLimits {
  const out: RelayLimits = {}
  if (l.bytes !== undefined) out.bytes = String(l.bytes)
  if (l.seconds !== undefined) out.seconds = l.seconds
  return out
}

export function connectionInfo (c: Connection): ConnectionInfo {
  const info: ConnectionInfo = { peerId: c.remotePeer.toString(), remoteAddr: c.remoteAddr.toString(), direction: c.direction, relayed: isCircuit(c.remoteAddr) || c.limits !== undefined }
  if (c.limits !== undefined) info.limits = limitsInfo(c.limits)
  return info
}

export interface PeerLinksInit {
  events: TypedEmitter<MeshEvents>
  log: Logger
  bootstrap: string[]
  bootstrapRetryMs: number
  dialMs: number
  dhtMs: number
  /** NAT traversal is on: a failed dial may be retried with addresses freshly looked up in the DHT. */
  freshLookup: boolean
  /** Protocols whose streams are selected optimistically where the peer is known to speak them. */
  optimisticProtocols: string[]
  /** LAN mode: private and loopback addresses are kept (else a dial failure for want of one says so). */
  lan: boolean
}

/** The parts of libp2p's components this service uses. */
export interface PeerLinksComponents {
  events: TypedEventTarget<Libp2pEvents>
  peerStore: PeerStore
  connectionManager: {
    openConnection: (target: PeerId | Multiaddr, options?: { signal?: AbortSignal, priority?: number }) => Promise<Connection>
    getConnections: (peerId?: PeerId) => Connection[]
  }
  /** kad-dht (the `dht` service), looked up only when a dial fails. */
  dht: KadDHT
}

export interface PeerLinks {
  start(): void
  stop(): void
  /** Dials the bootstrap list now and keeps re-dialing it while disconnected. */
  startBootstrap(): Promise<void>
  dial(target: string, signal?: AbortSignal): Promise<void>
  connections(peerId?: string): ConnectionInfo[]
  connectedPeers(): string[]
  /** Opens a stream of `protocol` to `peerId`, dialing (and looking up afresh) when needed. */
  openStream(peerId: PeerId, protocol: string, signal: AbortSignal): Promise<Stream>
  /** The limits of the connection our last stream to `peerId` used (undefined: unlimited, or none yet). */
  lastLimits(peerId: string): ConnectionLimits | undefined
  /** The limits of the only way to reach `peerId`: a limited relayed connection and no direct one. */
  relayLimitFor(peerId: string): RelayPath | undefined
  /** Connects to `peerId` if we are not (the dial of a direct message), then `relayLimitFor`. */
  pathTo(peerId: string, signal?: AbortSignal): Promise<RelayPath | undefined>
}

const DIAL_PRIORITY = 75

class PeerLinksImpl implements PeerLinks {
  readonly [Symbol.toStringTag] = 'icn-mesh-links'
  private timer: ReturnType<typeof setInterval> | undefined
  private undoPeerStoreCache: (() => void) | undefined
  private undoRoutingShortcut: (() => void) | undefined
  // The connection each protocol dial last used, per peer: a failure over a limited (relayed)
  // connection is reported as RelayLimited rather than a bare transport error.
  private readonly limitsUsed = new Map<string, ConnectionLimits | undefined>()

  private readonly optimistic: ReadonlySet<string>

  constructor (private readonly c: PeerLinksComponents, private readonly init: PeerLinksInit) {
    this.optimistic = new Set(init.optimisticProtocols)
  }

  start (): void {
    this.undoPeerStoreCache = cachePeerStore(this.c.peerStore, this.c.events)
    this.undoRoutingShortcut = skipKnownRoutingTableUpdates(this.c.dht)
    this.c.events.addEventListener('peer:connect', this.onPeerConnect)
    this.c.events.addEventListener('peer:disconnect', this.onPeerDisconnect)
    this.c.events.addEventListener('connection:open', this.onConnectionOpen)
    this.c.events.addEventListener('connection:close', this.onConnectionClose)
  }

  stop (): void {
    this.undoPeerStoreCache?.()
    this.undoRoutingShortcut?.()
    this.undoPeerStoreCache = undefined
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    this.c.events.removeEventListener('connection:open', this.onConnectionOpen)
    this.c.events.removeEventListener('connection:close', this.onConnectionClose)
    this.c.events.removeEventListener('peer:connect', this.onPeerConnect)
    this.c.events.removeEventListener('peer:disconnect', this.onPeerDisconnect)
  }

  async startBootstrap (): Promise<void> {
    if (this.init.bootstrap.length === 0) return
    await this.dialBootstrap()
    this.timer = setInterval(() => { void this.dialBootstrap() }, this.init.bootstrapRetryMs)
    this.timer.unref?.()
  }

  private async dialBootstrap (): Promise<void> {
    await Promise.all(this.init.bootstrap.map(async (addr) => {
      try {
        const ma = multiaddr(addr)
        const pid = ma.getComponents().find((x) => x.name === 'p2p')?.value
        if (pid !== undefined && this.c.connectionManager.getConnections(peerIdFromString(pid)).length > 0) return
        await this.c.connectionManager.openConnection(ma, { signal: AbortSignal.timeout(this.init.dialMs), priority: DIAL_PRIORITY })
      } catch (err) {
        this.init.events.emit('bootstrap:failed', { addr, error: bootstrapDialError(err) })
      }
    }))
  }

  async dial (target: string, userSignal?: AbortSignal): Promise<void> {
    const signal = timeoutSignal(this.init.dialMs, userSignal)
    const t = target.startsWith('/') ? multiaddr(target) : toPeerId(target)
    try {
      await this.c.connectionManager.openConnection(t, { signal, priority: DIAL_PRIORITY })
    } catch (err) {
      if (signal.aborted) throw abortError(signal, `dialing ${target}`)
      throw new MeshError('Transport', `dialing ${target} failed: ${errMessage(err)}`, { cause: err })
    }
  }

  connections (peerId?: string): ConnectionInfo[] {
    return this.c.connectionManager.getConnections(peerId === undefined ? undefined : toPeerId(peerId)).map(connectionInfo)
  }

  connectedPeers (): string[] {
    return [...new Set(this.c.connectionManager.getConnections().map((x) => x.remotePeer.toString()))]
  }

  async openStream (peerId: PeerId, protocol: string, signal: AbortSignal): Promise<Stream> {
    // prefer a direct connection when both a relayed and a direct (hole-punched) one are open
    const open = this.c.connectionManager.getConnections(peerId).filter((x) => x.status === 'open')
    const conn = open.find((x) => x.limits === undefined) ?? open[0] ?? await this.connect(peerId, signal)
    this.limitsUsed.set(peerId.toString(), conn.limits)
    // a protocol identify says the peer speaks goes optimistically (installed on connection:open)
    return await conn.newStream(protocol, { signal, runOnLimitedConnection: true })
  }

  lastLimits (peerId: string): ConnectionLimits | undefined {
    return this.limitsUsed.get(peerId)
  }

  relayLimitFor (peerId: string): RelayPath | undefined {
    const open = this.c.connectionManager.getConnections(toPeerId(peerId)).filter((x) => x.status === 'open')
    if (open.length === 0 || open.some((x) => x.limits === undefined)) return undefined
    // several relayed connections: the most generous one is the one a stream may use
    let best: RelayPath | undefined
    for (const x of open) {
      const l = x.limits as ConnectionLimits
      const p: RelayPath = {}
      if (l.bytes !== undefined) p.bytes = l.bytes
      if (l.seconds !== undefined) p.seconds = l.seconds
      if (best === undefined || p.bytes === undefined || (best.bytes !== undefined && p.bytes > best.bytes)) best = p
    }
    return best
  }

  /**
   * A connection to `peerId`: our dial, or the peer's own connection to us if that opens first (two
   * homes behind NAT: while we are still looking up its relay address, it may well dial our circuit
   * address — e.g. to answer the very message we want to send).
   */
  private async connect (peerId: PeerId, signal: AbortSignal): Promise<Connection> {
    const ctl = new AbortController()
    const dialSignal = AbortSignal.any([signal, ctl.signal])
    let onOpen: ((evt: CustomEvent<Connection>) => void) | undefined
    const inbound = new Promise<Connection>((resolve) => {
      onOpen = (evt) => { if (evt.detail.remotePeer.equals(peerId) && evt.detail.status === 'open') resolve(evt.detail) }
      this.c.events.addEventListener('connection:open', onOpen)
    })
    const dialed = this.dialFresh(peerId, dialSignal).catch((err: unknown) => { throw explainDialFailure(err, this.init.lan) })
    try {
      const conn = await Promise.race([dialed, inbound])
      // the peer's connection came first: our dial is no longer needed
      ctl.abort(new Error('connected meanwhile'))
      return conn
    } finally {
      if (onOpen !== undefined) this.c.events.removeEventListener('connection:open', onOpen)
      dialed.catch(() => { /* lost the race, or aborted */ })
    }
  }

  async pathTo (peerId: string, userSignal?: AbortSignal): Promise<RelayPath | undefined> {
    const id = toPeerId(peerId)
    if (!this.c.connectionManager.getConnections(id).some((x) => x.status === 'open')) {
      const signal = timeoutSignal(this.init.dialMs, userSignal)
      try {
        await this.connect(id, signal)
      } catch (err) {
        if (signal.aborted) throw abortError(signal, `connecting to ${peerId}`)
        throw new MeshError('Transport', `connecting to ${peerId} failed: ${errMessage(err)}`, { cause: err })
      }
    }
    return this.relayLimitFor(peerId)
  }

  // Dials a peer; when the addresses we hold fail (stale, or a peer behind NAT whose relay address
  // appeared after we learned about it), asks the DHT afresh (not our cache) and dials again. A
  // relay address takes a moment to spread (the peer's identify push to its relays, then their DHT
  // answers), so a lookup that brings nothing new is repeated after a short pause, twice at most.
  private async dialFresh (peerId: PeerId, signal: AbortSignal): Promise<Connection> {
    const cm = this.c.connectionManager
    try {
      return await cm.openConnection(peerId, { signal, priority: DIAL_PRIORITY })
    } catch (err) {
      // nobody to ask (or NAT traversal off): the dial error stands
      if (signal.aborted || !this.init.freshLookup || cm.getConnections().length === 0) throw err
      let last = err
      for (const pauseMs of [0, 250, 750]) {
        if (pauseMs > 0) await sleep(pauseMs, signal)
        const found = await this.lookUp(peerId, signal)
        if (found === undefined) throw last
        if (found === 'nothing new') continue
        try {
          return await cm.openConnection(peerId, { signal, priority: DIAL_PRIORITY })
        } catch (again) {
          if (signal.aborted) throw again
          last = again
        }
      }
      throw last
    }
  }

  /** Looks `peerId` up in the DHT (not our cache) and records its addresses: whether that told us anything new; undefined if the lookup failed. */
  private async lookUp (peerId: PeerId, signal: AbortSignal): Promise<'new' | 'nothing new' | undefined> {
    const lookup = timeoutSignal(Math.min(5000, this.init.dhtMs), signal)
    const known = new Set((await this.c.peerStore.get(peerId).catch(() => undefined))?.addresses.map((a) => a.multiaddr.toString()) ?? [])
    try {
      for await (const ev of this.c.dht.findPeer(peerId, { signal: lookup, useCache: false })) {
        if (ev.name === 'FINAL_PEER' && ev.peer.multiaddrs.length > 0) {
          await this.c.peerStore.merge(peerId, { multiaddrs: ev.peer.multiaddrs })
          return ev.peer.multiaddrs.some((m) => !known.has(m.toString())) ? 'new' : 'nothing new'
        }
      }
      return 'nothing new'
    } catch (lookupErr) {
      this.init.log.debug({ err: lookupErr, peer: peerId.toString() }, 'fresh DHT lookup after a failed dial failed too')
      return undefined
    }
  }

  private readonly onPeerConnect = (evt: CustomEvent<PeerId>): void => { this.init.events.emit('peer:connected', { peerId: evt.detail.toString() }) }
  private readonly onPeerDisconnect = (evt: CustomEvent<PeerId>): void => { this.init.events.emit('peer:disconnected', { peerId: evt.detail.toString() }) }
  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    batchTcpWrites(evt.detail)
    optimisticStreams(evt.detail, this.c.peerStore, this.optimistic)
    const info = connectionInfo(evt.detail)
    const others = this.c.connectionManager.getConnections(evt.detail.remotePeer).filter((x) => x.id !== evt.detail.id)
    const upgraded = !info.relayed && others.length > 0 && others.every((x) => x.limits !== undefined || isCircuit(x.remoteAddr))
    this.init.events.emit('connection:opened', { ...info, upgraded })
  }

  private readonly onConnectionClose = (evt: CustomEvent<Connection>): void => { this.init.events.emit('connection:closed', connectionInfo(evt.detail)) }
}

export function peerLinks (init: PeerLinksInit): (components: PeerLinksComponents) => PeerLinks {
  return (components) => new PeerLinksImpl(components, init)
}
