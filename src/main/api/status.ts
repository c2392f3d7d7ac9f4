/**
 * `node.status`: the node's state, its running jobs with live fuel, and the health check (why work
 * can or cannot come) from the runtime's facts, the market rate and the store's recent past.
 */
import { unknownReachability, type HealthView, type NodeState, type NodeStatus, type RunningJobView } from '../../shared/api/index.js'
import { amountStr } from './convert.js'
import { DAY, type ApiContext } from './context.js'
import type { NodeRuntime } from './deps.js'
import { computeHealth, type HealthFacts } from './health.js'
import { createRecentActivity, type RecentActivitySource } from './recent.js'

const ACTIVE = ['Assigned', 'Accepted', 'FetchingInputs', 'Running'] as const

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

export interface NodeStatusSource {
  status(): NodeStatus
  /** Forgets the cached recent activity (the next status reads the store again). */
  forgetRecent(): void
}

/** Our median quote vs what buyers paid per job (7 days), unless the runtime already says. */
function marketFacts (ctx: ApiContext, known: HealthFacts['market'] | undefined, t: number): HealthFacts['market'] {
  let market: HealthFacts['market'] = known ?? null
  if (market === null && ctx.deps.marketRate !== undefined) {
    const { summary } = ctx.marketSummary(t)
    const ours = ctx.q.medianQuote(t - 7 * DAY)
    if (summary.price !== null && ours !== null) market = { ours: ours.toString(), median: summary.price.median, p75: summary.price.p75, samples: summary.samples }
  }
  return market
}

function health (ctx: ApiContext, rt: NodeRuntime, runningCount: number, recent: RecentActivitySource, t: number): HealthView {
  const f = rt.health ?? {}
  const offer = rt.offer
  const market = marketFacts(ctx, f.market, t)
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
    diskFull: f.diskFull ?? null,
    slots: f.slots ?? { active: runningCount, max: offer?.maxConcurrentJobs ?? Math.max(1, runningCount) },
    reachability: (rt.reachability ?? unknownReachability()).state,
    free: f.free ?? offer?.price.free ?? false,
    priceText: f.priceText ?? offer?.price.text ?? 'your price',
    market
  }
  return computeHealth(facts, recent.read(t), t)
}

function runningJobs (ctx: ApiContext, rt: NodeRuntime): RunningJobView[] {
  const fuel = new Map(rt.running.map((r) => [r.announcementId, r]))
  return ctx.store.listJobs({ states: [...ACTIVE], limit: 100 }).map((j) => {
    const live = fuel.get(j.announcementId)
    const used = live === undefined ? 0n : BigInt(live.fuelUsed)
    return {
      announcementId: j.announcementId,
      originatorDid: j.originatorDid,
      description: ctx.q.description(j.announcementId),
      state: j.state,
      price: amountStr(j.price),
      fuelUsed: used.toString(),
      maxFuel: j.maxFuel.toString(),
      fuelFraction: j.maxFuel > 0n ? Math.min(1, Number((used * 10_000n) / j.maxFuel) / 10_000) : 0,
      startedAt: live?.startedAt ?? j.createdAt,
      timeoutSeconds: j.timeoutSeconds
    }
  })
}

export function createNodeStatus (ctx: ApiContext): NodeStatusSource {
  const recent = createRecentActivity(ctx)
  const { deps } = ctx
  const status = (): NodeStatus => {
    const rt = deps.node.status()
    const t = ctx.now()
    const running = runningJobs(ctx, rt)
    const h = health(ctx, rt, running.length, recent, t)
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
  return { status, forgetRecent: () => { recent.forget() } }
}
