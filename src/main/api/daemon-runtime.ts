/**
 * The daemon's live state as the API service's NodeRuntime: what the machine offers and at what
 * price, the health facts (runtime, bootstrap, schedule, idle, battery, temperature, slots) from the
 * same rule table the auto-bidder uses, reachability, running jobs with live fuel, and a recent error.
 */
import { DISK_RESERVE_BYTES, describeSchedule, ownerWarnings, quote, RULE_TABLE, sellsForFree, type Policy, type RuleInput } from '../market/index.js'
import type { JobAnnouncementV1 } from '../../shared/protocol/index.js'
import type { Daemon } from '../daemon/index.js'
import { priceText, type OfferView, type PriceView, type ReachabilityView } from '../../shared/api/index.js'
import { reachabilityView } from './convert.js'
import type { NodeRuntime } from './deps.js'
import type { HealthFacts } from './health.js'

/** What the adapter learns from daemon events between two status reads. */
export interface DaemonLiveState {
  /** Live fuel of the running jobs (from job:progress). */
  fuel: Map<string, { fuelUsed: bigint, startedAt: number }>
  lastError: { text: string, at: number, benign: boolean } | undefined
  draining: boolean
  reachabilityChangedAt: number | null
  holePunched: number
}

export const createLiveState = (): DaemonLiveState => ({ fuel: new Map(), lastError: undefined, draining: false, reachabilityChangedAt: null, holePunched: 0 })

export interface DaemonRuntime {
  runtime(): NodeRuntime
  reachability(): ReachabilityView
}

type NodeRule = 'paused' | 'schedule' | 'idle' | 'battery' | 'thermal' | 'disk'

/** One node-level rule's verdict now, from the same rule table the auto-bidder uses (the announcement is not read by these rules). */
function verdict (daemon: Daemon, now: () => number, rule: NodeRule, policy: Policy): { ok: boolean, text: string } {
  const s = daemon.decisionSources
  const machine = s.machine?.()
  const guard = s.guard?.()
  const ctx = { now: now(), offer: s.offer(), runtimes: s.runtimes(), activeJobs: 0, ...(machine !== undefined ? { machine } : {}), ...(guard !== undefined ? { guard } : {}) }
  const input = { a: undefined as unknown as JobAnnouncementV1, policy, ctx, fuel: 0n, quote: quote(policy.pricing, 0n) } satisfies RuleInput
  return RULE_TABLE[rule].evaluate(input)
}

/** The latest reading (what the rules see), else the guard's last one. */
const cpuTemperature = (daemon: Daemon): number | null => daemon.decisionSources.machine?.()?.cpuTemperatureC ?? daemon.guard().thermal.tempC

function priceView (policy: Policy): PriceView {
  const p = policy.pricing
  const str = (b: bigint): string => b.toString()
  const view = {
    mode: p.mode,
    free: sellsForFree(p),
    fixed: p.mode === 'fixed' ? str(p.price) : null,
    floor: p.mode === 'floor_plus_rate' ? str(p.floor) : null,
    ratePerMillionFuel: p.mode === 'fixed' ? null : str(p.ratePerMillionFuel),
    examples: [1_000_000n, 100_000_000n, 10_000_000_000n].map((f) => ({ maxFuel: f.toString(), price: quote(p, f).price.toString() }))
  }
  return { ...view, text: priceText({ mode: p.mode, price: view.fixed, floor: view.floor, ratePerMillionFuel: view.ratePerMillionFuel }) }
}

function offerView (daemon: Daemon, policy: Policy): OfferView {
  const hw = daemon.hardware()
  const offer = daemon.offer()
  const gpusOffered = policy.offer.offerGpus !== false
  return {
    cpu: { offered: offer.cpu, machine: hw.cpuCores, model: hw.cpuModel },
    ramBytes: { offered: offer.ramBytes, machine: hw.ramBytes },
    diskBytes: { offered: offer.diskBytes ?? null, machineFree: daemon.decisionSources.machine?.()?.dataDirFreeBytes ?? hw.diskFreeBytes ?? null },
    gpus: hw.gpus.map((g) => ({ name: g.resourceName, model: g.model, vendor: g.vendor, vramBytes: g.vramBytes ?? null, offered: gpusOffered })),
    maxConcurrentJobs: policy.maxConcurrentJobs,
    price: priceView(policy),
    cpuTemperatureC: cpuTemperature(daemon)
  }
}

function healthFacts (daemon: Daemon, now: () => number, policy: Policy, offer: OfferView, peers: number): Partial<HealthFacts> {
  const runtimes = daemon.sandbox.runtimeIds()
  const tempC = cpuTemperature(daemon)
  const sched = policy.schedule !== undefined && policy.schedule.windows.length > 0 ? policy.schedule : undefined
  const idle = verdict(daemon, now, 'idle', policy)
  const battery = verdict(daemon, now, 'battery', policy)
  const thermal = verdict(daemon, now, 'thermal', policy)
  const tg = policy.thermalGuard
  const free = daemon.decisionSources.machine?.()?.dataDirFreeBytes
  return {
    diskFull: !verdict(daemon, now, 'disk', policy).ok && free !== undefined ? { freeBytes: free, neededBytes: DISK_RESERVE_BYTES } : null,
    runtimeUnavailable: runtimes.length === 0 ? daemon.sandbox.unavailableReason() ?? 'the sandbox is not available' : null,
    bootstrap: peers === 0 ? daemon.bootstrap() : { configured: daemon.bootstrap().configured, failures: [] },
    schedule: sched === undefined ? null : { inside: verdict(daemon, now, 'schedule', policy).ok, description: describeSchedule(sched), timezone: sched.timezone },
    onBattery: !battery.ok,
    notIdle: idle.ok ? null : idle.text,
    tooHot: !thermal.ok && tg !== undefined && tempC !== null ? { tempC, stopAboveC: tg.stopAboveC, resumeBelowC: tg.resumeBelowC } : null,
    slots: { active: daemon.store.countActiveJobs(), max: policy.maxConcurrentJobs },
    free: offer.price.free,
    priceText: offer.price.text
  }
}

export function createDaemonRuntime (daemon: Daemon, live: DaemonLiveState, opts: { now: () => number, errorTtlMs: number }): DaemonRuntime {
  const { now, errorTtlMs } = opts
  const reachability = (): ReachabilityView => reachabilityView(daemon.reachability(), {
    addrs: daemon.node.multiaddrs(),
    connections: daemon.node.connections(),
    holePunched: live.holePunched,
    changedAt: live.reachabilityChangedAt
  })
  const runtime = (): NodeRuntime => {
    const { policy } = daemon.effectivePolicy()
    const running = daemon.executor.runningJobs()
    const { fuel, lastError } = live
    for (const id of [...fuel.keys()]) if (!running.includes(id)) fuel.delete(id)
    const peers = daemon.node.connectedPeers().length
    // an ad that cannot be published for lack of peers is the "no peers" reason, not a node error
    const err = lastError !== undefined && now() - lastError.at < errorTtlMs && !(peers === 0 && lastError.benign) ? lastError.text : null
    const offer = offerView(daemon, policy)
    return {
      online: daemon.node.isStarted,
      peers,
      offer,
      health: healthFacts(daemon, now, policy, offer, peers),
      autoBid: policy.autoBid,
      pausedUntil: policy.pausedUntil ?? null,
      draining: live.draining,
      error: err,
      listenAddrs: daemon.node.multiaddrs(),
      region: daemon.region ?? null,
      reachability: reachability(),
      warnings: ownerWarnings(policy),
      policy: { version: daemon.policyInfo().version ?? null, source: daemon.policyInfo().source },
      running: running.map((id) => ({ announcementId: id, fuelUsed: fuel.get(id)?.fuelUsed ?? 0n, startedAt: fuel.get(id)?.startedAt ?? now() }))
    }
  }
  return { runtime, reachability }
}
