/**
 * The one typed contract between the UI (renderer) and the main side (daemon services).
 *
 * Every value that crosses it is plain JSON: token amounts and fuel counts are decimal strings
 * (they are 64-bit integers on the wire), timestamps are epoch milliseconds, byte blocks are base64.
 * One transport carries it: the daemon's local HTTP + WebSocket server (`POST /api/<method>`,
 * `GET /api/events` upgraded to a WebSocket), used by the browser, the desktop window and the
 * desktop shell (tray, power state, quit) alike.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export interface JsonObject { [key: string]: Json }

/** Decimal string of a non-negative 64-bit integer (tokens, fuel). */
export type Amount = string

export const JOB_STATES = ['Assigned', 'Accepted', 'FetchingInputs', 'Running', 'Completed', 'Failed', 'Cancelled'] as const
export type JobStateName = (typeof JOB_STATES)[number]

/** Tray / overview state, in priority order: error > paused > running > bidding > idle. */
export const NODE_STATES = ['idle', 'bidding', 'running', 'paused', 'error'] as const
export type NodeState = (typeof NODE_STATES)[number]

export interface RunningJobView {
  announcementId: string
  originatorDid: string
  state: JobStateName
  price: Amount | null
  fuelUsed: Amount
  maxFuel: Amount
  /** fuelUsed / maxFuel in 0..1 (fuel is the only honest progress measure of a WASM job). */
  fuelFraction: number
  startedAt: number
  timeoutSeconds: number
}

/**
 * Can others reach us? `public`: AutoNAT peers dialed our direct address back; `relayed`: behind a
 * NAT, reachable through a circuit relay v2 reservation; `unreachable`: direct addresses can't be
 * dialed and no relay holds a reservation; `unknown`: not enough answers yet (or NAT traversal off).
 */
export const REACHABILITY_STATES = ['public', 'relayed', 'unreachable', 'unknown'] as const
export type ReachabilityState = (typeof REACHABILITY_STATES)[number]

export interface ReachabilityView {
  state: ReachabilityState
  /** The AutoNAT verdict on our direct addresses. */
  autonat: 'public' | 'private' | 'unknown'
  /** A peer saw us at an IP address none of our interfaces has: we are behind a NAT. */
  natDetected: boolean
  /** Direct addresses we listen on and announce (no relay circuits). */
  listenAddrs: string[]
  /** Our circuit addresses through relays holding a reservation for us. */
  relayAddrs: string[]
  /** Direct addresses AutoNAT peers confirmed they can dial. */
  publicAddrs: string[]
  /** How peers saw us (IP:port), most recent first. */
  observedAddrs: string[]
  /** Our public address as the internet sees it, when known: a confirmed address, else the address peers saw behind the NAT. */
  observedPublicAddr: string | null
  /** AutoNAT answers from distinct peers. */
  checks: { ok: number, failed: number }
  /** Open connections now: direct, and through a relay. */
  connections: { direct: number, relayed: number }
  /** Connections upgraded from relayed to direct by hole punching (DCUtR) since start. */
  holePunched: number
  /** Epoch ms of the last reachability change, or null when none was seen. */
  changedAt: number | null
}

export interface NodeStatus {
  did: string
  peerId: string
  state: NodeState
  online: boolean
  peers: number
  autoBid: boolean
  /** Epoch ms until which bidding is paused, or null. */
  pausedUntil: number | null
  draining: boolean
  error: string | null
  listenAddrs: string[]
  region: string | null
  /** Reachability (public / behind NAT via relay / unreachable / unknown) and the addresses in use. */
  reachability: ReachabilityView
  running: RunningJobView[]
  /** What the owner must know now, in plain words (e.g. selling for free). */
  warnings: string[]
  /** The policy version in force and where it came from. */
  policy: { version: number | null, source: string }
  version: string
  now: number
}

export interface EarningsView {
  today: Amount
  last7d: Amount
  allTime: Amount
  jobs: number
  byDay: Array<{ day: string, amount: Amount, jobs: number }>
  byOriginator: Array<{ originatorDid: string, amount: Amount, jobs: number }>
  byRegion: Array<{ region: string, amount: Amount, jobs: number }>
}

export interface JobView {
  announcementId: string
  originatorDid: string
  state: JobStateName
  price: Amount | null
  wasmCid: string
  inputDataCid: string | null
  maxFuel: Amount
  fuelUsed: Amount | null
  timeoutSeconds: number
  isInteractive: boolean
  failureReason: string | null
  details: string | null
  region: string | null
  createdAt: number
  updatedAt: number
  /** updatedAt - createdAt for terminal jobs, now - createdAt for active ones. */
  durationMs: number
  logTruncated: boolean
}

export interface JobDetailView {
  job: JobView
  timeline: Array<{ from: JobStateName | null, to: JobStateName, at: number, details: string | null }>
  logs: Array<{ at: number, stream: string, text: string }>
  receipts: ReceiptSummaryView[]
}

export interface DecisionReasonView { rule: string, ok: boolean, text: string }

export interface AnnouncementView {
  announcementId: string
  originatorDid: string
  receivedAt: number
  summary: JsonObject
  decision: 'bid' | 'no_bid'
  price: Amount | null
  reasons: DecisionReasonView[]
  firstFailedRule: string | null
  policyVersion: number | null
  region: string | null
}

export interface MarketStatsView {
  total: number
  bid: number
  noBid: number
  /** "43 skipped: price below floor" — grouped by the first failing rule, most frequent first. */
  skipped: Array<{ rule: string, count: number, text: string }>
}

export interface PolicyView { version: number, policy: JsonObject, note: string | null, createdAt: number }

export interface PolicyIssue { path: string, message: string }
export interface PolicyValidationView { ok: boolean, errors: PolicyIssue[] }

export interface SimulationItemView {
  announcementId: string
  receivedAt: number
  decision: 'bid' | 'no_bid'
  price: Amount | null
  reasons: DecisionReasonView[]
  /** What the node actually decided when it saw the announcement. */
  actualDecision: 'bid' | 'no_bid'
}
export interface SimulationView {
  considered: number
  wouldBid: number
  wouldSkip: number
  /** Sum of the prices of the would-be bids: what winning every one of them would earn. */
  impliedEarnings: Amount
  skipped: Array<{ rule: string, count: number }>
  items: SimulationItemView[]
}

export interface ReceiptSummaryView {
  cid: string
  announcementId: string
  status: string
  failureReason: string | null
  fuelUsed: Amount
  price: Amount | null
  createdAt: number
}
export interface ReceiptDetailView extends ReceiptSummaryView {
  /** Every field of the decoded receipt, JSON-safe (bytes → base64 under `{ $bytes }`, big ints → strings). */
  fields: JsonObject | null
  /** The raw DAG-CBOR block, base64. */
  blockBase64: string
  sizeBytes: number
}
export type VerifyView =
  | { ok: true, cid: string, executorDid: string, status: string }
  | { ok: false, reason: string, detail: string }

export interface ResourceCaps {
  /** Cores offered, e.g. 2 or 0.5. */
  cpu: number | null
  ramBytes: number | null
  diskBytes: number | null
  maxConcurrentJobs: number | null
}
export interface SettingsView {
  did: string
  peerId: string
  region: string | null
  dataDir: string
  listenAddrs: string[]
  bootstrapPeers: string[]
  caps: ResourceCaps
  startAtLogin: boolean
  startMinimized: boolean
  /** Settings whose change needs a restart of the node to take effect. */
  restartRequired: string[]
  /** Read-only: what the running node uses now (reachability and addresses). */
  reachability: ReachabilityView
}
export interface SettingsPatch {
  region?: string | null
  listenAddrs?: string[]
  bootstrapPeers?: string[]
  caps?: Partial<ResourceCaps>
  startAtLogin?: boolean
  startMinimized?: boolean
}

/**
 * Machine state a host reports for the policy's idle-only and stop-on-battery rules (the desktop shell
 * sends powerMonitor's values); null = unknown. Values expire unless refreshed (`expiresAt`).
 */
export interface MachineStateArgs { userIdleSeconds: number | null, onBattery: boolean | null }
export interface MachineStateView extends MachineStateArgs {
  /** Epoch ms after which the values count as unknown again (null when both are null). */
  expiresAt: number | null
}
/** The answer to `node.shutdown`: the daemon stops bidding and exits after its running jobs (up to the grace). */
export interface ShutdownView {
  /** The grace running jobs get, in seconds (the request's, else the daemon's --grace). */
  graceSeconds: number
  runningJobs: number
}

/** Method name → [arguments, result]. Queries read; commands change something. */
export interface ApiMethods {
  'node.status': [Record<string, never>, NodeStatus]
  'earnings.get': [{ tzOffsetMinutes?: number, days?: number }, EarningsView]
  'jobs.list': [{ limit?: number, offset?: number, states?: JobStateName[] }, JobView[]]
  'jobs.get': [{ announcementId: string }, JobDetailView]
  'market.announcements': [{ limit?: number, offset?: number, decision?: 'bid' | 'no_bid', firstFailedRule?: string }, AnnouncementView[]]
  'market.stats': [{ sinceMs?: number }, MarketStatsView]
  'market.simulate': [{ policy: JsonObject, lastN: number }, SimulationView]
  'policy.get': [Record<string, never>, { current: PolicyView | null, history: PolicyView[] }]
  'policy.validate': [{ policy: JsonObject }, PolicyValidationView]
  'policy.save': [{ policy: JsonObject, note?: string }, PolicyView]
  'receipts.list': [{ limit?: number, offset?: number }, ReceiptSummaryView[]]
  'receipts.get': [{ cid: string }, ReceiptDetailView]
  'receipts.verify': [{ cid?: string, blockBase64?: string }, VerifyView]
  'node.setAutoBid': [{ enabled: boolean }, NodeStatus]
  'node.pause': [{ untilMs: number | null }, NodeStatus]
  'settings.get': [Record<string, never>, SettingsView]
  'settings.update': [{ patch: SettingsPatch }, SettingsView]
  'node.setMachineState': [MachineStateArgs, MachineStateView]
  'node.shutdown': [{ graceSeconds?: number }, ShutdownView]
}
export type ApiMethod = keyof ApiMethods
export type ApiArgs<M extends ApiMethod> = ApiMethods[M][0]
export type ApiResult<M extends ApiMethod> = ApiMethods[M][1]

export const API_METHODS: ReadonlyArray<ApiMethod> = [
  'node.status', 'earnings.get', 'jobs.list', 'jobs.get', 'market.announcements', 'market.stats',
  'market.simulate', 'policy.get', 'policy.validate', 'policy.save', 'receipts.list', 'receipts.get',
  'receipts.verify', 'node.setAutoBid', 'node.pause', 'settings.get', 'settings.update',
  'node.setMachineState', 'node.shutdown'
]
export const COMMANDS: ReadonlyArray<ApiMethod> = ['policy.save', 'node.setAutoBid', 'node.pause', 'settings.update', 'node.setMachineState', 'node.shutdown']

export function isApiMethod (s: unknown): s is ApiMethod {
  return typeof s === 'string' && (API_METHODS as readonly string[]).includes(s)
}

/** Live events pushed to every UI (names are `noun:verb`). */
export interface ApiEvents {
  'status:changed': NodeStatus
  'job:updated': { announcementId: string, state: JobStateName, failureReason: string | null, at: number }
  'job:progress': { announcementId: string, fuelUsed: Amount, maxFuel: Amount, fuelFraction: number, at: number }
  'job:log': { announcementId: string, stream: string, text: string, at: number }
  'announcement:decided': { announcementId: string, decision: 'bid' | 'no_bid', firstFailedRule: string | null, at: number }
  'policy:saved': { version: number }
  'earnings:changed': { announcementId: string, amount: Amount }
  'receipt:stored': { cid: string, announcementId: string }
  'reachability:changed': ReachabilityView
}
export type ApiEventName = keyof ApiEvents
export type ApiEvent = { [K in ApiEventName]: { type: K, payload: ApiEvents[K] } }[ApiEventName]
export const API_EVENT_NAMES: ReadonlyArray<ApiEventName> = [
  'status:changed', 'job:updated', 'job:progress', 'job:log', 'announcement:decided', 'policy:saved',
  'earnings:changed', 'receipt:stored', 'reachability:changed'
]

/** Error codes that cross the API; the HTTP transport maps them to status codes. */
export const API_ERROR_CODES = ['BadRequest', 'NotFound', 'Unauthorized', 'Forbidden', 'Internal'] as const
export type ApiErrorCode = (typeof API_ERROR_CODES)[number]
export const HTTP_STATUS: Record<ApiErrorCode, number> = { BadRequest: 400, NotFound: 404, Unauthorized: 401, Forbidden: 403, Internal: 500 }

export class ApiError extends Error {
  override name = 'ApiError'
  readonly code: ApiErrorCode
  constructor (code: ApiErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** What both transports return for a call. */
export type ApiResponse<T> = { ok: true, result: T } | { ok: false, error: { code: ApiErrorCode, message: string } }

/** The client-side surface both transports implement (the renderer only sees this). */
export interface ApiClient {
  call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>>
  /** Subscribes to live events; returns an unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void
}
