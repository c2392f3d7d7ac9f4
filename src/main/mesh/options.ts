/** Options of `createMeshNode` and their defaults. */
import type { Identity } from '../../shared/protocol/index.js'
import type { RateLimitOptions } from './rate-limit.js'
import type { BlockStore } from './blocks.js'
import { MeshError } from './errors.js'
import { isValidRegion } from './topics.js'
import type { Logger } from '../log/index.js'

export interface MeshTimeouts {
  /** Dialing a peer (ms). */
  dialMs: number
  /** Whole direct-message exchange, per attempt (ms). */
  directMs: number
  /** Whole block fetch from one peer (ms). */
  blockMs: number
  /** A DHT query (put/get/provide/findProviders) (ms). */
  dhtMs: number
  /** Listener side: reading the request frame of an inbound stream (ms). */
  inboundReadMs: number
  /** Connection monitor: each open connection is pinged this often and closed when the ping fails (ms). */
  pingMs: number
  /**
   * Connection monitor: the shortest time a ping may take before it counts as failed (ms; the floor of
   * libp2p's adaptive ping timeout, whose own floor is 5 s). A node whose event loop is saturated
   * answers late, not never: see docs/ARCHITECTURE.md, "Transport stack and limits".
   */
  pingTimeoutMs: number
}

export interface MeshLimits {
  /** Direct-message frame limit (bytes), profile 4.2: 1 MiB. */
  maxFrameBytes: number
  /** Block data limit (bytes), profile 4.3: 16 MiB. */
  maxBlockBytes: number
  /** Connection manager: maximum open connections. */
  maxConnections: number
  /** Connection manager: inbound connection attempts per second per host. */
  inboundConnectionThreshold: number
  /** Connection manager: pending (not yet upgraded) inbound connections. */
  maxIncomingPendingConnections: number
  /** Concurrent inbound direct/block streams per connection. */
  maxInboundStreams: number
}

export interface GossipScoreOptions {
  /** Score below which gossip to/from the peer is suppressed (negative). */
  gossipThreshold: number
  /** Score below which we don't flood-publish to the peer (negative, ≤ gossipThreshold). */
  publishThreshold: number
  /** Score below which the peer is graylisted and then disconnected (negative, ≤ publishThreshold). */
  graylistThreshold: number
  /** Weight of invalid messages (negative; penalty = weight × count²). */
  invalidMessageWeight: number
  /** Per-second decay of the invalid message counter (0..1). */
  invalidMessageDecay: number
  /** How long an ejected peer stays banned (ms). */
  banMs: number
}

export interface ValidatorOptions {
  now?: () => number
  maxAgeMs?: number
  maxFutureMs?: number
}

/** NAT traversal and reachability (docs/NETWORKING.md). */
export interface NatOptions {
  /** AutoNAT v1 client and server: learn whether our direct addresses are dialable. Default true. */
  autonat?: boolean
  /** Distinct AutoNAT peers that must agree before a verdict. Default 2. */
  autonatConfirmations?: number
  /** AutoNAT also tests/dials private addresses. Default: the node's `lan` setting. */
  autonatAllowPrivate?: boolean
  /** Circuit relay v2 client: reserve a slot on a relay we connect to unless we are known to be public. Default true. */
  relayClient?: boolean
  /** How many relays to hold reservations on. Default 2. */
  maxRelays?: number
  /** The node is directly reachable (public IP or port forward): no relay reservations. Default false. */
  declaredPublic?: boolean
  /** DCUtR: upgrade relayed connections to direct ones by hole punching. Default true. */
  dcutr?: boolean
  /** Map our listen port on the home router (UPnP IGD). Default false. */
  upnp?: boolean
  /** Act as a circuit relay v2 server for others. Default false. */
  relayServer?: boolean | RelayServerOptions
}

export interface RelayServerOptions {
  /** Reservations held at once. Default 128. */
  maxReservations?: number
  /** Bytes a relayed connection may carry (each direction counted). Default 128 KiB (libp2p default). */
  dataLimitBytes?: number
  /** Seconds a relayed connection may stay open. Default 120 (libp2p default). */
  durationLimitSeconds?: number
}

export interface ResolvedNatOptions {
  autonat: boolean
  autonatConfirmations: number
  autonatAllowPrivate: boolean
  relayClient: boolean
  maxRelays: number
  declaredPublic: boolean
  dcutr: boolean
  upnp: boolean
  relayServer: Required<RelayServerOptions> | undefined
  /** AutoNAT dial-back timeout (ms). */
  dialBackTimeoutMs: number
  /** How often AutoNAT verdicts are re-checked (ms). */
  recheckMs: number
}

export const DEFAULT_RELAY_SERVER: Required<RelayServerOptions> = {
  maxReservations: 128,
  dataLimitBytes: 128 * 1024,
  durationLimitSeconds: 120
}

export interface MeshNodeOptions {
  identity: Identity
  /** Where the node logs what it swallows (closing streams, a ban's hang-up…); default: nowhere. */
  log?: Logger
  /** Listen multiaddrs. Default `/ip4/0.0.0.0/tcp/0`. */
  listen?: string[]
  /** Multiaddrs announced to others instead of the listen addresses. */
  announce?: string[]
  /** Bootstrap multiaddrs (with `/p2p/<peerId>`), dialed at start and re-dialed while not connected. */
  bootstrap?: string[]
  /** LAN mode keeps private/loopback addresses in the DHT; public mode strips them. Default false. */
  lan?: boolean
  /** Regions whose topics this node subscribes to. */
  regions?: string[]
  /**
   * Whether this node subscribes to the job-announcement topics. Default true: an executor must.
   * A node that only submits jobs need not: it publishes its announcements through gossipsub's
   * fanout and does not receive, validate and forward every other buyer's announcements (under a
   * flood of announcements, that work held its own announcement back for seconds).
   */
  jobAnnouncements?: boolean
  /** mDNS discovery on the local network. Default false. */
  mdns?: boolean
  /** Store used to serve `/icn/mesh/blocks/0.1.0`. Default: an in-memory store. */
  blockStore?: BlockStore
  timeouts?: Partial<MeshTimeouts>
  limits?: Partial<MeshLimits>
  /** Per-peer rate limit of inbound direct messages. Default 20 burst, 10/s. */
  directRateLimit?: RateLimitOptions
  score?: Partial<GossipScoreOptions>
  /** Passed to the protocol validator (clock, freshness window). */
  validator?: ValidatorOptions
  /** Gossipsub heartbeat interval (ms). Default 1000. */
  heartbeatMs?: number
  /** Interval at which bootstrap peers are re-dialed when disconnected (ms). Default 30000. */
  bootstrapRetryMs?: number
  /** Minimum time between two `capability:republish` events (ms). Default 5000 (profile 4.1). */
  capabilityRepublishMinMs?: number
  /**
   * `start()` waits up to this long (ms) for the bootstrap peers it connected to and our node to
   * exchange gossip subscriptions, so the first publication reaches them. Default 1000.
   */
  gossipReadyMs?: number
  /** NAT traversal: AutoNAT, relay client/server, DCUtR, UPnP. `false` turns all of it off. Default: on (see NatOptions). */
  nat?: NatOptions | false
}

export interface ResolvedOptions {
  identity: Identity
  listen: string[]
  announce: string[]
  bootstrap: string[]
  lan: boolean
  regions: string[]
  jobAnnouncements: boolean
  mdns: boolean
  timeouts: MeshTimeouts
  limits: MeshLimits
  directRateLimit: RateLimitOptions
  score: GossipScoreOptions
  validator: ValidatorOptions
  heartbeatMs: number
  bootstrapRetryMs: number
  capabilityRepublishMinMs: number
  gossipReadyMs: number
  nat: ResolvedNatOptions | undefined
}

export const DEFAULT_TIMEOUTS: MeshTimeouts = {
  dialMs: 10_000,
  directMs: 15_000,
  blockMs: 60_000,
  dhtMs: 30_000,
  inboundReadMs: 10_000,
  pingMs: 30_000,
  pingTimeoutMs: 20_000
}

export const DEFAULT_LIMITS: MeshLimits = {
  maxFrameBytes: 1024 * 1024,
  maxBlockBytes: 16 * 1024 * 1024,
  maxConnections: 100,
  inboundConnectionThreshold: 5,
  maxIncomingPendingConnections: 10,
  maxInboundStreams: 32
}

export const DEFAULT_SCORE: GossipScoreOptions = {
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  invalidMessageWeight: -20,
  invalidMessageDecay: 0.99,
  banMs: 10 * 60_000
}

function positive (name: string, v: number): void {
  if (!Number.isFinite(v) || v <= 0) throw new MeshError('InvalidOptions', `${name} must be a positive number, got ${v}`)
}

export function resolveOptions (o: MeshNodeOptions): ResolvedOptions {
  if (o === null || typeof o !== 'object') throw new MeshError('InvalidOptions', 'options object required')
  const id = o.identity
  if (id === undefined || typeof id.peerId !== 'string' || !(id.seed instanceof Uint8Array) || id.seed.length !== 32) {
    throw new MeshError('InvalidOptions', 'options.identity must be an Identity (did, peerId, publicKey, seed)')
  }
  const regions = o.regions ?? []
  for (const r of regions) {
    if (!isValidRegion(r)) throw new MeshError('InvalidOptions', `invalid region "${r}": expected 1-63 characters of [a-z0-9-]`)
  }
  const timeouts = { ...DEFAULT_TIMEOUTS, ...o.timeouts }
  const limits = { ...DEFAULT_LIMITS, ...o.limits }
  for (const [k, v] of Object.entries(timeouts)) positive(`timeouts.${k}`, v)
  for (const [k, v] of Object.entries(limits)) positive(`limits.${k}`, v)
  const directRateLimit = o.directRateLimit ?? { burst: 20, perSecond: 10 }
  positive('directRateLimit.burst', directRateLimit.burst)
  positive('directRateLimit.perSecond', directRateLimit.perSecond)
  const score = { ...DEFAULT_SCORE, ...o.score }
  if (!(score.graylistThreshold <= score.publishThreshold && score.publishThreshold <= score.gossipThreshold && score.gossipThreshold < 0)) {
    throw new MeshError('InvalidOptions', 'score thresholds must satisfy graylist ≤ publish ≤ gossip < 0')
  }
  if (!(score.invalidMessageWeight < 0)) throw new MeshError('InvalidOptions', 'score.invalidMessageWeight must be negative')
  if (!(score.invalidMessageDecay > 0 && score.invalidMessageDecay < 1)) throw new MeshError('InvalidOptions', 'score.invalidMessageDecay must be in (0, 1)')
  const heartbeatMs = o.heartbeatMs ?? 1000
  const bootstrapRetryMs = o.bootstrapRetryMs ?? 30_000
  const capabilityRepublishMinMs = o.capabilityRepublishMinMs ?? 5000
  const gossipReadyMs = o.gossipReadyMs ?? 1000
  if (!(gossipReadyMs >= 0)) throw new MeshError('InvalidOptions', `gossipReadyMs must be ≥ 0, got ${gossipReadyMs}`)
  positive('heartbeatMs', heartbeatMs)
  positive('bootstrapRetryMs', bootstrapRetryMs)
  positive('capabilityRepublishMinMs', capabilityRepublishMinMs)
  return {
    nat: resolveNat(o.nat, o.lan ?? false),
    identity: id,
    listen: o.listen ?? ['/ip4/0.0.0.0/tcp/0'],
    announce: o.announce ?? [],
    bootstrap: o.bootstrap ?? [],
    lan: o.lan ?? false,
    regions: [...new Set(regions)],
    jobAnnouncements: o.jobAnnouncements ?? true,
    mdns: o.mdns ?? false,
    timeouts,
    limits,
    directRateLimit,
    score,
    validator: o.validator ?? {},
    heartbeatMs,
    bootstrapRetryMs,
    capabilityRepublishMinMs,
    gossipReadyMs
  }
}

function resolveNat (n: NatOptions | false | undefined, lan: boolean): ResolvedNatOptions | undefined {
  if (n === false) return undefined
  if (n !== undefined && (n === null || typeof n !== 'object')) throw new MeshError('InvalidOptions', 'options.nat must be an object or false')
  const o = n ?? {}
  const confirmations = o.autonatConfirmations ?? 2
  const maxRelays = o.maxRelays ?? 2
  if (!Number.isInteger(confirmations) || confirmations < 1) throw new MeshError('InvalidOptions', `nat.autonatConfirmations must be a positive integer, got ${confirmations}`)
  if (!Number.isInteger(maxRelays) || maxRelays < 1) throw new MeshError('InvalidOptions', `nat.maxRelays must be a positive integer, got ${maxRelays}`)
  let relayServer: Required<RelayServerOptions> | undefined
  if (o.relayServer !== undefined && o.relayServer !== false) {
    relayServer = { ...DEFAULT_RELAY_SERVER, ...(o.relayServer === true ? {} : o.relayServer) }
    for (const [k, v] of Object.entries(relayServer)) positive(`nat.relayServer.${k}`, v)
  }
  return {
    autonat: o.autonat ?? true,
    autonatConfirmations: confirmations,
    autonatAllowPrivate: o.autonatAllowPrivate ?? lan,
    relayClient: o.relayClient ?? true,
    maxRelays,
    declaredPublic: o.declaredPublic ?? false,
    dcutr: o.dcutr ?? true,
    upnp: o.upnp ?? false,
    relayServer,
    dialBackTimeoutMs: 5000,
    recheckMs: 15 * 60_000
  }
}
