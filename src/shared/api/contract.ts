/**
 * The one typed contract between the UI (renderer) and the main side (daemon services).
 *
 * Every value that crosses it is plain JSON: token amounts and fuel counts are decimal strings
 * (they are 64-bit integers on the wire), timestamps are epoch milliseconds, byte blocks are base64.
 * One transport carries it: the daemon's local HTTP + WebSocket server (`POST /api/<method>`,
 * `GET /api/events` upgraded to a WebSocket), used by the browser, the desktop window and the
 * desktop shell (tray, power state, quit) alike.
 */
import { JOB_STATES, type JobState } from '../job-states.js'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export interface JsonObject { [key: string]: Json }

/** Decimal string of a non-negative 64-bit integer (tokens, fuel). */
export type Amount = string

// the one list of job states (the store's state machine)
export { JOB_STATES }
export type JobStateName = JobState

/**
 * Tray / overview state, in priority order: paused > error > running > bidding > idle. `bidding` means
 * work can come: auto-bid on, connected to peers and nothing in the health check blocks bids; otherwise
 * `idle`, and `NodeStatus.health` names the reason.
 */
export const NODE_STATES = ['idle', 'bidding', 'running', 'paused', 'error'] as const
export type NodeState = (typeof NODE_STATES)[number]

export interface RunningJobView {
  announcementId: string
  originatorDid: string
  /** What the job does (from its announcement), or null. */
  description: string | null
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

/** The unit token amounts are shown in (the wire carries plain integer amounts, profile 6.3). */
export const TOKEN_UNIT = 'tokens'

/**
 * Why work can or cannot come, each with its fix. `blocking`: no bid can go out while it holds;
 * `warning`: bids go out but something costs the owner (free work, unreachable, bids that lose);
 * `info`: worth knowing.
 */
export const HEALTH_CODES = [
  'offline', 'no_runtime', 'draining', 'paused', 'autobid_off', 'no_peers', 'bootstrap_unreachable', 'outside_schedule',
  'on_battery', 'not_idle', 'too_hot', 'disk_full', 'all_slots_busy', 'price_above_market', 'price_above_buyers', 'unreachable',
  'selling_free', 'bids_not_delivered', 'bids_losing', 'daemon_error', 'no_announcements'
] as const
export type HealthCode = (typeof HEALTH_CODES)[number]
export type HealthSeverity = 'blocking' | 'warning' | 'info'
/** A button the dashboard can offer next to a reason. */
export type HealthAction =
  | { kind: 'resume' }
  | { kind: 'autobid_on' }
  | { kind: 'link', href: string, label: string }
export interface HealthReason {
  code: HealthCode
  severity: HealthSeverity
  /** One short line, e.g. "Bootstrap peer unreachable". */
  title: string
  /** What the node sees, e.g. "/ip4/203.0.113.7/tcp/4001/p2p/12D3… — connection refused (3 attempts)". */
  detail: string
  /** What to do about it, in plain words. */
  fix: string
  action?: HealthAction
}
export interface HealthView {
  /** No blocking reason: bids can go out. */
  canBid: boolean
  /** One line: "Ready for work", "No work can come: paused until 08:00", … */
  summary: string
  /** Blocking first, then warnings, then info. */
  reasons: HealthReason[]
}

/** What this node offers to buyers (the policy's caps applied to the machine) and at what price. */
export interface OfferView {
  cpu: { offered: number, machine: number, model: string }
  ramBytes: { offered: number, machine: number }
  /** Free space on the data dir's disk, and what of it is offered (null: unknown / none). */
  diskBytes: { offered: number | null, machineFree: number | null }
  gpus: Array<{ name: string, model: string, vendor: string, vramBytes: number | null, offered: boolean }>
  maxConcurrentJobs: number
  price: PriceView
  /** CPU temperature now (°C), when the hardware reports it. */
  cpuTemperatureC: number | null
}
export interface PriceView {
  mode: 'fixed' | 'per_mfuel' | 'floor_plus_rate'
  /** e.g. "5 tokens per job", "2 tokens per million fuel", "8 tokens + 2 tokens per million fuel". */
  text: string
  /** Charges nothing for any job. */
  free: boolean
  fixed: Amount | null
  floor: Amount | null
  ratePerMillionFuel: Amount | null
  /** What we would ask for jobs of a few typical fuel budgets. */
  examples: Array<{ maxFuel: Amount, price: Amount }>
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
  /**
   * Why work can or cannot come, with the fix for each reason. The API service always sets it (and
   * `offer`); both are optional in the type only so that clients built against older daemons still compile.
   */
  health?: HealthView
  /** What the machine offers and at what price (null when the node cannot tell, e.g. a test double). */
  offer?: OfferView | null
  /** The policy version in force and where it came from. */
  policy: { version: number | null, source: string }
  version: string
  now: number
}

export interface EarningsView {
  /** The unit of every amount (TOKEN_UNIT). */
  unit: string
  today: Amount
  last7d: Amount
  allTime: Amount
  /** Completed jobs in the ledger (paid and free). */
  jobs: number
  /** Completed jobs that earned more than 0. */
  paidJobs: number
  /** Completed jobs that earned nothing (price 0). */
  freeJobs: number
  byDay: Array<{ day: string, amount: Amount, jobs: number }>
  byOriginator: Array<{ originatorDid: string, amount: Amount, jobs: number }>
  byRegion: Array<{ region: string, amount: Amount, jobs: number }>
}

export interface JobView {
  announcementId: string
  originatorDid: string
  /** What the job does, as its originator described it (from the announcement), or null. */
  description: string | null
  state: JobStateName
  /** Our bid's price (what the job pays if it completes). */
  price: Amount | null
  /** What the ledger booked for it: the price once Completed, null before (and for failed jobs). */
  earned: Amount | null
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

/**
 * What became of our bid: `won` (the job was assigned to us), `lost` (delivered, the bidding window
 * closed, no assignment), `waiting` (delivered, window still open or just closed), `not_sent` (the bid
 * could not be delivered: never assigned), `sending` (being delivered).
 */
export const BID_OUTCOMES = ['won', 'lost', 'refused', 'waiting', 'not_sent', 'sending'] as const
export type BidOutcome = (typeof BID_OUTCOMES)[number]
export interface BidOutcomeView {
  outcome: BidOutcome
  /** Plain words, e.g. "won: the job is completed", "lost: the buyer chose another executor", "never assigned: the bid was not delivered (…)". */
  text: string
  /** Why the bid could not be delivered (not_sent). */
  error: string | null
  /** The job's state when won. */
  jobState: JobStateName | null
  /** When the bidding window closed / closes (epoch ms), when known. */
  closesAt: number | null
}

export interface AnnouncementView {
  announcementId: string
  originatorDid: string
  receivedAt: number
  summary: JsonObject
  /** The job's description (from the summary), or null. */
  description: string | null
  decision: 'bid' | 'no_bid'
  price: Amount | null
  /** Our bid's fate (null when we did not bid). */
  bid: BidOutcomeView | null
  reasons: DecisionReasonView[]
  firstFailedRule: string | null
  policyVersion: number | null
  region: string | null
}

export interface MarketStatsView {
  total: number
  bid: number
  noBid: number
  /** What became of the bids (same window). */
  /** `refused`: the buyer chose us, but we refused its assignment (e.g. every job slot was taken by then). */
  outcomes: { won: number, lost: number, refused: number, waiting: number, notSent: number }
  /** "43 skipped: job pays less than our price" — grouped by the first failing rule, most frequent first. */
  skipped: Array<{ rule: string, count: number, text: string }>
}

export interface PolicyView { version: number, policy: JsonObject, note: string | null, createdAt: number }

/** A policy problem: its JSON path, the field's label (what the form shows) and what is wrong. */
export interface PolicyIssue { path: string, label?: string, message: string }
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
  /** The job's description (from its announcement), or null. */
  description: string | null
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

/** A settings or policy problem, named by the field's label (what the form shows), with its path. */
export interface FieldIssue {
  /** JSON path / form key, e.g. "caps.cpu" or "pricing.price". */
  path: string
  /** The label the form shows, e.g. "CPU cores offered". */
  label: string
  message: string
}
export interface SettingsValidationView { ok: boolean, errors: FieldIssue[] }

/** The node's own log file (`<dataDir>/logs`), newest first. */
export const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number]
export const LOG_SUBSYSTEMS = ['daemon', 'jobs', 'market', 'mesh', 'nat', 'sandbox', 'ui', 'originator', 'probe'] as const
export interface LogLineView {
  time: number
  level: LogLevelName
  sub: string | null
  job: string | null
  msg: string
  /** The other fields of the line (JSON), for the detail view. */
  extra: JsonObject
}
export interface LogsQuery {
  /** Lines to return (default 200, at most 1000). */
  limit?: number
  /** Minimum level (default info). */
  level?: LogLevelName
  /** Only these subsystems (default all). */
  subs?: string[]
  /** Only lines of this job (announcement id). */
  job?: string
  /** Only lines whose message contains this text (case-insensitive). */
  text?: string
  /** Continue from an earlier answer's `next` (older lines). */
  before?: string
}
export interface LogsView {
  lines: LogLineView[]
  /** Cursor for older lines, or null when the oldest file was read to its start. */
  next: string | null
  /** Where the log is. */
  dir: string | null
  /** Bytes of log read for this answer (bounded per call). */
  scannedBytes: number
}

export const EXPORT_FORMATS = ['csv', 'json'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
export interface ExportQuery {
  /** Period start (epoch ms, inclusive) and end (exclusive). */
  fromMs: number
  toMs: number
  format: ExportFormat
}
/** A file for the browser to save. */
export interface ExportFileView {
  filename: string
  mime: string
  /** The file's text (CSV or JSON). */
  content: string
  rows: number
  /** More rows than one export holds (MAX_EXPORT_ROWS): shorten the period. */
  truncated: boolean
}
export const MAX_EXPORT_ROWS = 50_000

/** `mesh-executor receipt verify <statement file>` and `statement.verify`: a signed earnings statement checked offline. */
export type StatementCheckView =
  | {
      ok: true
      executorDid: string
      periodStart: string
      periodEnd: string
      rows: number
      total: Amount
      /** Rows whose receipt block was in the file and verified (all of them, for ok). */
      receiptsVerified: number
      statementCid: string
    }
  | { ok: false, reason: string, detail: string }

/** What buyers actually paid recently, from public signed receipts heard on the mesh. */
export interface MarketRateView {
  /** Receipts used (verified, completed, priced, in the window). */
  samples: number
  /** Distinct executors among them. */
  executors: number
  sinceMs: number
  /** Tokens per million fuel used, over the samples: null without samples. */
  ratePerMillionFuel: { p25: number, median: number, p75: number } | null
  /** Prices of whole jobs (tokens). */
  price: { p25: Amount, median: Amount, p75: Amount } | null
  /**
   * Ours, measured the same way: `price` is the median of what we asked for the jobs announced to us
   * in the window (our quotes); `ratePerMillionFuel` is from our own signed receipts (price per
   * million fuel used). Null when there is nothing to measure yet.
   */
  ours: { price: Amount | null, ratePerMillionFuel: number | null }
  /**
   * A price per job (whole tokens) near the median of what buyers paid per job, or null (fewer than 3
   * receipts). Per job, because a rate per million fuel *used* cannot be charged: bids price the
   * job's fuel budget, which is known when bidding, not what it will use.
   */
  suggestedPrice: Amount | null
  /** The simulator over our recent announcements at the suggested price: what we would have bid on and earned. */
  wouldHaveWon: { considered: number, wouldBid: number, impliedEarnings: Amount } | null
  /** The collector: heard, fetched, verified, rejected (and why), skipped by its bounds. */
  collector: { heard: number, fetched: number, rejected: number, skipped: number, lastError: string | null }
  /** The newest samples, newest first (at most 20). */
  recent: Array<{ receiptCid: string, executorDid: string, price: Amount, fuelUsed: Amount, finishedAt: number, ratePerMillionFuel: number }>
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
  'settings.validate': [{ patch: SettingsPatch }, SettingsValidationView]
  'logs.tail': [LogsQuery, LogsView]
  'export.earnings': [ExportQuery, ExportFileView]
  'export.receipts': [ExportQuery, ExportFileView]
  'export.statement': [{ fromMs: number, toMs: number }, ExportFileView]
  'statement.verify': [{ text: string }, StatementCheckView]
  'market.rate': [{ days?: number }, MarketRateView]
}
export type ApiMethod = keyof ApiMethods
export type ApiArgs<M extends ApiMethod> = ApiMethods[M][0]
export type ApiResult<M extends ApiMethod> = ApiMethods[M][1]

export const API_METHODS: ReadonlyArray<ApiMethod> = [
  'node.status', 'earnings.get', 'jobs.list', 'jobs.get', 'market.announcements', 'market.stats',
  'market.simulate', 'policy.get', 'policy.validate', 'policy.save', 'receipts.list', 'receipts.get',
  'receipts.verify', 'node.setAutoBid', 'node.pause', 'settings.get', 'settings.update',
  'node.setMachineState', 'node.shutdown', 'settings.validate', 'logs.tail', 'export.earnings', 'export.receipts',
  'export.statement', 'statement.verify', 'market.rate'
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
