/** The daemon's public shape: options, events, timers, the Daemon handle. */
import type { Identity } from '../../shared/protocol/index.js'
import type { MeshNode, NatOptions, ReachabilityStatus, TypedEmitter } from '../mesh/index.js'
import type { Sandbox } from '../sandbox/index.js'
import type { Store } from '../store/index.js'
import type { AutoBidder, BidSenderStats, DecisionSources, GuardState, Policy } from '../market/index.js'
import type { MarketRateCollector } from '../market-rate/index.js'
import type { AdCache, Hardware, Offer } from '../probe/index.js'
import type { Executor } from '../jobs/index.js'
import type { Logger, LogLevel } from '../log/index.js'
import type { MeshStats } from './log-bridge.js'
import type { RuntimeState } from './policy-state.js'

export interface DaemonOptions {
  dataDir: string
  listen?: string[]
  bootstrap?: string[]
  region?: string
  /**
   * Policy JSON (already parsed), e.g. from --policy FILE. It becomes a new policy version only when
   * its content changed since it was last applied: an unchanged file at restart keeps what the owner
   * set since (in the dashboard).
   */
  policy?: unknown
  /** where `policy` came from, for the version's note (e.g. the file path) */
  policySource?: string
  lan?: boolean
  /** NAT traversal (AutoNAT, relay reservations, DCUtR, UPnP, relay server); `false` turns it off. Default: on, UPnP and relay server off. */
  nat?: NatOptions | false
  alias?: string
  /** A logger to use instead of the data dir's log file (`<dataDir>/logs/`, opened by default). */
  log?: Logger
  /** level of the log file (default $MESH_LOG_LEVEL, else info) */
  logLevel?: LogLevel
  /** the daemon's periodic timers (defaults in DEFAULT_TIMERS); tests shorten them to fire mid-job */
  timers?: Partial<DaemonTimers>
  /** user idle seconds source (Electron powerMonitor) */
  userIdleSeconds?: () => number | undefined
  /** battery state source (Electron powerMonitor); the policy's stop-on-battery rule reads it */
  onBattery?: () => boolean | undefined
  memoryLimitBytes?: number
  now?: () => number
  /** pass an emitter to hear the events emitted while starting (e.g. crash recovery) */
  events?: TypedEmitter<DaemonEvents>
}

/** Which policy is in force and where it came from (ready line, log, dashboard). */
export interface ActivePolicyInfo {
  /** undefined: the built-in default (no version saved yet) */
  version: number | undefined
  /** the version's note, e.g. "from --policy /etc/mesh/policy.json" or "saved in the dashboard" */
  source: string
  /** what start-up did with --policy: applied as a new version, or unchanged since it was applied */
  file?: { path: string, applied: boolean, appliedVersion: number }
}

export interface DaemonEvents {
  'daemon:ready': { did: string, peerId: string, multiaddrs: string[], dataDir: string, policyVersion: number | undefined, policy: ActivePolicyInfo }
  'announcement:decided': { announcementId: string, originatorDid: string, bid: boolean, price?: string, reasons: Array<{ rule: string, ok: boolean, text: string }> }
  'bid:sent': { announcementId: string, originatorDid: string, price: string, ms: number, sinceReceivedMs: number }
  'bid:failed': { announcementId: string, originatorDid: string, error: string }
  'job:accepted': { announcementId: string, originatorDid: string }
  'job:refused': { announcementId: string, originatorDid: string, reason: string, detail: string }
  'job:state': { announcementId: string, state: string, details?: string }
  'job:progress': { announcementId: string, fuelUsed: string, maxFuel: string }
  'job:finished': { announcementId: string, status: string, failureReason?: string, fuelUsed: string, wallMs: number, receiptCid: string, price?: string }
  /** `dhtError`: the DHT record could not be stored (a sparse mesh; the originator has the receipt when `direct`) — a warning, not a node error */
  'receipt:published': { announcementId: string, receiptCid: string, dhtPeers: number, direct: boolean, dhtError?: string }
  'capability:published': { recipients: number, offer: Offer }
  'policy:changed': { version: number }
  /** The owner paused/resumed or switched auto-bid (dashboard, tray): runtime state, the whole of it after the change. */
  'runtime:changed': { autoBid?: boolean, pausedUntil?: number | null }
  'daemon:error': { where: string, error: string }
  /** The originator of a job a crash interrupted has not been told yet; retried until it is. */
  'job:notify-pending': { announcementId: string, error: string }
  'daemon:stopping': { runningJobs: number }
  'daemon:stopped': Record<string, never>
  'reachability:changed': ReachabilityStatus
  'connection:opened': { peerId: string, remoteAddr: string, direction: 'inbound' | 'outbound', relayed: boolean, upgraded: boolean, limits?: { bytes?: string, seconds?: number } }
}

/** Every periodic timer of a running daemon, in ms. */
export interface DaemonTimers {
  /** executor: re-sending crash-interrupted jobs' news to originators not yet told */
  recoveryRetryMs: number
  /** executor: Running progress statuses to the originator */
  progressStatusMs: number
  /** sandbox: progress samples (fuel so far) of a running job */
  sandboxProgressMs: number
  /** capability ad re-publication */
  capabilityIntervalMs: number
  /** machine state: battery refresh */
  machineSampleMs: number
  /** mesh: gossipsub heartbeat */
  heartbeatMs: number
  /** mesh: bootstrap re-dial while not connected */
  bootstrapRetryMs: number
  /** machine guard: CPU temperature, idle and free-disk samples (thermal hysteresis, idle-only grace, rule disk) */
  machineGuardMs: number
  /** housekeeping: old skipped announcements and old output blocks removed (daemon/housekeeping.ts) */
  housekeepingMs: number
}

export const DEFAULT_TIMERS: Readonly<DaemonTimers> = {
  recoveryRetryMs: 30_000,
  progressStatusMs: 1000,
  sandboxProgressMs: 250,
  capabilityIntervalMs: 60_000,
  machineSampleMs: 30_000,
  heartbeatMs: 1000,
  bootstrapRetryMs: 30_000,
  machineGuardMs: 5000,
  housekeepingMs: 3_600_000
}

export interface Daemon {
  readonly identity: Identity
  readonly store: Store
  readonly node: MeshNode
  readonly executor: Executor
  readonly autoBidder: AutoBidder
  readonly ads: AdCache
  readonly sandbox: Sandbox
  readonly events: TypedEmitter<DaemonEvents>
  readonly dataDir: string
  readonly region: string | undefined
  policy(): { policy: Policy, version: number | undefined }
  /** The version in force and where it came from. */
  policyInfo(): ActivePolicyInfo
  /** Validates and stores a new policy version; re-publishes the ad when the offer changed. */
  setPolicy(json: unknown, note?: string): number
  offer(): Offer
  hardware(): Hardware
  /** Reachability (public / behind NAT via relay / unreachable) and the addresses in use. */
  reachability(): ReachabilityStatus
  publishCapability(): Promise<void>
  /** Bids being delivered, waiting, dropped; originators known unreachable. */
  bidStats(): BidSenderStats
  /** What the auto-bidder decides from; the dashboard's simulator replays with the same. */
  readonly decisionSources: DecisionSources
  /** The policy the auto-bidder applies now: the version in force with the runtime state (pause, auto-bid) over it. */
  effectivePolicy(): { policy: Policy, version: number | undefined }
  /** Pause/snooze and auto-bid as the owner toggled them: runtime state, not policy versions. */
  runtimeState(): RuntimeState
  setRuntimeState(patch: RuntimeState): void
  /**
   * The listen addresses the node was started with (`--listen`, else Settings, else /ip4/0.0.0.0/tcp/0),
   * as configured: port 0 and 0.0.0.0 stay as they are. node.multiaddrs() has what they resolved to.
   */
  listen(): string[]
  /** The bootstrap peers this node dials and their recent dial failures (newest first). */
  bootstrap(): { configured: string[], failures: Array<{ addr: string, error: string, at: number }> }
  /** The machine guard's state: CPU temperature and thermal hold, idle-only grace. */
  guard(): GuardState
  /** Public receipts heard on the mesh: what buyers paid (the dashboard's market rate). */
  readonly marketRate: MarketRateCollector
  /** What peers did wrong since start: rejected/refused messages by reason, bans. */
  meshStats(): MeshStats
  /** The daemon's logger (its subsystems log through children of it). */
  readonly log: Logger
  /** Where the log file is (undefined when a logger was passed in). */
  readonly logDir: string | undefined
  /** Stops bidding, drains running jobs up to `graceMs`, then fails them honestly, and closes everything. */
  stop(opts?: { graceMs?: number }): Promise<void>
}

