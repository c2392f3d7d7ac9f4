/**
 * The API implemented once over the main-side services. Both transports (Electron IPC and the local
 * HTTP/WebSocket server) call `service.call(method, untrustedArgs)`: the arguments are validated
 * with the shared validators, then dispatched. Results are JSON-safe views (see shared/api/contract.ts).
 */
import { decodeCbor, verifyReceiptBlock, type ReceiptResult } from '../../shared/protocol/index.js'
import {
  ApiError, bytesFromBase64, base64FromBytes, checkSettingsPatch, skippedText, validateCall, MAX_EXPORT_ROWS, TOKEN_UNIT,
  type ApiArgs, type ApiEvent, type ApiMethod, type ApiResult, type ExportFileView, type HealthView, type JsonObject, type MachineLimits,
  type MachineStateArgs, type MachineStateView, type MarketRateView, type NodeState, type NodeStatus, type OfferView, type ShutdownView,
  type PolicyValidationView, type ReachabilityView, type RunningJobView, type SettingsPatch, type SettingsView, type SimulationView,
  unknownReachability
} from '../../shared/api/index.js'
import type { Store } from '../store/index.js'
import { statementFile, toCsv, isoDay, verifyStatementFile, type StatementRow } from '../export/index.js'
import { sampleRate, summarizeMarket, type MarketRateStats, type MarketSample } from '../market-rate/index.js'
import { amountStr, announcementView, cborToJson, jobView, policyView, receiptSummary } from './convert.js'
import type { ApiEventHub } from './events.js'
import { computeHealth, type HealthFacts, type RecentActivity } from './health.js'
import { tailLogs } from './logs.js'
import { createReadQueries, type ReadQueries } from './queries.js'

/** The parts of the SQLite store (src/main/store) the API reads and writes. */
export type ApiStore = Pick<Store,
  'getSetting' | 'setSetting' | 'currentPolicy' | 'policyHistory' | 'savePolicy' | 'listAnnouncements' |
  'announcementStats' | 'getAnnouncement' | 'listJobs' | 'getJob' | 'jobTimeline' | 'jobLogs' | 'receiptsForJob' |
  'listReceipts' | 'getReceipt' | 'earningsSummary' | 'earningsByDay' | 'earningsByOriginator' | 'earningsByRegion' | 'db'>

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

/**
 * paused > error > running > bidding > idle. `bidding` only when work can come (the health check has
 * no blocking reason); a node that is up but cannot get work is `idle` and its health says why.
 */
export function computeNodeState (rt: NodeRuntime, runningCount: number, now: number, health?: HealthView): NodeState {
  if (rt.pausedUntil !== null && rt.pausedUntil > now) return 'paused'
  if (rt.error !== null) return 'error'
  if (runningCount > 0) return 'running'
  if (rt.autoBid && rt.online && rt.peers > 0 && (health === undefined || health.canBid)) return 'bidding'
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

/** "Most work per job (maxFuel): must be …; …" — named by the field's label, with its path. */
const issues = (errors: PolicyValidationView['errors']): string => errors.map((e) => `${e.label !== undefined && e.label !== e.path ? `${e.label} (${e.path})` : e.path}: ${e.message}`).join('; ')

const ACTIVE = ['Assigned', 'Accepted', 'FetchingInputs', 'Running'] as const
const HOUR = 3_600_000
const DAY = 86_400_000


export function createApiService (deps: ApiDeps): ApiService {
  const now = deps.now ?? Date.now
  const verify = deps.verifyReceipt ?? verifyReceiptBlock
  const tz = deps.tzOffsetMinutes ?? (() => -new Date().getTimezoneOffset())
  const { store } = deps
  const q: ReadQueries = createReadQueries(store.db)
  const ranBy = (id: string): string | undefined => deps.marketRate?.ranBy?.(id)

  const liveFuel = (): Map<string, { fuel: bigint, startedAt: number | undefined }> => {
    const m = new Map<string, { fuel: bigint, startedAt: number | undefined }>()
    for (const r of deps.node.status().running) m.set(r.announcementId, { fuel: BigInt(r.fuelUsed), startedAt: r.startedAt })
    return m
  }

  /** What the store says about the recent past; status() runs often, so this is cached for 2 s. */
  let recentCache: { at: number, value: RecentActivity } | undefined
  const NOTHING_RECENT: RecentActivity = { announcementsLastHour: 0, priceSkips: { count: 0, of: 0, bestMaxPrice: null, ourPrice: null }, bids: { won: 0, lost: 0, notSent: 0, lastError: null } }
  /** the status must answer even when the store cannot (a partial store in a test, a locked database): no history then */
  const recentActivity = (t: number): RecentActivity => {
    try { return readRecent(t) } catch { return NOTHING_RECENT }
  }
  const readRecent = (t: number): RecentActivity => {
    if (recentCache !== undefined && t - recentCache.at < 2000 && t >= recentCache.at) return recentCache.value
    const lastHour = store.announcementStats({ sinceMs: t - HOUR }).total
    const last = store.listAnnouncements({ sinceMs: t - DAY, limit: 20 })
    const skipped = last.filter((a) => a.firstFailedRule === 'price')
    let best: bigint | null = null
    for (const a of skipped) {
      const mp = a.summary.max_price
      if (typeof mp === 'string' && /^\d+$/.test(mp)) { const v = BigInt(mp); if (best === null || v > best) best = v }
    }
    const ours = skipped[0]?.price
    const outcomes = q.bidOutcomeCounts(t - DAY, t, ranBy)
    const value: RecentActivity = {
      announcementsLastHour: lastHour,
      priceSkips: { count: skipped.length, of: last.length, bestMaxPrice: best === null ? null : best.toString(), ourPrice: ours === undefined ? null : ours.toString() },
      bids: { won: outcomes.won, lost: outcomes.lost, notSent: outcomes.notSent, lastError: q.undeliveredBids(t - DAY, 1)[0]?.error ?? null }
    }
    recentCache = { at: t, value }
    return value
  }

  const marketSummary = (t: number, days = 7): { summary: ReturnType<typeof summarizeMarket>, samples: MarketSample[] } => {
    const samples = deps.marketRate?.samples(t - days * DAY) ?? []
    return { summary: summarizeMarket(samples), samples }
  }

  function health (rt: NodeRuntime, runningCount: number, t: number): HealthView {
    const f = rt.health ?? {}
    const offer = rt.offer
    let market: HealthFacts['market'] = f.market ?? null
    if (market === null && deps.marketRate !== undefined) {
      const { summary } = marketSummary(t)
      const ours = q.medianQuote(t - 7 * DAY)
      if (summary.price !== null && ours !== null) market = { ours: ours.toString(), median: summary.price.median, p75: summary.price.p75, samples: summary.samples }
    }
    const facts: HealthFacts = {
      online: rt.online,
      peers: rt.peers,
      draining: rt.draining,
      error: rt.error,
      autoBid: rt.autoBid,
      pausedUntil: rt.pausedUntil,
      runtimeUnavailable: f.runtimeUnavailable ?? null,
      bootstrap: f.bootstrap ?? { configured: [], failures: [] },
      schedule: f.schedule ?? null,
      onBattery: f.onBattery ?? false,
      notIdle: f.notIdle ?? null,
      tooHot: f.tooHot ?? null,
      slots: f.slots ?? { active: runningCount, max: offer?.maxConcurrentJobs ?? Math.max(1, runningCount) },
      reachability: (rt.reachability ?? unknownReachability()).state,
      free: f.free ?? offer?.price.free ?? false,
      priceText: f.priceText ?? offer?.price.text ?? 'your price',
      market
    }
    return computeHealth(facts, recentActivity(t), t)
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
        description: q.description(j.announcementId),
        state: j.state,
        price: amountStr(j.price),
        fuelUsed: used.toString(),
        maxFuel: j.maxFuel.toString(),
        fuelFraction: j.maxFuel > 0n ? Math.min(1, Number((used * 10_000n) / j.maxFuel) / 10_000) : 0,
        startedAt: live?.startedAt ?? j.createdAt,
        timeoutSeconds: j.timeoutSeconds
      }
    })
    const h = health(rt, running.length, t)
    return {
      did: deps.identity.did,
      peerId: deps.identity.peerId,
      state: computeNodeState(rt, running.length, t, h),
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
      health: h,
      offer: rt.offer ?? null,
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

  const period = (a: { fromMs: number, toMs: number }): string => `${isoDay(a.fromMs)}_to_${isoDay(a.toMs - 1)}`
  const iso = (ms: number | null): string => ms === null ? '' : new Date(ms).toISOString()

  function exportEarnings (a: ApiArgs<'export.earnings'>): ExportFileView {
    const rows = q.earningsBetween(a.fromMs, a.toMs, MAX_EXPORT_ROWS + 1)
    const truncated = rows.length > MAX_EXPORT_ROWS
    const list = rows.slice(0, MAX_EXPORT_ROWS)
    const name = `earnings_${period(a)}.${a.format}`
    if (a.format === 'csv') {
      return {
        filename: name,
        mime: 'text/csv',
        rows: list.length,
        truncated,
        content: toCsv(['earned_at', 'announcement_id', 'description', 'originator_did', 'region', 'amount', 'unit', 'fuel_used', 'receipt_cid'],
          list.map((r) => [iso(r.earnedAt), r.announcementId, r.description, r.originatorDid, r.region, r.amount, TOKEN_UNIT, r.fuelUsed, r.receiptCid]))
      }
    }
    const total = list.reduce((s, r) => s + r.amount, 0n)
    return {
      filename: name,
      mime: 'application/json',
      rows: list.length,
      truncated,
      content: JSON.stringify({
        kind: 'mesh-executor.earnings.v1',
        executor_did: deps.identity.did,
        period: { from: iso(a.fromMs), to: iso(a.toMs) },
        unit: TOKEN_UNIT,
        total: total.toString(),
        jobs: list.length,
        truncated,
        rows: list.map((r) => ({ earned_at: iso(r.earnedAt), announcement_id: r.announcementId, description: r.description, originator_did: r.originatorDid, region: r.region, amount: r.amount.toString(), fuel_used: r.fuelUsed?.toString() ?? null, receipt_cid: r.receiptCid }))
      }, null, 2) + '\n'
    }
  }

  function exportReceipts (a: ApiArgs<'export.receipts'>): ExportFileView {
    const rows = q.receiptsBetween(a.fromMs, a.toMs, MAX_EXPORT_ROWS + 1)
    const truncated = rows.length > MAX_EXPORT_ROWS
    const list = rows.slice(0, MAX_EXPORT_ROWS)
    const name = `receipts_${period(a)}.${a.format}`
    if (a.format === 'csv') {
      return {
        filename: name,
        mime: 'text/csv',
        rows: list.length,
        truncated,
        content: toCsv(['created_at', 'receipt_cid', 'announcement_id', 'description', 'status', 'failure_reason', 'fuel_used', 'price', 'earned', 'unit'],
          list.map((r) => [iso(r.createdAt), r.cid, r.announcementId, r.description, r.status, r.failureReason, r.fuelUsed, r.price, r.earned, TOKEN_UNIT]))
      }
    }
    return {
      filename: name,
      mime: 'application/json',
      rows: list.length,
      truncated,
      content: JSON.stringify({
        kind: 'mesh-executor.receipts.v1',
        executor_did: deps.identity.did,
        period: { from: iso(a.fromMs), to: iso(a.toMs) },
        unit: TOKEN_UNIT,
        truncated,
        rows: list.map((r) => ({ created_at: iso(r.createdAt), receipt_cid: r.cid, announcement_id: r.announcementId, description: r.description, status: r.status, failure_reason: r.failureReason, fuel_used: r.fuelUsed.toString(), price: r.price?.toString() ?? null, earned: r.earned?.toString() ?? null }))
      }, null, 2) + '\n'
    }
  }

  function exportStatement (a: ApiArgs<'export.statement'>): ExportFileView {
    const sign = deps.sign
    if (sign === undefined) throw new ApiError('BadRequest', 'export.statement: this node cannot sign statements')
    const rows = q.earningsBetween(a.fromMs, a.toMs, MAX_EXPORT_ROWS + 1)
    if (rows.length > MAX_EXPORT_ROWS) throw new ApiError('BadRequest', `export.statement: more than ${MAX_EXPORT_ROWS} paid jobs in the period; sign it in parts`)
    const out: StatementRow[] = []
    const blocks = new Map<string, Uint8Array>()
    let skipped = 0
    for (const r of rows) {
      if (r.receiptCid === null || r.amount === 0n) { skipped++; continue }
      const block = q.receiptBlock(r.receiptCid)
      const v = block === undefined ? undefined : verifyReceiptBlock(block, r.receiptCid)
      if (block === undefined || v === undefined || !v.ok || v.receipt.status !== 'CompletedSuccessfully' || v.receipt.executor_did !== deps.identity.did) { skipped++; continue }
      out.push({ announcementId: r.announcementId, receiptCid: r.receiptCid, originatorDid: v.receipt.originator_did, price: BigInt(v.receipt.price ?? 0), fuelUsed: BigInt(v.receipt.fuel_used), finishedAt: v.receipt.finished_at })
      blocks.set(r.receiptCid, block)
    }
    const file = statementFile({ executorDid: deps.identity.did, periodStartMs: a.fromMs, periodEndMs: a.toMs, createdAtMs: now(), rows: out }, sign, blocks)
    return {
      filename: `earnings-statement_${period(a)}.json`,
      mime: 'application/json',
      rows: out.length,
      truncated: false,
      content: JSON.stringify({ ...file, ...(skipped > 0 ? { left_out: `${skipped} ledger row(s) without a verifiable receipt or earning nothing are not in the statement` } : {}) }, null, 2) + '\n'
    }
  }

  function marketRate (a: ApiArgs<'market.rate'>): Promise<MarketRateView> | MarketRateView {
    const t = now()
    const days = a.days ?? 7
    const { summary, samples } = marketSummary(t, days)
    const cur = store.currentPolicy()
    const quote = q.medianQuote(t - days * DAY)
    const stats = deps.marketRate?.stats() ?? { heard: 0, fetched: 0, rejected: 0, skipped: 0, lastError: null }
    const base: MarketRateView = {
      samples: summary.samples,
      executors: summary.executors,
      sinceMs: t - days * DAY,
      ratePerMillionFuel: summary.ratePerMillionFuel,
      price: summary.price,
      ours: { price: quote === null ? null : quote.toString(), ratePerMillionFuel: q.medianOwnRate(t - days * DAY) },
      suggestedPrice: summary.suggestedPrice,
      wouldHaveWon: null,
      collector: stats,
      recent: samples.slice(0, 20).map((s) => ({ receiptCid: s.receiptCid, executorDid: s.executorDid, price: s.price, fuelUsed: s.fuelUsed, finishedAt: s.finishedAt, ratePerMillionFuel: sampleRate(s) }))
    }
    if (summary.suggestedPrice === null) return base
    const draft: JsonObject = { ...(cur?.policy !== null && typeof cur?.policy === 'object' && !Array.isArray(cur?.policy) ? cur.policy as JsonObject : {}) }
    draft.pricing = { mode: 'fixed', price: Number(summary.suggestedPrice) }
    if (!deps.policy.validate(draft).ok) return base
    return Promise.resolve(deps.policy.simulate(draft, 200)).then((sim) => ({
      ...base,
      wouldHaveWon: { considered: sim.considered, wouldBid: sim.wouldBid, impliedEarnings: sim.impliedEarnings }
    }))
  }

  const handlers: { [M in ApiMethod]: (args: ApiArgs<M>) => ApiResult<M> | Promise<ApiResult<M>> } = {
    'node.status': () => status(),
    'earnings.get': (a) => {
      const w = { now: now(), tzOffsetMinutes: a.tzOffsetMinutes ?? tz() }
      const s = store.earningsSummary(w)
      const paid = q.paidJobs()
      return {
        unit: TOKEN_UNIT,
        today: s.today.toString(),
        last7d: s.last7d.toString(),
        allTime: s.allTime.toString(),
        jobs: s.jobs,
        paidJobs: paid.paid,
        freeJobs: paid.free,
        byDay: mergeDays(store.earningsByDay({ ...w, days: a.days ?? 30 })),
        byOriginator: store.earningsByOriginator().map((d) => ({ originatorDid: d.originatorDid, amount: d.amount.toString(), jobs: d.jobs })),
        byRegion: store.earningsByRegion().map((d) => ({ region: d.region, amount: d.amount.toString(), jobs: d.jobs }))
      }
    },
    'jobs.list': (a) => {
      const fuel = liveFuel()
      const t = now()
      return store.listJobs(a).map((j) => jobView(j, t, fuel.get(j.announcementId)?.fuel ?? fuelFromReceipts(j.announcementId), q.description(j.announcementId), q.earned(j.announcementId)))
    },
    'jobs.get': (a) => {
      const j = store.getJob(a.announcementId)
      if (j === undefined) throw new ApiError('NotFound', `no job ${a.announcementId}`)
      const fuel = liveFuel().get(j.announcementId)?.fuel ?? fuelFromReceipts(j.announcementId)
      const description = q.description(j.announcementId)
      return {
        job: jobView(j, now(), fuel, description, q.earned(j.announcementId)),
        timeline: store.jobTimeline(j.announcementId).map((t) => ({ from: t.from ?? null, to: t.to, at: t.at, details: t.details ?? null })),
        logs: store.jobLogs(j.announcementId),
        receipts: store.receiptsForJob(j.announcementId).map((r) => receiptSummary(r, description))
      }
    },
    'market.announcements': (a) => {
      const t = now()
      return store.listAnnouncements(a).map((row) => announcementView(row, row.decision === 'bid' ? q.bidOutcome(row.announcementId, t, ranBy) : null))
    },
    'market.stats': (a) => {
      const s = store.announcementStats(a)
      return {
        total: s.total,
        bid: s.bid,
        noBid: s.noBid,
        outcomes: q.bidOutcomeCounts(a.sinceMs ?? 0, now(), ranBy),
        skipped: s.byFirstFailedRule.map((g) => ({ ...g, text: skippedText(g.rule, g.count) }))
      }
    },
    'market.simulate': async (a) => {
      const v = deps.policy.validate(a.policy)
      if (!v.ok) throw new ApiError('BadRequest', `market.simulate: invalid policy: ${issues(v.errors)}`)
      return await deps.policy.simulate(a.policy, a.lastN)
    },
    'policy.get': () => {
      const cur = store.currentPolicy()
      return { current: cur === undefined ? null : policyView(cur), history: store.policyHistory({ limit: 20 }).map(policyView) }
    },
    'policy.validate': (a) => deps.policy.validate(a.policy),
    'policy.save': (a) => {
      const v = deps.policy.validate(a.policy)
      if (!v.ok) throw new ApiError('BadRequest', `policy.save: invalid policy: ${issues(v.errors)}`)
      const version = deps.policy.save !== undefined ? deps.policy.save(a.policy, a.note) : store.savePolicy(a.policy, a.note)
      if (deps.policy.save === undefined) deps.policy.activate?.(version, a.policy)
      deps.events.emit('policy:saved', { version })
      const cur = store.currentPolicy()
      if (cur === undefined) throw new ApiError('Internal', 'policy was not stored')
      return policyView(cur)
    },
    'receipts.list': (a) => store.listReceipts(a).map((r) => receiptSummary(r, q.description(r.announcementId))),
    'receipts.get': (a) => {
      const r = store.getReceipt(a.cid)
      if (r === undefined) throw new ApiError('NotFound', `no receipt ${a.cid}`)
      let fields: JsonObject | null = null
      try {
        const decoded = cborToJson(decodeCbor(r.bytes))
        if (decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded)) fields = decoded
      } catch { fields = null }
      const { bytes, ...row } = r
      return { ...receiptSummary(row, q.description(r.announcementId)), fields, blockBase64: base64FromBytes(bytes), sizeBytes: bytes.length }
    },
    'receipts.verify': (a) => {
      const res = a.cid !== undefined ? verify(receiptBytes(a.cid), a.cid) : verify(bytesFromBase64(a.blockBase64 ?? ''))
      return res.ok
        ? { ok: true, cid: res.cid, executorDid: res.receipt.executor_did, status: res.receipt.status }
        : { ok: false, reason: res.reason, detail: res.detail }
    },
    'node.setAutoBid': async (a) => {
      await deps.node.setAutoBid(a.enabled)
      recentCache = undefined
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
    'settings.update': (a) => {
      const { errors } = checkSettingsPatch(a.patch, deps.node.machine?.())
      if (errors.length > 0) throw new ApiError('BadRequest', `settings.update: ${errors.map((e) => `${e.label}: ${e.message}`).join('; ')}`)
      return { ...deps.identity, ...deps.settings.update(a.patch), reachability: reachability() }
    },
    'settings.validate': (a) => {
      const { errors } = checkSettingsPatch(a.patch, deps.node.machine?.())
      return { ok: errors.length === 0, errors }
    },
    'node.setMachineState': (a) => {
      if (deps.node.setMachineState === undefined) throw new ApiError('BadRequest', 'node.setMachineState: this node does not take its machine state from the API')
      return deps.node.setMachineState(a)
    },
    'node.shutdown': (a) => {
      if (deps.node.shutdown === undefined) throw new ApiError('BadRequest', 'node.shutdown: this node cannot be stopped through the API (run it with `mesh-executor start`)')
      const r = deps.node.shutdown(a.graceSeconds)
      deps.events.emit('status:changed', status())
      return r
    },
    'logs.tail': async (a) => await tailLogs(deps.node.logDir?.(), a),
    'export.earnings': (a) => exportEarnings(a),
    'export.receipts': (a) => exportReceipts(a),
    'export.statement': (a) => exportStatement(a),
    'statement.verify': (a) => verifyStatementFile(a.text).view,
    'market.rate': (a) => marketRate(a)
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


