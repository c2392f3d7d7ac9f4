/**
 * MeshNode: the libp2p v3 node of the ICN mesh (wire profile section 4), a small facade over
 * js-libp2p services that start and stop with libp2p (each `(init) => (components) => service`):
 *
 * - `meshLinks`   peer-links.ts       connection events, bootstrap, dialing, streams (relay-aware)
 * - `meshGossip`  gossip-gate.ts      topic validators (paced), dedupe, publishing, scoring/ejection (4.1)
 * - `meshDirect`  direct-messaging.ts `/icn/mesh/protocol/0.1.0` listener and sender (4.2)
 * - `meshBlocks`  block-exchange.ts   `/icn/mesh/blocks/0.1.0` server and fetcher (4.3)
 * - `meshRecords` receipt-records.ts  `/icn/kad/1.0.0` receipt records and provider records (4.4)
 * - `nat`         nat.ts              AutoNAT, NAT detection, relay reservations
 */
import '../polyfills.js'
import { toLibp2pPrivateKey } from '../../shared/protocol/index.js'
import { noLogger } from '../log/index.js'
import { blockExchange } from './block-exchange.js'
import { BLOCK_PROTOCOL, MemoryBlockStore } from './blocks.js'
import { DIRECT_PROTOCOL } from './direct.js'
import { directMessaging } from './direct-messaging.js'
import { receiptSelector, receiptValidator } from './dht.js'
import { MeshError } from './errors.js'
import { TypedEmitter } from './events.js'
import { timeoutSignal } from './frame.js'
import { BanList, gossipGate } from './gossip-gate.js'
import { buildLibp2p, KAD_PROTOCOL } from './libp2p.js'
import type { MeshServiceFactories } from './libp2p.js'
import type { ReachabilityStatus } from './nat.js'
import { resolveOptions } from './options.js'
import type { MeshNodeOptions, ResolvedOptions } from './options.js'
import type { BlockStore } from './blocks.js'
import { peerLinks, toPeerId } from './peer-links.js'
import { receiptRecords } from './receipt-records.js'
import type { MeshEvents, MeshNode } from './types.js'
import type { Logger } from '../log/index.js'

export * from './errors.js'
export * from './topics.js'
export * from './types.js'
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
export { createChunkPacer, INTERACTIVE_MIN_INTERVAL_MS } from './chunk-pacer.js'
export type { ChunkPacer } from './chunk-pacer.js'
export { SESSION_ALLOWANCE } from './direct-budget.js'
export { VALIDATION_SLICE_MS } from './gossip-gate.js'

const UNKNOWN_REACHABILITY: ReachabilityStatus = {
  reachability: 'unknown', autonat: 'unknown', natDetected: false, observedAddrs: [], publicAddrs: [], relayAddrs: [], checks: { ok: 0, failed: 0 }
}

/** The factories of our services, configured from the resolved options. */
function meshServices (o: ResolvedOptions, events: TypedEmitter<MeshEvents>, bans: BanList, log: Logger, blockStore: BlockStore): MeshServiceFactories {
  const identity = o.identity
  const { limits, timeouts } = o
  return {
    meshLinks: peerLinks({
      events, log, bootstrap: o.bootstrap, bootstrapRetryMs: o.bootstrapRetryMs, dialMs: timeouts.dialMs, dhtMs: timeouts.dhtMs, freshLookup: o.nat !== undefined,
      optimisticProtocols: [DIRECT_PROTOCOL, BLOCK_PROTOCOL, KAD_PROTOCOL],
      lan: o.lan
    }) as MeshServiceFactories['meshLinks'],
    meshGossip: gossipGate({
      identity, events, log, bans, regions: o.regions, jobAnnouncements: o.jobAnnouncements, validator: o.validator, maxFrameBytes: limits.maxFrameBytes, score: o.score, capabilityRepublishMinMs: o.capabilityRepublishMinMs
    }) as MeshServiceFactories['meshGossip'],
    meshDirect: directMessaging({
      events, log, validator: o.validator, rateLimit: o.directRateLimit, maxFrameBytes: limits.maxFrameBytes, maxInboundStreams: limits.maxInboundStreams, inboundReadMs: timeouts.inboundReadMs, directMs: timeouts.directMs
    }) as MeshServiceFactories['meshDirect'],
    meshRecords: receiptRecords({ selfPeerId: identity.peerId, dhtMs: timeouts.dhtMs }) as MeshServiceFactories['meshRecords'],
    meshBlocks: blockExchange({
      selfPeerId: identity.peerId, events, log, store: blockStore, maxBlockBytes: limits.maxBlockBytes, maxInboundStreams: limits.maxInboundStreams, inboundReadMs: timeouts.inboundReadMs, blockMs: timeouts.blockMs
    }) as MeshServiceFactories['meshBlocks']
  }
}

export async function createMeshNode (options: MeshNodeOptions): Promise<MeshNode> {
  const o = resolveOptions(options)
  const log = (options.log ?? noLogger).child({ sub: 'mesh' })
  const identity = o.identity
  const events = new TypedEmitter<MeshEvents>()
  const blockStore = options.blockStore ?? new MemoryBlockStore()
  const bans = new BanList()
  let started = false
  let lastReachability: ReachabilityStatus = UNKNOWN_REACHABILITY
  const libp2p = await buildLibp2p({
    privateKey: toLibp2pPrivateKey(identity),
    options: o,
    receiptValidator,
    receiptSelector,
    isBanned: (peerId) => bans.isBanned(peerId),
    onReachability: (s) => {
      lastReachability = s
      if (started) events.emit('reachability:changed', s)
    },
    onDialBack: (e) => { events.emit('autonat:served', e) },
    mesh: meshServices(o, events, bans, log, blockStore),
    log
  })
  if (libp2p.peerId.toString() !== identity.peerId) {
    throw new MeshError('InvalidOptions', `libp2p PeerId ${libp2p.peerId.toString()} does not match identity ${identity.peerId}`)
  }
  const { meshLinks: links, meshGossip: gossip, meshDirect: direct, meshBlocks: blocks, meshRecords: records } = libp2p.services

  /** The one NotStarted guard: calls that need a running node go through it. */
  const live = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    if (!started) throw new MeshError('NotStarted', 'mesh node is not started')
    return await fn(...args)
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
      // starts every service: protocol handlers registered, topics subscribed with their validators
      await libp2p.start()
      started = true
      await links.startBootstrap()
      // the peers we just connected to know our subscriptions and we know theirs before we say we
      // are started: what the caller publishes first (a capability ad) reaches them
      await gossip.gossipReady(links.connectedPeers(), o.gossipReadyMs)
      events.emit('node:started', { peerId: identity.peerId, multiaddrs: node.multiaddrs() })
    },

    async stop () {
      if (!started) return
      started = false
      await libp2p.stop()
      events.emit('node:stopped', { peerId: identity.peerId })
    },

    multiaddrs: () => libp2p.getMultiaddrs().map((m) => m.toString()),
    connectedPeers: () => links.connectedPeers(),
    connections: (peerId) => links.connections(peerId),
    relayLimitFor: (peerId) => links.relayLimitFor(peerId),
    pathTo: live(async (peerId, opts = {}) => await links.pathTo(peerId, opts.signal)),
    reachability: () => libp2p.services.nat?.status() ?? lastReachability,
    dial: live(async (target, opts = {}) => { await links.dial(target, opts.signal) }),
    ping: live(async (peerId, opts = {}) => await libp2p.services.ping.ping(toPeerId(peerId), { signal: timeoutSignal(o.timeouts.directMs, opts.signal) })),

    publishCapability: live(async (bytes, region) => await gossip.publishCapability(bytes, region)),
    publishAnnouncement: live(async (bytes, region) => await gossip.publishAnnouncement(bytes, region)),
    publishReceiptAvailable: live(async (bytes) => await gossip.publishReceiptAvailable(bytes)),
    topics: () => gossip.topics(),
    topicPeers: (topic) => gossip.topicPeers(topic),
    meshPeers: (topic) => gossip.meshPeers(topic),
    peerScore: (peerId) => gossip.peerScore(peerId),

    handleDirect: (variant, handler) => direct.handle(variant, handler),
    sendDirect: live(async (peerId, bytes, opts) => await direct.send(peerId, bytes, opts)),
    openDirectSession: (peerId) => direct.budget.openSession(peerId),
    openBidding: (announcementId) => direct.budget.openBidding(announcementId),
    fetchBlock: live(async (cid, opts) => await blocks.fetch(cid, opts)),
    putReceipt: live(async (bytes, opts) => await records.put(bytes, opts)),
    getReceipt: live(async (cid, opts) => await records.get(cid, opts)),
    provide: live(async (cid, opts) => await records.provide(cid, opts)),
    findProviders: live(async (cid, opts) => await records.findProviders(cid, opts))
  }
  return node
}
