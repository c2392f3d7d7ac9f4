/**
 * The API implemented once over the main-side services. Both transports (Electron IPC and the local
 * HTTP/WebSocket server) call `service.call(method, untrustedArgs)`: the arguments are validated
 * with the shared validators, then dispatched. Results are JSON-safe views (see shared/api/contract.ts).
 */
import { decodeCbor, verifyReceiptBlock, type ReceiptResult } from '../../shared/protocol/index.js'
import {
  ApiError, bytesFromBase64, base64FromBytes, skippedText, validateCall,
  type ApiArgs, type ApiEvent, type ApiMethod, type ApiResult, type JsonObject, type MachineStateArgs, type MachineStateView,
  type NodeState, type NodeStatus, type ShutdownView,
  type PolicyValidationView, type ReachabilityView, type RunningJobView, type SettingsPatch, type SettingsView, type SimulationView,
  unknownReachability
} from '../../shared/api/index.js'
import type { Store } from '../store/index.js'
import { amountStr, announcementView, cborToJson, jobView, policyView, receiptSummary } from './convert.js'
import type { ApiEventHub } from './events.js'

/** The parts of the SQLite store (src/main/store) the API reads and writes. */
export type ApiStore = Pick<Store,
  'getSetting' | 'setSetting' | 'currentPolicy' | 'policyHistory' | 'savePolicy' | 'listAnnouncements' |
  'announcementStats' | 'getAnnouncement' | 'listJobs' | 'getJob' | 'jobTimeline' | 'jobLogs' | 'receiptsForJob' |
  'listReceipts' | 'getReceipt' | 'earningsSummary' | 'earningsByDay' | 'earningsByOriginator' | 'earningsByRegion'>

/** Live, in-memory node state the daemon knows (not in the store). */
export interface NodeRuntime {
  online: boolean
  peers: number
  autoBid: boolean
  pausedUntil: number | null
  draining: boolean
  /** Last fatal/user-visible error, or null. */
  error: string | null
  listenAddrs: string[]
  region: string | null
  /** Reachability and the addresses in use (default: unknown, listening on `listenAddrs`). */
  reachability?: ReachabilityView
  /** Live fuel of each running job (jobs not listed here show 0 fuel used). */
  running: Array<{ announcementId: string, fuelUsed: bigint | number, startedAt?: number }>
  /** Plain-language warnings for the owner (default none). */
  warnings?: string[]
  /** The policy version in force and where it came from (default: unknown). */
  policy?: { version: number | null, source: string }
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

export interface ApiDeps {
  store: ApiStore
  identity: { did: string, peerId: string }
  node: NodeControl
  policy: PolicyEngine
  settings: SettingsBackend
  events: ApiEventHub
  /** Receipt verification (default: verifyReceiptBlock of the protocol core). */
  verifyReceipt?: (bytes: Uint8Array, expectedCid?: string) => ReceiptResult
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

export function computeNodeState (rt: NodeRuntime, runningCount: number, now: number): NodeState {
  if (rt.error !== null) return 'error'
  if (rt.pausedUntil !== null && rt.pausedUntil > now) return 'paused'
  if (runningCount > 0) return 'running'
  if (rt.autoBid && rt.online) return 'bidding'
  return 'idle'
}

/** One row per day (robust against a store returning several rows for the same day). */
function mergeDays (rows: Array<{ day: string, amount: bigint, jobs: number }>): Array<{ day: string, amount: string, jobs: number }> {
  const m = new Map<string, { amount: bigint, jobs: number }>()
  for (const r of rows) {
    const cur = m.get(r.day) ?? { amount: 0n, jobs: 0 }
    m.set(r.day, { amount: cur.amount + r.amount, jobs: cur.jobs + r.jobs })
  }
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, v]) => ({ day, amount: v.amount.toString(), jobs: v.jobs }))
}

const ACTIVE = ['Assigned', 'Accepted', 'FetchingInputs', 'Running'] as const

export function createApiService (deps: ApiDeps): ApiService {
  const now = deps.now ?? Date.now
  const verify = deps.verifyReceipt ?? verifyReceiptBlock
  const tz = deps.tzOffsetMinutes ?? (() => -new Date().getTimezoneOffset())
  const { store } = deps

  const liveFuel = (): Map<string, { fuel: bigint, startedAt: number | undefined }> => {
    const m = new Map<string, { fuel: bigint, startedAt: number | undefined }>()
    for (const r of deps.node.status().running) m.set(r.announcementId, { fuel: BigInt(r.fuelUsed), startedAt: r.startedAt })
    return m
  }

  function status (): NodeStatus {
    const rt = deps.node.status()
    const t = now()
    const fuel = new Map(rt.running.map((r) => [r.announcementId, r]))
    const running: RunningJobView[] = store.listJobs({ states: [...ACTIVE], limit: 100 }).map((j) => {
      const live = fuel.get(j.announcementId)
      const used = live === undefined ? 0n : BigInt(live.fuelUsed)
      return {
        announcementId: j.announcementId,
        originatorDid: j.originatorDid,
        state: j.state,
        price: amountStr(j.price),
        fuelUsed: used.toString(),
        maxFuel: j.maxFuel.toString(),
        fuelFraction: j.maxFuel > 0n ? Math.min(1, Number((used * 10_000n) / j.maxFuel) / 10_000) : 0,
        startedAt: live?.startedAt ?? j.createdAt,
        timeoutSeconds: j.timeoutSeconds
      }
    })
    return {
      did: deps.identity.did,
      peerId: deps.identity.peerId,
      state: computeNodeState(rt, running.length, t),
      online: rt.online,
      peers: rt.peers,
      autoBid: rt.autoBid,
      pausedUntil: rt.pausedUntil !== null && rt.pausedUntil > t ? rt.pausedUntil : null,
      draining: rt.draining,
      error: rt.error,
      listenAddrs: rt.listenAddrs,
      region: rt.region,
      reachability: rt.reachability ?? unknownReachability(rt.listenAddrs),
      running,
      warnings: rt.warnings ?? [],
      policy: rt.policy ?? { version: null, source: 'unknown' },
      version: deps.version ?? '0.1.0',
      now: t
    }
  }

  function reachability (): ReachabilityView {
    const rt = deps.node.status()
    return rt.reachability ?? unknownReachability(rt.listenAddrs)
  }

  function receiptBytes (cid: string): Uint8Array {
    const r = store.getReceipt(cid)
    if (r === undefined) throw new ApiError('NotFound', `no receipt ${cid}`)
    return r.bytes
  }

  const handlers: { [M in ApiMethod]: (args: ApiArgs<M>) => ApiResult<M> | Promise<ApiResult<M>> } = {
    'node.status': () => status(),
    'earnings.get': (a) => {
      const w = { now: now(), tzOffsetMinutes: a.tzOffsetMinutes ?? tz() }
      const s = store.earningsSummary(w)
      return {
        today: s.today.toString(),
        last7d: s.last7d.toString(),
        allTime: s.allTime.toString(),
        jobs: s.jobs,
        byDay: mergeDays(store.earningsByDay({ ...w, days: a.days ?? 30 })),
        byOriginator: store.earningsByOriginator().map((d) => ({ originatorDid: d.originatorDid, amount: d.amount.toString(), jobs: d.jobs })),
        byRegion: store.earningsByRegion().map((d) => ({ region: d.region, amount: d.amount.toString(), jobs: d.jobs }))
      }
    },
    'jobs.list': (a) => {
      const fuel = liveFuel()
      const t = now()
      return store.listJobs(a).map((j) => jobView(j, t, fuel.get(j.announcementId)?.fuel ?? fuelFromReceipts(j.announcementId)))
    },
    'jobs.get': (a) => {
      const j = store.getJob(a.announcementId)
      if (j === undefined) throw new ApiError('NotFound', `no job ${a.announcementId}`)
      const fuel = liveFuel().get(j.announcementId)?.fuel ?? fuelFromReceipts(j.announcementId)
      return {
        job: jobView(j, now(), fuel),
        timeline: store.jobTimeline(j.announcementId).map((t) => ({ from: t.from ?? null, to: t.to, at: t.at, details: t.details ?? null })),
        logs: store.jobLogs(j.announcementId),
        receipts: store.receiptsForJob(j.announcementId).map(receiptSummary)
      }
    },
    'market.announcements': (a) => store.listAnnouncements(a).map(announcementView),
    'market.stats': (a) => {
      const s = store.announcementStats(a)
      return { total: s.total, bid: s.bid, noBid: s.noBid, skipped: s.byFirstFailedRule.map((g) => ({ ...g, text: skippedText(g.rule, g.count) })) }
    },
    'market.simulate': async (a) => {
      const v = deps.policy.validate(a.policy)
      if (!v.ok) throw new ApiError('BadRequest', `market.simulate: invalid policy: ${v.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`)
      return await deps.policy.simulate(a.policy, a.lastN)
    },
    'policy.get': () => {
      const cur = store.currentPolicy()
      return { current: cur === undefined ? null : policyView(cur), history: store.policyHistory({ limit: 20 }).map(policyView) }
    },
    'policy.validate': (a) => deps.policy.validate(a.policy),
    'policy.save': (a) => {
      const v = deps.policy.validate(a.policy)
      if (!v.ok) throw new ApiError('BadRequest', `policy.save: invalid policy: ${v.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`)
      const version = deps.policy.save !== undefined ? deps.policy.save(a.policy, a.note) : store.savePolicy(a.policy, a.note)
      if (deps.policy.save === undefined) deps.policy.activate?.(version, a.policy)
      deps.events.emit('policy:saved', { version })
      const cur = store.currentPolicy()
      if (cur === undefined) throw new ApiError('Internal', 'policy was not stored')
      return policyView(cur)
    },
    'receipts.list': (a) => store.listReceipts(a).map(receiptSummary),
    'receipts.get': (a) => {
      const r = store.getReceipt(a.cid)
      if (r === undefined) throw new ApiError('NotFound', `no receipt ${a.cid}`)
      let fields: JsonObject | null = null
      try {
        const decoded = cborToJson(decodeCbor(r.bytes))
        if (decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded)) fields = decoded
      } catch { fields = null }
      const { bytes, ...row } = r
      return { ...receiptSummary(row), fields, blockBase64: base64FromBytes(bytes), sizeBytes: bytes.length }
    },
    'receipts.verify': (a) => {
      const res = a.cid !== undefined ? verify(receiptBytes(a.cid), a.cid) : verify(bytesFromBase64(a.blockBase64 ?? ''))
      return res.ok
        ? { ok: true, cid: res.cid, executorDid: res.receipt.executor_did, status: res.receipt.status }
        : { ok: false, reason: res.reason, detail: res.detail }
    },
    'node.setAutoBid': async (a) => {
      await deps.node.setAutoBid(a.enabled)
      const s = status()
      deps.events.emit('status:changed', s)
      return s
    },
    'node.pause': async (a) => {
      await deps.node.pauseUntil(a.untilMs)
      const s = status()
      deps.events.emit('status:changed', s)
      return s
    },
    'settings.get': () => ({ ...deps.identity, ...deps.settings.get(), reachability: reachability() }),
    'settings.update': (a) => ({ ...deps.identity, ...deps.settings.update(a.patch), reachability: reachability() }),
    'node.setMachineState': (a) => {
      if (deps.node.setMachineState === undefined) throw new ApiError('BadRequest', 'node.setMachineState: this node does not take its machine state from the API')
      return deps.node.setMachineState(a)
    },
    'node.shutdown': (a) => {
      if (deps.node.shutdown === undefined) throw new ApiError('BadRequest', 'node.shutdown: this node cannot be stopped through the API (run it with `mesh-executor start`)')
      const r = deps.node.shutdown(a.graceSeconds)
      deps.events.emit('status:changed', status())
      return r
    }
  }

  function fuelFromReceipts (id: string): bigint | null {
    const r = store.receiptsForJob(id)
    const last = r[r.length - 1]
    return last === undefined ? null : last.fuelUsed
  }

  async function call (method: unknown, raw: unknown): Promise<unknown> {
    const { method: m, args } = validateCall(method, raw)
    const h = handlers[m] as (a: unknown) => unknown
    try {
      return await h(args)
    } catch (err) {
      if (err instanceof ApiError) throw err
      if (err instanceof Error && (err.name === 'StoreError' || err.name === 'UnknownJob')) throw new ApiError('BadRequest', `${m}: ${err.message}`)
      throw new ApiError('Internal', `${m} failed: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  return {
    call,
    invoke: async (method, args) => await call(method, args) as ApiResult<typeof method>,
    onEvent: (listener) => deps.events.subscribe(listener),
    status
  }
}
