/**
 * What the API service needs from the main side (its ports): the store, the live node, the policy
 * engine, the settings, the event hub and the optional signer / market-rate source.
 */
import type { ReceiptResult } from '../../shared/protocol/index.js'
import type {
  ApiArgs, ApiEvent, ApiMethod, ApiResult, JsonObject, MachineLimits, MachineStateArgs, MachineStateView, NodeStatus, OfferView,
  PolicyValidationView, ReachabilityView, SettingsPatch, SettingsView, ShutdownView, SimulationView
} from '../../shared/api/index.js'
import type { Store } from '../store/index.js'
import type { MarketRateStats, MarketSample } from '../market-rate/index.js'
import type { ApiEventHub } from './events.js'
import type { HealthFacts } from './health.js'

/** The parts of the SQLite store (src/main/store) the API reads and writes. */
export type ApiStore = Pick<Store,
  'getSetting' | 'setSetting' | 'currentPolicy' | 'policyHistory' | 'savePolicy' | 'listAnnouncements' |
  'announcementStats' | 'getAnnouncement' | 'listJobs' | 'getJob' | 'jobTimeline' | 'jobLogs' | 'receiptsForJob' |
  'listReceipts' | 'getReceipt' | 'earningsSummary' | 'earningsByDay' | 'earningsByOriginator' | 'earningsByRegion' | 'db'>

/** Live, in-memory node state the daemon knows (not in the store). */
export interface NodeRuntime extends Pick<NodeStatus, 'online' | 'peers' | 'autoBid' | 'pausedUntil' | 'draining' | 'error' | 'listenAddrs' | 'region'> {
  /** Reachability and the addresses in use (default: unknown, listening on `listenAddrs`). */
  reachability?: ReachabilityView
  /** Live fuel of each running job (jobs not listed here show 0 fuel used). */
  running: Array<{ announcementId: string, fuelUsed: bigint | number, startedAt?: number }>
  /** Plain-language warnings for the owner (default none). */
  warnings?: string[]
  /** The policy version in force and where it came from (default: unknown). */
  policy?: { version: number | null, source: string }
  /** What the machine offers and at what price (default: unknown). */
  offer?: OfferView
  /** What the health check needs beyond the fields above (default: derived from them). */
  health?: Partial<HealthFacts>
}

export interface NodeControl {
  status(): NodeRuntime
  setAutoBid(enabled: boolean): void | Promise<void>
  /** Pause bidding until the given epoch ms; null resumes. */
  pauseUntil(untilMs: number | null): void | Promise<void>
  /** The host's machine state for the policy (node.setMachineState); absent: the method answers BadRequest. */
  setMachineState?(state: MachineStateArgs): MachineStateView
  /** Asks the process to stop gracefully (node.shutdown); absent: the method answers BadRequest. */
  shutdown?(graceSeconds: number | undefined): ShutdownView
  /** The machine resource caps are checked against (Settings cannot offer more than there is). */
  machine?(): MachineLimits
  /** Where the node's log files are (the Logs page), if it writes any. */
  logDir?(): string | undefined
}

export interface PolicyEngine {
  /** Validates a draft against everything the engine supports (e.g. market's validatePolicy). */
  validate(policy: JsonObject): PolicyValidationView
  /** Replays the last N recorded announcements against a draft (see `simulateFromStore`). */
  simulate(policy: JsonObject, lastN: number): SimulationView | Promise<SimulationView>
  /** Stores a valid policy as a new version and makes the live node use it (default: store.savePolicy + activate). */
  save?(policy: JsonObject, note: string | undefined): number
  /** Called after a valid policy was stored as a new version, so the live node uses it next. */
  activate?(version: number, policy: JsonObject): void
}

/** The stored settings; identity and the live reachability are added by the service. */
export type SettingsBase = Omit<SettingsView, 'did' | 'peerId' | 'reachability'>
export interface SettingsBackend {
  get(): SettingsBase
  update(patch: SettingsPatch): SettingsBase
}

/** Public receipts heard on the mesh (src/main/market-rate). */
export interface MarketRateSource {
  samples(sinceMs?: number): MarketSample[]
  stats(): MarketRateStats
  /** Another executor announced a receipt for this job (so our bid on it lost). */
  ranBy?(announcementId: string): string | undefined
}

export interface ApiDeps {
  store: ApiStore
  identity: { did: string, peerId: string }
  node: NodeControl
  policy: PolicyEngine
  settings: SettingsBackend
  events: ApiEventHub
  /** Receipt verification (default: verifyReceiptBlock of the protocol core). */
  verifyReceipt?: (bytes: Uint8Array, expectedCid?: string) => ReceiptResult
  /** Signs with the node's identity key (earnings statements); absent: export.statement answers BadRequest. */
  sign?: (bytes: Uint8Array) => Uint8Array
  /** The market rate from public receipts; absent: market.rate has no samples. */
  marketRate?: MarketRateSource
  now?: () => number
  version?: string
  /** Local time zone for "today" (minutes east of UTC); default the process's zone. */
  tzOffsetMinutes?: () => number
}

export interface ApiService {
  /** Validates untrusted arguments and runs the method (throws ApiError). */
  call(method: unknown, args: unknown): Promise<unknown>
  /** Typed call for main-side code (the tray menu, tests). Arguments are validated too. */
  invoke<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>>
  onEvent(listener: (event: ApiEvent) => void): () => void
  /** The current status, also used to pick the tray icon. */
  status(): NodeStatus
}
