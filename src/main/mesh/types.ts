/** The public types of the mesh layer: the `MeshNode` facade, its events and option bags. */
import type { MeshMessage, MessageOf, ReasonCode, Variant } from '../../shared/protocol/index.js'
import type { BlockStore } from './blocks.js'
import type { TypedEmitter } from './events.js'
import type { DirectAnswer } from './frame.js'
import type { MeshLibp2p } from './libp2p.js'
import type { DialBackEvent, ReachabilityStatus } from './nat.js'

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
  /**
   * Use the bytes when our own block store already serves them to us (hash-checked), without asking
   * anyone (default true): e.g. the module of a job we ran before.
   */
  local?: boolean
}

export interface AbortOpts { signal?: AbortSignal }

export interface SendDirectOptions extends AbortOpts {
  /** Transport attempts (default 3). */
  attempts?: number
  /** Per-attempt timeout (ms); default `timeouts.directMs`. */
  timeoutMs?: number
}

/** Relay limits of a relayed connection: bytes and seconds left. */
export interface RelayLimits { bytes?: string, seconds?: number }

export interface ConnectionInfo {
  peerId: string
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  relayed: boolean
  /** Relay limits of a relayed connection: bytes and seconds left. */
  limits?: RelayLimits
}

/** How a peer can be reached right now, for a caller deciding whether large blocks can cross. */
export interface RelayPath {
  /** The relay's data limit (bytes left, each direction counted), or undefined when it sets none. */
  bytes?: bigint
  /** The relay's duration limit as the connection reports it (a js-libp2p relay reports ms, see NETWORKING.md). */
  seconds?: number
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
  /**
   * The limits of the only way we reach `peerId` now: a limited relayed connection and no direct
   * one. Undefined when a direct (unlimited) connection is open, or no connection at all.
   */
  relayLimitFor(peerId: string): RelayPath | undefined
  /**
   * Connects to `peerId` when no connection is open (the same dial as a direct message: our
   * addresses, a fresh DHT lookup, or the peer's own connection to us), then `relayLimitFor`.
   * Throws a MeshError (Transport, Timeout) when the peer cannot be reached.
   */
  pathTo(peerId: string, opts?: AbortOpts): Promise<RelayPath | undefined>
  /** What AutoNAT, identify and the relay reservations tell about our reachability. */
  reachability(): ReachabilityStatus
  /** Dials a multiaddr (with /p2p/) or a known PeerId. */
  dial(target: string, opts?: AbortOpts): Promise<void>
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
  sendDirect(peerId: string, bytes: Uint8Array, opts?: SendDirectOptions): Promise<DirectAnswer>
  /**
   * A job in progress with `peerId` (its originator or its assignee): while open, that peer's
   * inbound direct-message limit is widened for the job's statuses and interactive traffic
   * (direct-budget.ts). Call the result when the job is over.
   */
  openDirectSession(peerId: string): () => void
  /** One of our announcements takes bids until the result is called: each peer's bid for it gets past a spent rate limit once. */
  openBidding(announcementId: string): () => void

  fetchBlock(cid: string, opts?: FetchBlockOptions): Promise<Uint8Array>

  putReceipt(bytes: Uint8Array, opts?: AbortOpts): Promise<{ cid: string, peers: number }>
  getReceipt(cid: string, opts?: AbortOpts): Promise<Uint8Array | undefined>
  provide(cid: string, opts?: AbortOpts): Promise<void>
  findProviders(cid: string, opts?: AbortOpts & { limit?: number }): Promise<string[]>
}
