/** Builds the libp2p v3 node of the mesh (profile section 4: TCP, Noise, Yamux, identify, ping, gossipsub, kad-dht). */
import '../polyfills.js'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify, identifyPush } from '@libp2p/identify'
import type { Identify, IdentifyPush } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import type { Ping } from '@libp2p/ping'
import { gossipsub, StrictSign } from '@libp2p/gossipsub'
import type { GossipSub } from '@libp2p/gossipsub'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import type { KadDHT, SelectFn, ValidateFn } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { uPnPNAT } from '@libp2p/upnp-nat'
import { natService } from './nat.js'
import type { Logger } from '../log/index.js'
import type { DialBackEvent, NatService, ReachabilityStatus } from './nat.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { ResolvedOptions } from './options.js'
import type { BlockExchange } from './block-exchange.js'
import type { DirectMessaging } from './direct-messaging.js'
import type { GossipGate } from './gossip-gate.js'
import type { PeerLinks } from './peer-links.js'
import type { ReceiptRecords } from './receipt-records.js'
import { libp2pLogger } from './quiet-logger.js'
import { cacheEd25519KeyObjects } from './ed25519-key-objects.js'
import { noiseCrypto } from './noise-crypto.js'
import { quietEmptyFrameReads } from './noise-decoder-shortcut.js'
import { halfWindowUpdates } from './yamux-window-updates.js'
import { gossipFastMessageId, gossipMessageId, topicsFor } from './topics.js'

export const KAD_PROTOCOL = '/icn/kad/1.0.0'
export const RECEIPT_NAMESPACE = 'icn-receipt'

export interface MeshServices extends Record<string, unknown> {
  identify: Identify
  identifyPush: IdentifyPush
  ping: Ping
  pubsub: GossipSub
  dht: KadDHT
  /** Present when NAT traversal is on. */
  nat?: NatService
  meshLinks: PeerLinks
  meshGossip: GossipGate
  meshDirect: DirectMessaging
  meshRecords: ReceiptRecords
  meshBlocks: BlockExchange
}

/** Factories of the mesh's own services (each a js-libp2p Startable, see index.ts). */
export interface MeshServiceFactories {
  meshLinks: (components: never) => PeerLinks
  meshGossip: (components: never) => GossipGate
  meshDirect: (components: never) => DirectMessaging
  meshRecords: (components: never) => ReceiptRecords
  meshBlocks: (components: never) => BlockExchange
}

export type MeshLibp2p = Libp2p<MeshServices>

export interface BuildInit {
  log: Logger
  privateKey: PrivateKey
  options: ResolvedOptions
  receiptValidator: ValidateFn
  receiptSelector: SelectFn
  /** Peers refused at the connection gater (ejected peers). */
  isBanned: (peerId: PeerId) => boolean
  /** Reachability changes (NAT traversal on). */
  onReachability: (s: ReachabilityStatus) => void
  /** AutoNAT server answered a dial-back request. */
  onDialBack: (e: DialBackEvent) => void
  /** Our services: started and stopped with libp2p, after its own (they are created last). */
  mesh: MeshServiceFactories
}

/** Peer-score parameters: invalid messages weigh heavily, quiet topics are not penalized. */
function scoreParams (o: ResolvedOptions): Parameters<typeof gossipsub>[0] {
  const topics: Record<string, Record<string, number>> = {}
  for (const t of topicsFor(o.regions)) {
    topics[t] = {
      topicWeight: 1,
      timeInMeshWeight: 0.01,
      timeInMeshQuantum: 1000,
      timeInMeshCap: 300,
      firstMessageDeliveriesWeight: 1,
      firstMessageDeliveriesDecay: 0.9,
      firstMessageDeliveriesCap: 10,
      // A mesh can be legitimately quiet (few jobs): never penalize missing deliveries.
      meshMessageDeliveriesWeight: 0,
      meshMessageDeliveriesDecay: 0.5,
      meshMessageDeliveriesCap: 100,
      meshMessageDeliveriesThreshold: 1,
      meshMessageDeliveriesWindow: 10,
      meshMessageDeliveriesActivation: 5000,
      meshFailurePenaltyWeight: 0,
      meshFailurePenaltyDecay: 0.5,
      invalidMessageDeliveriesWeight: o.score.invalidMessageWeight,
      invalidMessageDeliveriesDecay: o.score.invalidMessageDecay
    }
  }
  return {
    scoreParams: {
      topics: topics as never,
      topicScoreCap: 10,
      appSpecificWeight: 0,
      // every loopback/LAN node shares an IP: do not penalize co-location there
      IPColocationFactorWeight: o.lan ? 0 : -5,
      IPColocationFactorThreshold: 10,
      decayInterval: 1000,
      decayToZero: 0.01,
      retainScore: o.score.banMs
    },
    scoreThresholds: {
      gossipThreshold: o.score.gossipThreshold,
      publishThreshold: o.score.publishThreshold,
      graylistThreshold: o.score.graylistThreshold,
      acceptPXThreshold: 10,
      opportunisticGraftThreshold: 5
    }
  }
}

export async function buildLibp2p (init: BuildInit): Promise<MeshLibp2p> {
  quietEmptyFrameReads()
  halfWindowUpdates()
  cacheEd25519KeyObjects()
  const o = init.options
  const freshnessMs = (o.validator.maxAgeMs ?? 300_000) + (o.validator.maxFutureMs ?? 30_000)
  const nat = o.nat
  const natServices: Record<string, unknown> = {}
  if (nat !== undefined) {
    natServices.nat = natService({
      autonat: nat.autonat,
      allowPrivate: nat.autonatAllowPrivate,
      confirmations: nat.autonatConfirmations,
      relayClient: nat.relayClient,
      maxRelays: nat.maxRelays,
      declaredPublic: nat.declaredPublic,
      dialBackTimeoutMs: nat.dialBackTimeoutMs,
      recheckMs: nat.recheckMs,
      onChange: init.onReachability,
      onDialBack: init.onDialBack,
      log: init.log
    }) as unknown as (c: unknown) => NatService
    if (nat.dcutr) natServices.dcutr = dcutr()
    if (nat.upnp) natServices.upnp = uPnPNAT({ portMappingDescription: 'Mesh Executor' })
    if (nat.relayServer !== undefined) {
      natServices.relay = circuitRelayServer({
        reservations: {
          maxReservations: nat.relayServer.maxReservations,
          defaultDataLimit: BigInt(nat.relayServer.dataLimitBytes),
          // Milliseconds: @libp2p/circuit-relay-v2 (4.2.x) enforces it with AbortSignal.timeout(limit.duration)
          // (src/utils.ts createLimitedRelay) and defaults to DEFAULT_DURATION_LIMIT = 2 * minute = 120000.
          // The same number goes on the wire in Limit.duration, which the spec (and the client's
          // LimitTracker, ×1000) reads as seconds, so relayed connections through a js relay report
          // `limits.seconds` 1000× too high (120000 for 120 s). The cut-off itself is at 120 s. See docs/NETWORKING.md.
          defaultDurationLimit: nat.relayServer.durationLimitSeconds * 1000
        }
      })
    }
  }
  const logger = libp2pLogger()
  const node = await createLibp2p({
    start: false,
    privateKey: init.privateKey,
    ...(logger !== undefined ? { logger } : {}),
    addresses: { listen: o.listen, announce: o.announce },
    // the circuit transport dials relayed addresses; it listens (reserves) only when the nat service asks
    transports: nat === undefined ? [tcp()] : [tcp(), circuitRelayTransport()],
    // X25519 keys kept as KeyObjects: no private-key import per Diffie-Hellman (noise-crypto.ts)
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux()],
    peerDiscovery: o.mdns ? [mdns({ serviceTag: 'icn-mesh.local' })] : [],
    connectionMonitor: {
      pingInterval: o.timeouts.pingMs,
      // a floor under libp2p's adaptive ping timeout (its own floor is 5 s, its ceiling 60 s)
      pingTimeout: { minTimeout: o.timeouts.pingTimeoutMs, maxTimeout: Math.max(60_000, o.timeouts.pingTimeoutMs) }
    },
    connectionManager: {
      maxConnections: o.limits.maxConnections,
      inboundConnectionThreshold: o.limits.inboundConnectionThreshold,
      maxIncomingPendingConnections: o.limits.maxIncomingPendingConnections,
      dialTimeout: o.timeouts.dialMs
    },
    connectionGater: {
      denyDialPeer: (peerId) => init.isBanned(peerId),
      denyInboundEncryptedConnection: (peerId) => init.isBanned(peerId),
      denyOutboundEncryptedConnection: (peerId) => init.isBanned(peerId)
    },
    services: {
      identify: identify(),
      // tells connected peers when our addresses change — above all a new relay reservation behind
      // NAT, so that they (and the DHT answers they give) hand out our circuit address at once;
      // 100 ms instead of 1 s: a burst of changes at start is still one push
      identifyPush: identifyPush({ debounce: 100, runOnLimitedConnection: true }),
      // the connection monitor pings too: leave room for a concurrent application ping
      ping: ping({ maxOutboundStreams: 4, maxInboundStreams: 4 }),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictSign,
        msgIdFn: (msg) => gossipMessageId(msg.topic, msg.data),
        // The id is content-only, so a copy whose (topic, data) was already accepted is a duplicate
        // whatever its envelope: gossipsub drops it before the StrictSign check. Without this every
        // copy (one per mesh peer, ~8 at 30 nodes) had its signature verified before the seen-cache
        // lookup: 17 % of a 30-node worker's CPU. A copy that fails the check is not remembered.
        fastMsgIdFn: (msg) => gossipFastMessageId(msg.topic, msg.data),
        // a fresh message replayed later than this is caught by the freshness check
        seenTTL: freshnessMs,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        heartbeatInterval: o.heartbeatMs,
        maxInboundDataLength: o.limits.maxFrameBytes,
        // Each peer's RPCs are handled one after another, validation included, so a peer that
        // floods us is read only as fast as we validate (back-pressure reaches its TCP window), and
        // the paced validator (gossip-gate.ts) lets other peers and all other I/O in between.
        awaitRpcHandler: true,
        awaitRpcMessageHandler: true,
        ...scoreParams(o)
      }),
      dht: kadDHT({
        protocol: KAD_PROTOCOL,
        clientMode: false,
        // every query waits for the first self-query, which kad-dht starts 1 s after start and which
        // may take seconds: a fresh node's first lookup (dialing an originator by PeerId for a bid)
        // stalled behind it. Run it at once (it still waits for the first routing-table peer).
        initialQuerySelfInterval: 0,
        peerInfoMapper: o.lan ? passthroughMapper : removePrivateAddressesMapper,
        validators: { [RECEIPT_NAMESPACE]: init.receiptValidator },
        selectors: { [RECEIPT_NAMESPACE]: init.receiptSelector }
      }),
      ...(natServices as Record<string, never>),
      ...(init.mesh as unknown as Record<string, never>)
    }
  })
  return node as unknown as MeshLibp2p
}
