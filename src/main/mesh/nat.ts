/**
 * Reachability for a node at home: AutoNAT v1 (client and server of `/libp2p/autonat/1.0.0`),
 * NAT detection from identify's observed address, and relay reservations (circuit relay v2) on
 * relays found among the peers we connect to (bootstrap peers, DHT peers).
 *
 * Why our own AutoNAT instead of `@libp2p/autonat`: that service cannot judge a TCP node behind a
 * NAT at all — identify drops TCP observed addresses (js-libp2p#2620), private listen addresses are
 * never tested, it needs 4 successes / 8 failures from peers in distinct /8 networks, and it emits no
 * verdict. This one speaks the same wire protocol (interoperable with go/js servers), asks for a
 * dial-back to `<observed IP>:<our listen port>`, counts answers from distinct peers against a
 * configurable threshold, and reports a verdict. `allowPrivate` (LAN mode) lets it test private
 * addresses, so a private test network (network namespaces) exercises the same code as the internet.
 */
import { networkInterfaces } from 'node:os'
import { lpStream } from '@libp2p/utils'
import type { Connection, IdentifyResult, Libp2pEvents, PeerId, PeerStore, Stream, TypedEventTarget } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { AUTONAT_PROTOCOL, decodeAutonat, encodeAutonat, MessageType, ResponseStatus } from './autonat-pb.js'
import type { AutonatMessage } from './autonat-pb.js'
import { noLogger, type Logger } from '../log/index.js'

export const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'
const MAX_MESSAGE_BYTES = 8192

export type AutonatVerdict = 'unknown' | 'public' | 'private'
/** What others can do: dial us directly (public), reach us through a relay, or not at all. */
export type Reachability = 'unknown' | 'public' | 'relayed' | 'unreachable'

export interface ReachabilityStatus {
  reachability: Reachability
  /** AutoNAT verdict on our direct addresses. */
  autonat: AutonatVerdict
  /** A peer saw us at an IP address that none of our interfaces has: we are behind a NAT. */
  natDetected: boolean
  /** How peers saw us (IP:port of our outbound connections), most recent first. */
  observedAddrs: string[]
  /** Direct addresses confirmed dialable by AutoNAT peers. */
  publicAddrs: string[]
  /** Circuit addresses through relays holding a reservation for us. */
  relayAddrs: string[]
  /** AutoNAT answers from distinct peers: dial-back succeeded / failed. */
  checks: { ok: number, failed: number }
}

export interface NatServiceInit {
  /** Where what the service swallows is logged (debug: an AutoNAT peer that did not answer, …). */
  log?: Logger
  /** Run the AutoNAT client and server. */
  autonat: boolean
  /** Test and dial back private addresses (LAN and test networks). */
  allowPrivate: boolean
  /** Distinct peers that must agree before a verdict. */
  confirmations: number
  /** Reserve a slot on relays we connect to while not known to be public. */
  relayClient: boolean
  /** Relays to hold reservations on. */
  maxRelays: number
  /** The operator says this node is directly reachable: no relay reservations. */
  declaredPublic: boolean
  dialBackTimeoutMs: number
  /** Verdicts are re-checked this often (ms). */
  recheckMs: number
  onChange: (s: ReachabilityStatus) => void
  /** Server side: we answered a peer's dial-back request. */
  onDialBack?: (e: DialBackEvent) => void
}

export interface DialBackEvent { peerId: string, addrs: string[], status: 'ok' | 'dial-error' | 'refused' | 'bad-request', detail: string }

/** The parts of libp2p's internal components this service uses. */
export interface NatComponents {
  peerId: PeerId
  peerStore: PeerStore
  events: TypedEventTarget<Libp2pEvents>
  addressManager: {
    getAddresses: () => Multiaddr[]
    addObservedAddr: (addr: Multiaddr) => void
    confirmObservedAddr: (addr: Multiaddr, options?: { type?: 'transport' | 'observed' }) => void
  }
  transportManager: {
    getAddrs: () => Multiaddr[]
    listen: (addrs: Multiaddr[]) => Promise<void>
    dialTransportForMultiaddr: (ma: Multiaddr) => unknown
  }
  connectionManager: {
    openConnection: (target: Multiaddr, options?: { signal?: AbortSignal, force?: boolean }) => Promise<Connection>
    getConnections: (peerId?: PeerId) => Connection[]
  }
  registrar: {
    handle: (protocol: string, handler: (stream: Stream, connection: Connection) => void | Promise<void>, options?: { maxInboundStreams?: number, maxOutboundStreams?: number }) => Promise<void>
    unhandle: (protocol: string) => Promise<void>
  }
}

export interface NatService {
  status(): ReachabilityStatus
  /** Asks every connected AutoNAT peer again (forgets previous answers). */
  recheck(): void
}

/** A multiaddr's IP host and whether it is IPv4/IPv6, or undefined. */
function ipOf (ma: Multiaddr): { host: string, family: 4 | 6 } | undefined {
  const c = ma.getComponents()[0]
  if (c?.name === 'ip4' && c.value !== undefined) return { host: c.value, family: 4 }
  if (c?.name === 'ip6' && c.value !== undefined) return { host: c.value, family: 6 }
  return undefined
}

function tcpPort (ma: Multiaddr): number | undefined {
  const c = ma.getComponents().find((x) => x.name === 'tcp')
  return c?.value === undefined ? undefined : Number(c.value)
}

export function isCircuit (ma: Multiaddr | string): boolean {
  return ma.toString().includes('/p2p-circuit')
}

/** RFC 1918, loopback, link-local, CGNAT, documentation and other non-internet IPv4/IPv6 ranges. */
export function isPrivateIp (host: string): boolean {
  if (host.includes(':')) {
    const h = host.toLowerCase()
    return h === '::1' || h === '::' || h.startsWith('fc') || h.startsWith('fd') || h.startsWith('fe80') || h.startsWith('2001:db8')
  }
  const p = host.split('.').map(Number)
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x))) return true
  const [a = 0, b = 0, c = 0] = p
  return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 192 && b === 0 && (c === 0 || c === 2)) ||
    (a === 198 && (b === 18 || b === 19)) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113) || a >= 224
}

function localIps (): Set<string> {
  const ips = new Set<string>()
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) ips.add(i.address)
  }
  return ips
}

async function exchange (stream: Stream, msg: AutonatMessage, signal: AbortSignal, log: Logger): Promise<AutonatMessage> {
  const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES })
  await lp.write(encodeAutonat(msg), { signal })
  const answer = decodeAutonat((await lp.read({ signal })).subarray())
  await stream.close({ signal }).catch((err: unknown) => { log.debug({ err }, 'closing an AutoNAT stream after its answer failed') })
  return answer
}

class NatServiceImpl implements NatService {
  private started = false
  private readonly observed: string[] = []
  private natDetected = false
  private readonly ok = new Set<string>()
  private readonly failed = new Set<string>()
  private readonly asked = new Set<string>()
  private readonly confirmed = new Set<string>()
  private readonly observedBy = new Map<string, Multiaddr>()
  private readonly reserving = new Set<string>()
  private verdict: AutonatVerdict = 'unknown'
  private serving = 0
  private last = ''
  private timer: ReturnType<typeof setInterval> | undefined

  private readonly log: Logger
  constructor (private readonly c: NatComponents, private readonly init: NatServiceInit) {
    this.log = (init.log ?? noLogger).child({ sub: 'nat' })
  }

  readonly [Symbol.toStringTag] = 'icn-mesh-nat'

  async start (): Promise<void> {
    if (this.init.autonat) {
      await this.c.registrar.handle(AUTONAT_PROTOCOL, (stream, connection) => { void this.serve(stream, connection) }, { maxInboundStreams: 2, maxOutboundStreams: 4 })
    }
    this.c.events.addEventListener('peer:identify', this.onIdentify)
    this.c.events.addEventListener('self:peer:update', this.onSelfUpdate)
    this.timer = setInterval(() => { this.recheck() }, this.init.recheckMs)
    this.timer.unref?.()
    this.started = true
  }

  async stop (): Promise<void> {
    this.started = false
    if (this.timer !== undefined) clearInterval(this.timer)
    this.c.events.removeEventListener('peer:identify', this.onIdentify)
    this.c.events.removeEventListener('self:peer:update', this.onSelfUpdate)
    if (this.init.autonat) await this.c.registrar.unhandle(AUTONAT_PROTOCOL).catch((err: unknown) => { this.log.debug({ err }, 'unregistering AutoNAT at stop failed') })
  }

  status (): ReachabilityStatus {
    const addrs = this.c.addressManager.getAddresses().map((a) => a.toString())
    const relayAddrs = addrs.filter((a) => isCircuit(a))
    const publicAddrs = [...this.confirmed]
    let reachability: Reachability = 'unknown'
    if (this.verdict === 'public') reachability = 'public'
    else if (relayAddrs.length > 0) reachability = 'relayed'
    else if (this.verdict === 'private') reachability = 'unreachable'
    return {
      reachability,
      autonat: this.verdict,
      natDetected: this.natDetected,
      observedAddrs: [...this.observed],
      publicAddrs,
      relayAddrs,
      checks: { ok: this.ok.size, failed: this.failed.size }
    }
  }

  recheck (): void {
    if (!this.started) return
    this.asked.clear()
    this.ok.clear()
    this.failed.clear()
    for (const conn of this.c.connectionManager.getConnections()) {
      const seen = this.observedBy.get(conn.remotePeer.toString())
      if (seen === undefined || conn.limits !== undefined || isCircuit(conn.remoteAddr)) continue
      void this.c.peerStore.get(conn.remotePeer).then((peer) => {
        if (peer.protocols.includes(AUTONAT_PROTOCOL)) this.ask(conn, seen)
      }).catch((err: unknown) => { this.log.debug({ err }, 'peer store lookup for a recheck failed') })
    }
  }

  private readonly onSelfUpdate = (): void => {
    this.changed()
    // a reservation lapses when its relay connection closes: take another one if we still need it
    if (this.started && this.wantRelay()) this.reserveOnConnectedRelays()
  }

  private reserveOnConnectedRelays (): void {
    for (const conn of this.c.connectionManager.getConnections()) {
      if (conn.direction !== 'outbound' || conn.limits !== undefined || isCircuit(conn.remoteAddr)) continue
      void this.c.peerStore.get(conn.remotePeer).then((p) => {
        if (p.protocols.includes(RELAY_HOP_PROTOCOL)) this.maybeReserve(conn)
      }).catch((err: unknown) => { this.log.debug({ err }, 'peer store lookup for a relay failed') })
    }
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { connection, protocols, observedAddr, peerId } = evt.detail
    const direct = connection.limits === undefined && !isCircuit(connection.remoteAddr)
    if (!direct) return
    if (observedAddr !== undefined) {
      const ip = ipOf(observedAddr)
      if (ip !== undefined) {
        this.observedBy.set(peerId.toString(), observedAddr)
        const s = `${ip.host}:${tcpPort(observedAddr) ?? '?'}`
        const i = this.observed.indexOf(s)
        if (i >= 0) this.observed.splice(i, 1)
        this.observed.unshift(s)
        this.observed.length = Math.min(this.observed.length, 8)
        // an observed IP that no interface of ours has: something translated our address
        if (!localIps().has(ip.host)) this.natDetected = true
        this.changed()
      }
      if (protocols.includes(AUTONAT_PROTOCOL)) this.ask(connection, observedAddr)
    }
    if (protocols.includes(RELAY_HOP_PROTOCOL)) this.maybeReserve(connection)
  }

  private changed (): void {
    const s = this.status()
    const key = JSON.stringify(s)
    if (key === this.last) return
    this.last = key
    try { this.init.onChange(s) } catch (err) { this.log.warn({ err }, 'a reachability listener threw') }
  }

  private wantRelay (): boolean {
    if (!this.init.relayClient || this.init.declaredPublic || this.verdict === 'public') return false
    const relays = new Set(this.status().relayAddrs.map((a) => a.split('/p2p-circuit')[0]))
    return relays.size + this.reserving.size < this.init.maxRelays
  }

  private maybeReserve (connection: Connection): void {
    const relay = connection.remotePeer.toString()
    if (connection.direction !== 'outbound' || this.reserving.has(relay) || !this.wantRelay()) return
    if (this.status().relayAddrs.some((a) => a.includes(`/p2p/${relay}/p2p-circuit`))) return
    this.reserving.add(relay)
    const base = connection.remoteAddr.toString().split('/p2p/')[0] ?? ''
    this.c.transportManager.listen([multiaddr(`${base}/p2p/${relay}/p2p-circuit`)])
      .catch((err: unknown) => { this.log.info({ err, relay }, 'relay reservation refused or lost; another relay may do') })
      .finally(() => {
        this.reserving.delete(relay)
        this.changed()
      })
  }

  /** Client: asks `connection`'s peer to dial us back at the address it saw us at (with our listen port). */
  private ask (connection: Connection, observedAddr: Multiaddr): void {
    const peer = connection.remotePeer.toString()
    if (this.asked.has(peer) || !this.started || !this.init.autonat) return
    const ip = ipOf(observedAddr)
    if (ip === undefined) return
    if (!this.init.allowPrivate && isPrivateIp(ip.host)) return
    const ports = new Set<number>()
    for (const a of this.c.transportManager.getAddrs()) {
      const p = tcpPort(a)
      if (p !== undefined && !isCircuit(a)) ports.add(p)
    }
    const candidates = [...ports].map((p) => multiaddr(`/${ip.family === 4 ? 'ip4' : 'ip6'}/${ip.host}/tcp/${p}`))
    if (candidates.length === 0) return
    this.asked.add(peer)
    const signal = AbortSignal.timeout(this.init.dialBackTimeoutMs + 5000)
    void (async () => {
      const stream = await connection.newStream(AUTONAT_PROTOCOL, { signal })
      const answer = await exchange(stream, {
        type: MessageType.DIAL,
        dial: { peer: { id: this.c.peerId.toMultihash().bytes, addrs: candidates.map((m) => m.bytes) } }
      }, signal, this.log)
      const status = answer.dialResponse?.status
      if (status === ResponseStatus.OK) {
        this.ok.add(peer)
        const addrBytes = answer.dialResponse?.addr
        const confirmed = addrBytes !== undefined && addrBytes.length > 0 ? multiaddr(addrBytes) : candidates[0]
        if (confirmed !== undefined) {
          this.confirmed.add(confirmed.toString())
          this.c.addressManager.addObservedAddr(confirmed)
          this.c.addressManager.confirmObservedAddr(confirmed)
        }
      } else if (status === ResponseStatus.E_DIAL_ERROR) {
        this.failed.add(peer)
      }
      this.decide()
    })().catch((err: unknown) => { this.log.debug({ err, peer }, 'AutoNAT peer gave no answer (counts for nothing)') })
  }

  private decide (): void {
    const need = this.init.confirmations
    const before = this.verdict
    if (this.ok.size >= need && this.ok.size >= this.failed.size) this.verdict = 'public'
    else if (this.failed.size >= need && this.failed.size > this.ok.size) this.verdict = 'private'
    // we now know we need a relay: reserve on relays we are already connected to
    if (before !== this.verdict && this.verdict === 'private') this.reserveOnConnectedRelays()
    this.changed()
  }

  /** Server: dial the requester back, only at the IP its request came from (no third parties). */
  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.init.dialBackTimeoutMs + 5000)
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES })
    let asked: string[] = []
    const respond = async (status: number, statusText: string, addr?: Uint8Array): Promise<void> => {
      const label = status === ResponseStatus.OK ? 'ok' : status === ResponseStatus.E_DIAL_ERROR ? 'dial-error' : status === ResponseStatus.E_BAD_REQUEST ? 'bad-request' : 'refused'
      try { this.init.onDialBack?.({ peerId: connection.remotePeer.toString(), addrs: asked, status: label, detail: statusText }) } catch (err) { this.log.warn({ err }, 'a dial-back listener threw') }
      await lp.write(encodeAutonat({ type: MessageType.DIAL_RESPONSE, dialResponse: { status, statusText, addr } }), { signal })
      await stream.close({ signal }).catch((err: unknown) => { this.log.debug({ err }, 'closing an AutoNAT answer stream failed') })
    }
    try {
      const req = decodeAutonat((await lp.read({ signal })).subarray())
      const peer = req.dial?.peer
      if (req.type !== MessageType.DIAL || peer?.id === undefined) { await respond(ResponseStatus.E_BAD_REQUEST, 'missing dial request'); return }
      if (!equalBytes(peer.id, connection.remotePeer.toMultihash().bytes)) { await respond(ResponseStatus.E_BAD_REQUEST, 'peer id mismatch'); return }
      if (connection.limits !== undefined || isCircuit(connection.remoteAddr)) { await respond(ResponseStatus.E_DIAL_REFUSED, 'not over a relayed connection'); return }
      const remote = ipOf(connection.remoteAddr)
      const mine = new Set(this.c.transportManager.getAddrs().map((a) => ipOf(a)?.host))
      const targets: Multiaddr[] = []
      asked = peer.addrs.slice(0, 16).map((b) => { try { return multiaddr(b).toString() } catch { return '(invalid)' } })
      for (const b of peer.addrs.slice(0, 16)) {
        let ma: Multiaddr
        try { ma = multiaddr(b) } catch { continue }
        const ip = ipOf(ma)
        if (ip === undefined || remote === undefined || ip.host !== remote.host || tcpPort(ma) === undefined) continue
        if (!this.init.allowPrivate && isPrivateIp(ip.host)) continue
        if (mine.has(ip.host)) continue
        if (this.c.transportManager.dialTransportForMultiaddr(ma) === undefined) continue
        targets.push(multiaddr(`${ma.toString()}/p2p/${connection.remotePeer.toString()}`))
      }
      if (targets.length === 0) { await respond(ResponseStatus.E_DIAL_REFUSED, 'no dialable addresses'); return }
      if (this.serving >= 4) { await respond(ResponseStatus.E_INTERNAL_ERROR, 'busy'); return }
      this.serving++
      let lastError = ''
      try {
        for (const t of targets) {
          try {
            // The dial-back connection is left to the connection manager (pruned like any other):
            // closing it at once can take down a relay reservation the peer just made over it.
            const conn = await this.c.connectionManager.openConnection(t, { force: true, signal: AbortSignal.timeout(this.init.dialBackTimeoutMs) })
            if (!conn.remotePeer.equals(connection.remotePeer)) {
              await conn.close().catch((err: unknown) => { this.log.debug({ err }, 'closing a dial-back connection to the wrong peer failed') })
              lastError = 'a different peer answered'
              continue
            }
            await respond(ResponseStatus.OK, 'OK', t.decapsulateCode(421).bytes)
            return
          } catch (err) {
            lastError = err instanceof Error ? err.message : String(err)
          }
        }
      } finally {
        this.serving--
      }
      await respond(ResponseStatus.E_DIAL_ERROR, lastError.slice(0, 200))
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function natService (init: NatServiceInit): (components: NatComponents) => NatService {
  return (components) => new NatServiceImpl(components, init)
}
