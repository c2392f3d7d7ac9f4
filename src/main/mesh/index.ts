/**
 * MeshNode: the libp2p v3 node of the ICN mesh (wire profile section 4).
 *
 * - gossip topics with a validating topic validator and peer scoring (4.1)
 * - direct messages `/icn/mesh/protocol/0.1.0` (4.2)
 * - content blocks `/icn/mesh/blocks/0.1.0` (4.3)
 * - Kademlia `/icn/kad/1.0.0` receipt records and provider records (4.4)
 */
import '../polyfills.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Message as GossipMessage, GossipsubMessage, SubscriptionChangeData, TopicValidatorFn } from '@libp2p/gossipsub'
import type { Connection, ConnectionLimits, PeerId, Stream } from '@libp2p/interface'
import {
  createValidator, isValidCid, ProtocolError, ReplayCache, toLibp2pPrivateKey, verifyReceiptBlock
} from '../../shared/protocol/index.js'
import type { MeshMessage, MessageOf, ReasonCode, Variant } from '../../shared/protocol/index.js'
import { MemoryBlockStore, requestBlock, serveBlock, BLOCK_PROTOCOL } from './blocks.js'
import type { BlockStore } from './blocks.js'
import { DIRECT_PROTOCOL, sendDirectFrame, serveDirect } from './direct.js'
import { receiptKey, receiptSelector, receiptValidator, toCid } from './dht.js'
import { noLogger } from '../log/index.js'
import { MeshError } from './errors.js'
import { TypedEmitter } from './events.js'
import { abortError, timeoutSignal } from './frame.js'
import type { DirectAnswer } from './frame.js'
import { dedupeKeys, gossipVerdict, SeenCache, TOPIC_VARIANT } from './gossip.js'
import { buildLibp2p } from './libp2p.js'
import type { MeshLibp2p } from './libp2p.js'
import { resolveOptions } from './options.js'
import type { MeshNodeOptions } from './options.js'
import { isCircuit } from './nat.js'
import type { DialBackEvent, ReachabilityStatus } from './nat.js'
import { createRateLimiter } from './rate-limit.js'
import {
  capabilitiesTopic, contentKey, jobsTopic, parseTopic, RECEIPTS_AVAILABLE_TOPIC, topicsFor
} from './topics.js'

export * from './errors.js'
export * from './topics.js'
export { MemoryBlockStore, BLOCK_PROTOCOL } from './blocks.js'
export type { BlockStore } from './blocks.js'
export { DIRECT_PROTOCOL } from './direct.js'
export type { DirectAnswer } from './frame.js'
export { KAD_PROTOCOL, RECEIPT_NAMESPACE } from './libp2p.js'
export type { MeshLibp2p, MeshServices } from './libp2p.js'
export { receiptKey, receiptValidator, receiptSelector, ReceiptRecordError } from './dht.js'
export type { MeshNodeOptions, MeshTimeouts, MeshLimits, GossipScoreOptions, ValidatorOptions, NatOptions, RelayServerOptions } from './options.js'
export { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, DEFAULT_SCORE, DEFAULT_RELAY_SERVER } from './options.js'
export type { Reachability, ReachabilityStatus, AutonatVerdict, DialBackEvent } from './nat.js'
export { AUTONAT_PROTOCOL } from './autonat-pb.js'
export { RELAY_HOP_PROTOCOL, isPrivateIp } from './nat.js'
export { TypedEmitter } from './events.js'

export type Channel = 'gossip' | 'direct'

export interface MeshEvents {
  'node:started': { peerId: string, multiaddrs: string[] }
  'node:stopped': { peerId: string }
  'peer:connected': { peerId: string }
  'peer:disconnected': { peerId: string }
  /** A peer whose gossip score fell below the graylist threshold was disconnected and banned. */
  'peer:ejected': { peerId: string, score: number, bannedUntil: number }
  /** A validated message was delivered (gossip: once across global + region topics). */
  'message:received': { message: MeshMessage, bytes: Uint8Array, channel: Channel, topic?: string, fromPeerId: string }
  /** A message failed validation (gossip: `action` tells whether it was Rejected or Ignored). */
  'message:rejected': { channel: Channel, topic?: string, fromPeerId: string, reason: ReasonCode, detail: string, variant?: string, action: 'reject' | 'ignore' | 'answer' }
  /** A peer subscribed to a capabilities topic. */
  'capability:subscribed': { peerId: string, topic: string }
  /** Time to re-publish the capability ad (a newcomer subscribed); at most once per `capabilityRepublishMinMs`. */
  'capability:republish': { peerIds: string[] }
  'block:served': { cid: string, peerId: string, found: boolean }
  /** A provider answered bytes that do not hash to the CID (nothing stored). */
  'block:rejected': { cid: string, peerId: string, reason: string, detail: string }
  'bootstrap:failed': { addr: string, error: string }
  /** Our reachability changed (AutoNAT verdict, NAT detected, relay reservations, confirmed addresses). */
  'reachability:changed': ReachabilityStatus
  /**
   * A connection opened. `relayed`: through a circuit relay (limited); `upgraded`: a direct
   * connection to a peer we were connected to only through a relay (hole punching / DCUtR).
   */
  'connection:opened': ConnectionInfo & { upgraded: boolean }
  'connection:closed': ConnectionInfo
  /** Our AutoNAT server answered a peer's dial-back request. */
  'autonat:served': DialBackEvent
  'error:listener': { event: string, error: unknown }
}

export interface DirectContext {
  remotePeerId: string
  bytes: Uint8Array
}

/** A direct-message handler: resolve to answer `{ok: true}`, throw a ProtocolError to refuse with its reason. */
export type DirectHandler<V extends Variant> = (message: MessageOf<V>, ctx: DirectContext) => Promise<void> | void

export interface PublishResult {
  topics: string[]
  /** Peers the message was sent to, summed over topics. */
  recipients: number
}

export interface FetchBlockOptions {
  signal?: AbortSignal
  /** Peer(s) to ask first (e.g. the originator). */
  from?: string | string[]
  /** Also ask DHT providers of the CID (default true). */
  providers?: boolean
  /** Block size limit; default `limits.maxBlockBytes`. */
  maxBytes?: number
  /** Per-peer timeout (ms); default `timeouts.blockMs`. */
  timeoutMs?: number
  /** Store the verified block in the node's block store (default true). */
  store?: boolean
  /** Maximum number of DHT providers to try (default 5). */
  maxProviders?: number
}

export interface AbortOpts { signal?: AbortSignal }

export interface ConnectionInfo {
  peerId: string
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  relayed: boolean
  /** Relay limits of a relayed connection: bytes and seconds left. */
  limits?: { bytes?: string, seconds?: number }
}

function connectionInfo (c: Connection): ConnectionInfo {
  const info: ConnectionInfo = { peerId: c.remotePeer.toString(), remoteAddr: c.remoteAddr.toString(), direction: c.direction, relayed: isCircuit(c.remoteAddr) || c.limits !== undefined }
  if (c.limits !== undefined) info.limits = limitsInfo(c.limits)
  return info
}

function limitsInfo (l: ConnectionLimits): { bytes?: string, seconds?: number } {
  const out: { bytes?: string, seconds?: number } = {}
  if (l.bytes !== undefined) out.bytes = String(l.bytes)
  if (l.seconds !== undefined) out.seconds = l.seconds
  return out
}

const UNKNOWN_REACHABILITY: ReachabilityStatus = {
  reachability: 'unknown', autonat: 'unknown', natDetected: false, observedAddrs: [], publicAddrs: [], relayAddrs: [], checks: { ok: 0, failed: 0 }
}

export interface MeshNode {
  readonly peerId: string
  readonly did: string
  readonly events: TypedEmitter<MeshEvents>
  readonly blockStore: BlockStore
  /** The underlying libp2p node (for diagnostics, tests and benchmarks). */
  readonly libp2p: MeshLibp2p
  readonly isStarted: boolean
  start(opts?: AbortOpts): Promise<void>
  stop(): Promise<void>
  multiaddrs(): string[]
  connectedPeers(): string[]
  /** Open connections (direct or relayed). */
  connections(peerId?: string): ConnectionInfo[]
  /** What AutoNAT, identify and the relay reservations tell about our reachability. */
  reachability(): ReachabilityStatus
  /** Dials a multiaddr (with /p2p/) or a known PeerId. */
  dial(target: string, opts?: AbortOpts): Promise<void>
  hangUp(peerId: string, opts?: AbortOpts): Promise<void>
  /** Round-trip time of a libp2p ping (ms). */
  ping(peerId: string, opts?: AbortOpts): Promise<number>

  publishCapability(bytes: Uint8Array, region?: string): Promise<PublishResult>
  publishAnnouncement(bytes: Uint8Array, region?: string): Promise<PublishResult>
  publishReceiptAvailable(bytes: Uint8Array): Promise<PublishResult>
  /** Topics this node is subscribed to. */
  topics(): string[]
  /** Peers known to be subscribed to `topic`. */
  topicPeers(topic: string): string[]
  /** Peers in this node's gossipsub mesh for `topic`. */
  meshPeers(topic: string): string[]
  /** This node's gossipsub score of `peerId`. */
  peerScore(peerId: string): number

  handleDirect<V extends Variant>(variant: V, handler: DirectHandler<V>): () => void
  /** Sends one direct message; retried on transport errors only (`attempts`, default 3; `timeoutMs` per attempt). */
  sendDirect(peerId: string, bytes: Uint8Array, opts?: AbortOpts & { attempts?: number, timeoutMs?: number }): Promise<DirectAnswer>

  fetchBlock(cid: string, opts?: FetchBlockOptions): Promise<Uint8Array>

  putReceipt(bytes: Uint8Array, opts?: AbortOpts): Promise<{ cid: string, peers: number }>
  getReceipt(cid: string, opts?: AbortOpts): Promise<Uint8Array | undefined>
  provide(cid: string, opts?: AbortOpts): Promise<void>
  findProviders(cid: string, opts?: AbortOpts & { limit?: number }): Promise<string[]>
}

/** Longest run of gossip validation before yielding to other I/O (ms). */
const VALIDATION_SLICE_MS = 4

function errMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function toPeerId (s: string): PeerId {
  try {
    return peerIdFromString(s)
  } catch {
    throw new MeshError('InvalidInput', `invalid PeerId "${s}"`)
  }
}

export async function createMeshNode (options: MeshNodeOptions): Promise<MeshNode> {
  const o = resolveOptions(options)
  const log = (options.log ?? noLogger).child({ sub: 'mesh' })
  const identity = o.identity
  const events = new TypedEmitter<MeshEvents>()
  const blockStore = options.blockStore ?? new MemoryBlockStore()
  const banned = new Map<string, number>()
  const now = o.validator.now ?? Date.now
  const isBanned = (peerId: PeerId): boolean => {
    const until = banned.get(peerId.toString())
    if (until === undefined) return false
    if (until > Date.now()) return true
    banned.delete(peerId.toString())
    return false
  }

  let lastReachability: ReachabilityStatus = UNKNOWN_REACHABILITY
  const libp2p = await buildLibp2p({
    privateKey: toLibp2pPrivateKey(identity),
    options: o,
    receiptValidator,
    receiptSelector,
    isBanned,
    onReachability: (s) => {
      lastReachability = s
      if (started) events.emit('reachability:changed', s)
    },
    onDialBack: (e) => { events.emit('autonat:served', e) },
    log
  })
  if (libp2p.peerId.toString() !== identity.peerId) {
    throw new MeshError('InvalidOptions', `libp2p PeerId ${libp2p.peerId.toString()} does not match identity ${identity.peerId}`)
  }
  const pubsub = libp2p.services.pubsub
  const dht = libp2p.services.dht

  const freshnessMs = (o.validator.maxAgeMs ?? 300_000) + (o.validator.maxFutureMs ?? 30_000)
  const validatorFor = (): ReturnType<typeof createValidator> => createValidator({
    now: o.validator.now,
    maxAgeMs: o.validator.maxAgeMs,
    maxFutureMs: o.validator.maxFutureMs,
    maxBytes: o.limits.maxFrameBytes,
    replay: new ReplayCache({ ttlMs: freshnessMs, maxEntries: 100_000 })
  })
  // publish helpers check our own messages without recording them as seen
  const localValidator = createValidator({
    now: o.validator.now, maxAgeMs: o.validator.maxAgeMs, maxFutureMs: o.validator.maxFutureMs, maxBytes: o.limits.maxFrameBytes, replay: false
  })
  const topicValidators = new Map<string, ReturnType<typeof createValidator>>()
  const directValidator = validatorFor()
  const rateLimiter = createRateLimiter(o.directRateLimit, now)
  const delivered = new SeenCache(freshnessMs, 100_000, now)
  const validated = new WeakMap<GossipMessage, MeshMessage>()
  const directHandlers = new Map<Variant, DirectHandler<Variant>>()

  let started = false
  let timers: Array<ReturnType<typeof setInterval>> = []
  let republishTimer: ReturnType<typeof setTimeout> | undefined
  let lastRepublish = -Infinity
  let pendingSubscribers: string[] = []
  const cleanups: Array<() => void> = []

  // ---- gossip ---------------------------------------------------------------------------------
  // Validation (decode + Ed25519) costs a fraction of a millisecond per message, and libp2p runs a
  // peer's buffered messages back to back in microtasks, which never yield to I/O: a flood would
  // hold everything else up for seconds. The validator yields to the event loop (setImmediate)
  // once per VALIDATION_SLICE_MS of work, so streams, timers and the dashboard get their turn.
  let sliceStart = 0
  const pacedValidator: TopicValidatorFn = (peer, msg) => {
    if (performance.now() - sliceStart < VALIDATION_SLICE_MS) return topicValidator(peer, msg)
    return new Promise((resolve) => {
      setImmediate(() => {
        sliceStart = performance.now()
        resolve(topicValidator(peer, msg))
      })
    })
  }
  const topicValidator = (peer: Parameters<TopicValidatorFn>[0], msg: Parameters<TopicValidatorFn>[1]): TopicValidatorResult => {
    const fromPeerId = peer.toString()
    const parsed = parseTopic(msg.topic)
    if (parsed === undefined) return TopicValidatorResult.Ignore
    let v = topicValidators.get(msg.topic)
    if (v === undefined) {
      v = validatorFor()
      topicValidators.set(msg.topic, v)
    }
    const r = v.validate(msg.data)
    if (!r.ok) {
      const verdict = gossipVerdict(r.reason)
      events.emit('message:rejected', {
        channel: 'gossip', topic: msg.topic, fromPeerId, reason: r.reason, detail: r.detail, variant: r.variant,
        action: verdict === TopicValidatorResult.Reject ? 'reject' : 'ignore'
      })
      return verdict
    }
    const expected = TOPIC_VARIANT[parsed.kind]
    if (r.message.variant !== expected) {
      events.emit('message:rejected', {
        channel: 'gossip', topic: msg.topic, fromPeerId, reason: 'Malformed', detail: `${r.message.variant} is not carried on ${msg.topic}`, variant: r.message.variant, action: 'reject'
      })
      return TopicValidatorResult.Reject
    }
    validated.set(msg, r.message)
    return TopicValidatorResult.Accept
  }

  const onGossipMessage = (evt: CustomEvent<GossipsubMessage>): void => {
    const { msg, propagationSource } = evt.detail
    const message = validated.get(msg)
    if (message === undefined) return
    validated.delete(msg)
    const keys = dedupeKeys(message, contentKey(msg.data))
    let dup = false
    for (const k of keys) if (delivered.seen(k)) dup = true
    if (dup) return
    events.emit('message:received', { message, bytes: msg.data, channel: 'gossip', topic: msg.topic, fromPeerId: propagationSource.toString() })
  }

  const fireRepublish = (): void => {
    republishTimer = undefined
    lastRepublish = Date.now()
    const peerIds = pendingSubscribers
    pendingSubscribers = []
    events.emit('capability:republish', { peerIds })
  }

  const onSubscriptionChange = (evt: CustomEvent<SubscriptionChangeData>): void => {
    const peerId = evt.detail.peerId.toString()
    for (const s of evt.detail.subscriptions) {
      if (!s.subscribe || parseTopic(s.topic)?.kind !== 'capabilities') continue
      events.emit('capability:subscribed', { peerId, topic: s.topic })
      if (!pendingSubscribers.includes(peerId)) pendingSubscribers.push(peerId)
      if (republishTimer === undefined && started) {
        const wait = Math.max(0, lastRepublish + o.capabilityRepublishMinMs - Date.now())
        republishTimer = setTimeout(fireRepublish, wait)
        republishTimer.unref?.()
      }
    }
  }

  const onHeartbeat = (): void => {
    for (const peer of pubsub.getPeers()) {
      const id = peer.toString()
      const score = peerScore(id)
      if (score < o.score.graylistThreshold && !banned.has(id)) {
        const bannedUntil = Date.now() + o.score.banMs
        banned.set(id, bannedUntil)
        events.emit('peer:ejected', { peerId: id, score, bannedUntil })
        libp2p.hangUp(peer).catch((err: unknown) => { log.debug({ err, peer: id }, 'hanging up on a banned peer failed (already gone?)') })
      }
    }
  }

  function peerScore (peerId: string): number {
    return (pubsub as unknown as { getScore: (id: string) => number }).getScore(peerId)
  }

  async function publish (topics: string[], bytes: Uint8Array, message: MeshMessage): Promise<PublishResult> {
    if (!started) throw new MeshError('NotStarted', 'mesh node is not started')
    // our own message must not come back to us as "received" through a region copy
    for (const k of dedupeKeys(message, contentKey(bytes))) delivered.seen(k)
    let recipients = 0
    for (const t of topics) {
      const r = await pubsub.publish(t, bytes)
      recipients += r.recipients.length
    }
    return { topics, recipients }
  }

  function checkOwn (bytes: Uint8Array, variant: Variant): MeshMessage {
    if (!(bytes instanceof Uint8Array)) throw new MeshError('InvalidInput', 'message bytes must be a Uint8Array')
    const r = localValidator.validate(bytes)
    if (!r.ok) throw new MeshError('InvalidInput', `refusing to publish an invalid message: ${r.reason}: ${r.detail}`)
    if (r.message.variant !== variant) throw new MeshError('InvalidInput', `expected ${variant}, got ${r.message.variant}`)
    if (r.message.signer !== identity.did) throw new MeshError('InvalidInput', `message is signed by ${r.message.signer}, not by this node`)
    return r.message
  }

  // ---- direct ---------------------------------------------------------------------------------
  const processDirect = async (frame: Uint8Array, remotePeerId: string): Promise<DirectAnswer> => {
    const refuse = (reason: ReasonCode, detail: string, variant?: string): DirectAnswer => {
      events.emit('message:rejected', { channel: 'direct', fromPeerId: remotePeerId, reason, detail, variant, action: 'answer' })
      return { ok: false, error: reason, message: detail }
    }
    if (!rateLimiter.take(remotePeerId)) return refuse('RateLimited', 'too many direct messages; slow down')
    // the replay id is remembered only once the handler accepted the message, so a refused one
    // (e.g. an out-of-sequence input) can be sent again in order
    const r = directValidator.validate(frame, { remotePeerId, deferReplay: true })
    if (!r.ok) return refuse(r.reason, r.detail, r.variant)
    const message = r.message
    const handler = directHandlers.get(message.variant)
    if (handler === undefined) return refuse('PolicyRejected', `this node does not accept ${message.variant} direct messages`, message.variant)
    events.emit('message:received', { message, bytes: frame, channel: 'direct', fromPeerId: remotePeerId })
    try {
      await handler(message, { remotePeerId, bytes: frame })
      if (r.replayKey !== undefined) directValidator.commitReplay(r.replayKey)
      return { ok: true }
    } catch (err) {
      if (err instanceof ProtocolError) return refuse(err.reason, err.message, message.variant)
      return refuse('InternalError', errMessage(err), message.variant)
    }
  }

  // Dials a peer; when the addresses we hold fail (stale, or a peer behind NAT whose relay address
  // appeared after we learned about it), asks the DHT afresh (not our cache) and dials again.
  const dialFresh = async (peerId: PeerId, signal: AbortSignal): Promise<Connection> => {
    try {
      return await libp2p.dial(peerId, { signal })
    } catch (err) {
      // nobody to ask (or NAT traversal off): the dial error stands
      if (signal.aborted || o.nat === undefined || libp2p.getConnections().length === 0) throw err
      let found = false
      const lookup = timeoutSignal(Math.min(5000, o.timeouts.dhtMs), signal)
      try {
        for await (const ev of dht.findPeer(peerId, { signal: lookup, useCache: false })) {
          if (ev.name === 'FINAL_PEER' && ev.peer.multiaddrs.length > 0) {
            await libp2p.peerStore.merge(peerId, { multiaddrs: ev.peer.multiaddrs })
            found = true
            break
          }
        }
      } catch (lookupErr) {
        log.debug({ err: lookupErr, peer: peerId.toString() }, 'fresh DHT lookup after a failed dial failed too')
        throw err
      }
      if (!found) throw err
      return await libp2p.dial(peerId, { signal })
    }
  }

  // The connection each protocol dial last used, per peer: a failure over a limited (relayed)
  // connection is reported as RelayLimited rather than a bare transport error.
  const lastLimits = new Map<string, ConnectionLimits | undefined>()
  const openStream = async (peerId: PeerId, protocol: string, signal: AbortSignal): Promise<Stream> => {
    // prefer a direct connection when both a relayed and a direct (hole-punched) one are open
    const open = libp2p.getConnections(peerId).filter((c) => c.status === 'open')
    const conn = open.find((c) => c.limits === undefined) ?? open[0] ?? await dialFresh(peerId, signal)
    lastLimits.set(peerId.toString(), conn.limits)
    // negotiateFully: false writes the protocol id together with the first frame (saves a round
    // trip per message; an unsupported protocol still fails, when the answer is read)
    return await conn.newStream(protocol, { signal, runOnLimitedConnection: true, negotiateFully: false })
  }

  // ---- lifecycle ------------------------------------------------------------------------------
  const onPeerConnect = (evt: CustomEvent<PeerId>): void => { events.emit('peer:connected', { peerId: evt.detail.toString() }) }
  const onPeerDisconnect = (evt: CustomEvent<PeerId>): void => { events.emit('peer:disconnected', { peerId: evt.detail.toString() }) }
  const onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const info = connectionInfo(evt.detail)
    const others = libp2p.getConnections(evt.detail.remotePeer).filter((c) => c.id !== evt.detail.id)
    const upgraded = !info.relayed && others.length > 0 && others.every((c) => c.limits !== undefined || isCircuit(c.remoteAddr))
    events.emit('connection:opened', { ...info, upgraded })
  }
  const onConnectionClose = (evt: CustomEvent<Connection>): void => { events.emit('connection:closed', connectionInfo(evt.detail)) }

  async function dialBootstrap (): Promise<void> {
    await Promise.all(o.bootstrap.map(async (addr) => {
      try {
        const ma = multiaddr(addr)
        const pid = ma.getComponents().find((c) => c.name === 'p2p')?.value
        if (pid !== undefined && libp2p.getConnections(peerIdFromString(pid)).length > 0) return
        await libp2p.dial(ma, { signal: AbortSignal.timeout(o.timeouts.dialMs) })
      } catch (err) {
        events.emit('bootstrap:failed', { addr, error: errMessage(err) })
      }
    }))
  }

  const node: MeshNode = {
    peerId: identity.peerId,
    did: identity.did,
    events,
    blockStore,
    libp2p,
    get isStarted () { return started },

    async start (opts = {}) {
      if (started) throw new MeshError('AlreadyStarted', 'mesh node already started')
      opts.signal?.throwIfAborted()
      await libp2p.start()
      started = true
      await libp2p.handle(DIRECT_PROTOCOL, async (stream, connection) => {
        await serveDirect(stream, connection, o.limits.maxFrameBytes, o.timeouts.inboundReadMs, processDirect)
      }, { maxInboundStreams: o.limits.maxInboundStreams, runOnLimitedConnection: true })
      await libp2p.handle(BLOCK_PROTOCOL, async (stream, connection) => {
        await serveBlock(stream, connection, blockStore, o.limits.maxBlockBytes, o.timeouts.inboundReadMs,
          (e) => { events.emit('block:served', e) }, log)
      }, { maxInboundStreams: o.limits.maxInboundStreams, runOnLimitedConnection: true })
      pubsub.addEventListener('gossipsub:message', onGossipMessage)
      pubsub.addEventListener('subscription-change', onSubscriptionChange)
      pubsub.addEventListener('gossipsub:heartbeat', onHeartbeat)
      libp2p.addEventListener('peer:connect', onPeerConnect)
      libp2p.addEventListener('peer:disconnect', onPeerDisconnect)
      libp2p.addEventListener('connection:open', onConnectionOpen)
      libp2p.addEventListener('connection:close', onConnectionClose)
      cleanups.push(() => {
        libp2p.removeEventListener('connection:open', onConnectionOpen)
        libp2p.removeEventListener('connection:close', onConnectionClose)
        pubsub.removeEventListener('gossipsub:message', onGossipMessage)
        pubsub.removeEventListener('subscription-change', onSubscriptionChange)
        pubsub.removeEventListener('gossipsub:heartbeat', onHeartbeat)
        libp2p.removeEventListener('peer:connect', onPeerConnect)
        libp2p.removeEventListener('peer:disconnect', onPeerDisconnect)
      })
      for (const t of topicsFor(o.regions)) {
        pubsub.topicValidators.set(t, pacedValidator)
        pubsub.subscribe(t)
      }
      if (o.bootstrap.length > 0) {
        await dialBootstrap()
        const t = setInterval(() => { void dialBootstrap() }, o.bootstrapRetryMs)
        t.unref?.()
        timers.push(t)
      }
      events.emit('node:started', { peerId: identity.peerId, multiaddrs: node.multiaddrs() })
    },

    async stop () {
      if (!started) return
      started = false
      for (const t of timers) clearInterval(t)
      timers = []
      if (republishTimer !== undefined) clearTimeout(republishTimer)
      republishTimer = undefined
      for (const c of cleanups.splice(0)) c()
      await libp2p.unhandle([DIRECT_PROTOCOL, BLOCK_PROTOCOL]).catch((err: unknown) => { log.debug({ err }, 'unregistering our protocols at stop failed') })
      await libp2p.stop()
      rateLimiter.clear()
      events.emit('node:stopped', { peerId: identity.peerId })
    },

    multiaddrs () {
      return libp2p.getMultiaddrs().map((m) => m.toString())
    },

    connectedPeers () {
      return [...new Set(libp2p.getConnections().map((c) => c.remotePeer.toString()))]
    },

    connections (peerId) {
      return libp2p.getConnections(peerId === undefined ? undefined : toPeerId(peerId)).map(connectionInfo)
    },

    reachability () {
      return libp2p.services.nat?.status() ?? lastReachability
    },

    async dial (target, opts = {}) {
      if (!started) throw new MeshError('NotStarted', 'mesh node is not started')
      const signal = timeoutSignal(o.timeouts.dialMs, opts.signal)
      const t = target.startsWith('/') ? multiaddr(target) : toPeerId(target)
      try {
        await libp2p.dial(t, { signal })
      } catch (err) {
        if (signal.aborted) throw abortError(signal, `dialing ${target}`)
        throw new MeshError('Transport', `dialing ${target} failed: ${errMessage(err)}`, { cause: err })
      }
    },

    async hangUp (peerId, opts = {}) {
      await libp2p.hangUp(toPeerId(peerId), { signal: opts.signal })
    },

    async ping (peerId, opts = {}) {
      if (!started) throw new MeshError('NotStarted', 'mesh node is not started')
      return await libp2p.services.ping.ping(toPeerId(peerId), { signal: timeoutSignal(o.timeouts.directMs, opts.signal) })
    },

    async publishCapability (bytes, region) {
      const message = checkOwn(bytes, 'CapabilityAdvertisementV1')
      const topics = [capabilitiesTopic()]
      if (region !== undefined) topics.push(capabilitiesTopic(region))
      return await publish(topics, bytes, message)
    },

    async publishAnnouncement (bytes, region) {
      const message = checkOwn(bytes, 'JobAnnouncementV1')
      const topics = [jobsTopic()]
      if (region !== undefined) topics.push(jobsTopic(region))
      return await publish(topics, bytes, message)
    },

    async publishReceiptAvailable (bytes) {
      const message = checkOwn(bytes, 'ExecutionReceiptAvailableV1')
      return await publish([RECEIPTS_AVAILABLE_TOPIC], bytes, message)
    },

    topics () { return pubsub.getTopics() },
    topicPeers (topic) { return pubsub.getSubscribers(topic).map((p) => p.toString()) },
    meshPeers (topic) { return (pubsub as unknown as { getMeshPeers: (t: string) => string[] }).getMeshPeers(topic) },
    peerScore,

    handleDirect (variant, handler) {
      const h = handler as unknown as DirectHandler<Variant>
      directHandlers.set(variant, h)
      return () => {
        if (directHandlers.get(variant) === h) directHandlers.delete(variant)
      }
    },

    async sendDirect (peerId, bytes, opts = {}) {
      if (!started) throw new MeshError('NotStarted', 'mesh node is not started')
      if (!(bytes instanceof Uint8Array)) throw new MeshError('InvalidInput', 'message bytes must be a Uint8Array')
      if (bytes.byteLength > o.limits.maxFrameBytes) {
        throw new MeshError('TooLarge', `message of ${bytes.byteLength} bytes exceeds the ${o.limits.maxFrameBytes}-byte frame limit`)
      }
      return await sendDirectFrame(openStream, toPeerId(peerId), bytes, {
        signal: opts.signal, timeoutMs: opts.timeoutMs ?? o.timeouts.directMs, attempts: opts.attempts ?? 3, backoffMs: 200, log
      })
    },

    async fetchBlock (cid, opts = {}) {
      if (!started) throw new MeshError('NotStarted', 'mesh node is not started')
      if (!isValidCid(cid)) throw new MeshError('InvalidInput', `invalid CID "${cid}"`)
      const maxBytes = opts.maxBytes ?? o.limits.maxBlockBytes
      if (!(maxBytes > 0)) throw new MeshError('InvalidInput', 'maxBytes must be positive')
      const timeoutMs = opts.timeoutMs ?? o.timeouts.blockMs
      const tried = new Set<string>([identity.peerId])
      const failures: Array<{ peerId: string, error: string, message: string }> = []
      const attempt = async (peerId: string): Promise<Uint8Array | undefined> => {
        tried.add(peerId)
        const r = await requestBlock(openStream, toPeerId(peerId), cid, maxBytes, timeoutMs, opts.signal, log)
        if (r.ok) {
          if (opts.store !== false) await blockStore.put(cid, r.data)
          return r.data
        }
        const limits = lastLimits.get(peerId)
        if (limits !== undefined && r.error !== 'NotFound' && r.error !== 'CidMismatch') {
          // only a limited relayed connection to this peer, and no direct one (hole punching failed or not tried)
          const l = limitsInfo(limits)
          failures.push({
            peerId,
            error: 'RelayLimited',
            message: `only a limited relayed connection (relay allows ${l.bytes ?? 'unlimited'} bytes, ${l.seconds ?? 'unlimited'} s) and no direct one; ${r.error}: ${r.message}`
          })
          return undefined
        }
        failures.push({ peerId, error: r.error, message: r.message })
        if (r.error === 'CidMismatch') events.emit('block:rejected', { cid, peerId, reason: r.error, detail: r.message })
        return undefined
      }
      const from = opts.from === undefined ? [] : Array.isArray(opts.from) ? opts.from : [opts.from]
      for (const p of from) {
        if (tried.has(p)) continue
        const data = await attempt(p)
        if (data !== undefined) return data
      }
      if (opts.providers !== false) {
        const providers = await node.findProviders(cid, { signal: opts.signal, limit: opts.maxProviders ?? 5 }).catch((err: unknown) => {
          if (opts.signal?.aborted === true) throw err
          return [] as string[]
        })
        for (const p of providers) {
          if (tried.has(p)) continue
          const data = await attempt(p)
          if (data !== undefined) return data
        }
      }
      const detail = failures.length === 0 ? 'no peer to ask' : failures.map((f) => `${f.peerId}: ${f.error}: ${f.message}`).join('; ')
      const code = failures.some((f) => f.error === 'CidMismatch') ? 'CidMismatch' : failures.some((f) => f.error === 'RelayLimited') ? 'RelayLimited' : 'NotFound'
      throw new MeshError(code, `block ${cid} could not be fetched (${detail})`)
    },

    async putReceipt (bytes, opts = {}) {
      if (!started) throw new MeshError('NotStarted', 'mesh node is not started')
      const v = verifyReceiptBlock(bytes)
      if (!v.ok) throw new MeshError('InvalidInput', `not a valid receipt block: ${v.reason}: ${v.detail}`)
      const signal = timeoutSignal(o.timeouts.dhtMs, opts.signal)
      let peers = 0
      try {
        for await (const ev of dht.put(receiptKey(v.cid), bytes, { signal })) {
          if (ev.name === 'PEER_RESPONSE' && ev.messageName === 'PUT_VALUE') peers++
        }
      } catch (err) {
        if (signal.aborted) throw abortError(signal, `putting receipt ${v.cid}`)
        throw new MeshError('Transport', `putting receipt ${v.cid} failed: ${errMessage(err)}`, { cause: err })
      }
      return { cid: v.cid, peers }
    },

    async getReceipt (cid, opts = {}) {
      if (!started) throw new MeshError('NotStarted', 'mesh node is not started')
      const key = receiptKey(cid)
      const signal = timeoutSignal(o.timeouts.dhtMs, opts.signal)
      try {
        for await (const ev of dht.get(key, { signal })) {
          if (ev.name === 'VALUE' && verifyReceiptBlock(ev.value, cid).ok) return ev.value
        }
      } catch (err) {
        if (opts.signal?.aborted === true) throw abortError(opts.signal, `getting receipt ${cid}`)
        if (signal.aborted) throw abortError(signal, `getting receipt ${cid}`)
        if ((err as Error).name === 'NotFoundError') return undefined
        throw new MeshError('Transport', `getting receipt ${cid} failed: ${errMessage(err)}`, { cause: err })
      }
      return undefined
    },

    async provide (cid, opts = {}) {
      if (!started) throw new MeshError('NotStarted', 'mesh node is not started')
      const signal = timeoutSignal(o.timeouts.dhtMs, opts.signal)
      try {
        await libp2p.contentRouting.provide(toCid(cid), { signal })
      } catch (err) {
        if (signal.aborted) throw abortError(signal, `providing ${cid}`)
        throw new MeshError('Transport', `providing ${cid} failed: ${errMessage(err)}`, { cause: err })
      }
    },

    async findProviders (cid, opts = {}) {
      if (!started) throw new MeshError('NotStarted', 'mesh node is not started')
      const limit = opts.limit ?? 20
      const signal = timeoutSignal(o.timeouts.dhtMs, opts.signal)
      const found: string[] = []
      try {
        for await (const p of libp2p.contentRouting.findProviders(toCid(cid), { signal })) {
          const id = p.id.toString()
          if (id === identity.peerId || found.includes(id)) continue
          found.push(id)
          if (found.length >= limit) break
        }
      } catch (err) {
        if (opts.signal?.aborted === true) throw abortError(opts.signal, `finding providers of ${cid}`)
        if (signal.aborted || (err as Error).name === 'NotFoundError') return found
        throw new MeshError('Transport', `finding providers of ${cid} failed: ${errMessage(err)}`, { cause: err })
      }
      return found
    }
  }
  return node
}
