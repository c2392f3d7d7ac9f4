/**
 * Binds the API to a running executor daemon (src/main/daemon): node status from the mesh node
 * and executor, auto-bid and pause as policy changes (the policy is the single source of truth
 * the auto-bidder reads), the simulator on the market engine with the daemon's live context,
 * resource caps as the policy's offer, and daemon events translated into API events.
 *
 *   const host = createDaemonHost()                         // before startDaemon: its callbacks read it
 *   const daemon = await startDaemon({ …, userIdleSeconds: host.userIdleSeconds, onBattery: host.onBattery })
 *   const { api, dispose } = createDaemonApi(daemon, { host })
 *   const ui = await startUiServer({ api, rendererDir })   // what the browser and the desktop shell use
 */
import { describeSchedule, ownerWarnings, policyToJson, quote, RULE_TABLE, sellsForFree, type Policy, type RuleInput } from '../market/index.js'
import { signBytes, type JobAnnouncementV1 } from '../../shared/protocol/index.js'
import type { Daemon } from '../daemon/index.js'
import { priceText, type JsonObject, type MachineStateArgs, type MachineStateView, type OfferView, type PriceView, type ReachabilityView } from '../../shared/api/index.js'
import type { HealthFacts } from './health.js'
import { reachabilityView } from './convert.js'
import { createApiEventHub, type ApiEventHub } from './events.js'
import { createMarketPolicyEngine } from './market-engine.js'
import { createApiService, type ApiService, type NodeRuntime, type SettingsBackend, type SettingsBase } from './service.js'
import { createStoreSettings } from './settings.js'

export interface DaemonApiOptions {
  version?: string
  now?: () => number
  /** How long a daemon error is shown as the node's state (default 10 min). */
  errorTtlMs?: number
  /** The process hosting the daemon: takes node.setMachineState and node.shutdown (without it both answer BadRequest). */
  host?: DaemonHost
}

/**
 * What the process running the daemon (`mesh-executor start`) shares with its API: the machine state a
 * host reports (the desktop shell sends powerMonitor's idle time and battery state with
 * node.setMachineState; startDaemon's `userIdleSeconds`/`onBattery` callbacks read it) and the request
 * to stop (node.shutdown; the start command awaits `shutdownRequested` next to SIGINT/SIGTERM).
 */
export interface DaemonHost {
  /** For startDaemon: the last reported idle time, undefined when unknown or expired. */
  userIdleSeconds(): number | undefined
  /** For startDaemon: the last reported battery state, undefined when unknown or expired. */
  onBattery(): boolean | undefined
  setMachineState(state: MachineStateArgs): MachineStateView
  /** Resolves once a stop was requested, with the grace asked for (undefined: the daemon's own). */
  readonly shutdownRequested: Promise<{ graceSeconds: number | undefined }>
  requestShutdown(graceSeconds?: number): void
  readonly stopRequested: boolean
  /** The grace the daemon uses when a request names none (its --grace), in seconds. */
  readonly defaultGraceSeconds: number
}

export interface DaemonHostOptions {
  /** The daemon's own grace (--grace), reported by node.shutdown when the request names none. Default 30. */
  graceSeconds?: number
  /** Reported values count as unknown this long after they were set (default 120 s; the desktop shell refreshes every 15 s). */
  machineStateTtlMs?: number
  now?: () => number
}

export function createDaemonHost (opts: DaemonHostOptions = {}): DaemonHost {
  const now = opts.now ?? Date.now
  const ttl = opts.machineStateTtlMs ?? 120_000
  let state: { idle: number | null, battery: boolean | null, at: number } = { idle: null, battery: null, at: 0 }
  const fresh = (): boolean => now() - state.at < ttl
  let requested = false
  let resolveShutdown: (v: { graceSeconds: number | undefined }) => void = () => {}
  const shutdownRequested = new Promise<{ graceSeconds: number | undefined }>((resolve) => { resolveShutdown = resolve })
  return {
    userIdleSeconds: () => fresh() && state.idle !== null ? state.idle : undefined,
    onBattery: () => fresh() && state.battery !== null ? state.battery : undefined,
    setMachineState (s) {
      state = { idle: s.userIdleSeconds, battery: s.onBattery, at: now() }
      return { userIdleSeconds: s.userIdleSeconds, onBattery: s.onBattery, expiresAt: s.userIdleSeconds === null && s.onBattery === null ? null : state.at + ttl }
    },
    shutdownRequested,
    requestShutdown (graceSeconds) {
      if (requested) return
      requested = true
      // let the HTTP answer to node.shutdown leave before the start command closes the UI server
      setTimeout(() => { resolveShutdown({ graceSeconds }) }, 100)
    },
    get stopRequested () { return requested },
    defaultGraceSeconds: opts.graceSeconds ?? 30
  }
}

export interface DaemonApi {
  api: ApiService
  events: ApiEventHub
  dispose(): void
}

export function createDaemonApi (daemon: Daemon, opts: DaemonApiOptions = {}): DaemonApi {
  const now = opts.now ?? Date.now
  const errorTtl = opts.errorTtlMs ?? 600_000
  const host = opts.host
  const events = createApiEventHub()
  const fuel = new Map<string, { fuelUsed: bigint, startedAt: number }>()
  let lastError: { text: string, at: number, benign: boolean } | undefined
  let draining = false
  let reachabilityChangedAt: number | null = null
  let holePunched = 0

  const currentJson = (): JsonObject => policyToJson(daemon.policy().policy) as JsonObject


  /** One node-level rule's verdict now, from the same rule table the auto-bidder uses (the announcement is not read by these rules). */
  const verdict = (rule: 'paused' | 'schedule' | 'idle' | 'battery' | 'thermal', policy: Policy): { ok: boolean, text: string } => {
    const s = daemon.decisionSources
    const machine = s.machine?.()
    const guard = s.guard?.()
    const ctx = { now: now(), offer: s.offer(), runtimes: s.runtimes(), activeJobs: 0, ...(machine !== undefined ? { machine } : {}), ...(guard !== undefined ? { guard } : {}) }
    const input = { a: undefined as unknown as JobAnnouncementV1, policy, ctx, fuel: 0n, quote: quote(policy.pricing, 0n) } satisfies RuleInput
    return RULE_TABLE[rule].evaluate(input)
  }

  /** The latest reading (what the rules see), else the guard's last one. */
  const cpuTemperature = (): number | null => daemon.decisionSources.machine?.()?.cpuTemperatureC ?? daemon.guard().thermal.tempC

  const priceView = (policy: Policy): PriceView => {
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

  const offerView = (policy: Policy): OfferView => {
    const hw = daemon.hardware()
    const offer = daemon.offer()
    const gpusOffered = policy.offer.offerGpus !== false
    return {
      cpu: { offered: offer.cpu, machine: hw.cpuCores, model: hw.cpuModel },
      ramBytes: { offered: offer.ramBytes, machine: hw.ramBytes },
      diskBytes: { offered: offer.diskBytes ?? null, machineFree: hw.diskFreeBytes ?? null },
      gpus: hw.gpus.map((g) => ({ name: g.resourceName, model: g.model, vendor: g.vendor, vramBytes: g.vramBytes ?? null, offered: gpusOffered })),
      maxConcurrentJobs: policy.maxConcurrentJobs,
      price: priceView(policy),
      cpuTemperatureC: cpuTemperature()
    }
  }

  const healthFacts = (policy: Policy, offer: OfferView, peers: number): Partial<HealthFacts> => {
    const runtimes = daemon.sandbox.runtimeIds()
    const tempC = cpuTemperature()
    const sched = policy.schedule !== undefined && policy.schedule.windows.length > 0 ? policy.schedule : undefined
    const idle = verdict('idle', policy)
    const battery = verdict('battery', policy)
    const thermal = verdict('thermal', policy)
    const tg = policy.thermalGuard
    return {
      runtimeUnavailable: runtimes.length === 0 ? daemon.sandbox.unavailableReason() ?? 'the sandbox is not available' : null,
      bootstrap: peers === 0 ? daemon.bootstrap() : { configured: daemon.bootstrap().configured, failures: [] },
      schedule: sched === undefined ? null : { inside: verdict('schedule', policy).ok, description: describeSchedule(sched), timezone: sched.timezone },
      onBattery: !battery.ok,
      notIdle: idle.ok ? null : idle.text,
      tooHot: !thermal.ok && tg !== undefined && tempC !== null ? { tempC, stopAboveC: tg.stopAboveC, resumeBelowC: tg.resumeBelowC } : null,
      slots: { active: daemon.store.countActiveJobs(), max: policy.maxConcurrentJobs },
      free: offer.price.free,
      priceText: offer.price.text
    }
  }

  const reachability = (): ReachabilityView => reachabilityView(daemon.reachability(), {
    addrs: daemon.node.multiaddrs(),
    connections: daemon.node.connections(),
    holePunched,
    changedAt: reachabilityChangedAt
  })

  const runtime = (): NodeRuntime => {
    const { policy } = daemon.effectivePolicy()
    const running = daemon.executor.runningJobs()
    for (const id of [...fuel.keys()]) if (!running.includes(id)) fuel.delete(id)
    const peers = daemon.node.connectedPeers().length
    // an ad that cannot be published for lack of peers is the "no peers" reason, not a node error
    const err = lastError !== undefined && now() - lastError.at < errorTtl && !(peers === 0 && lastError.benign) ? lastError.text : null
    const offer = offerView(policy)
    return {
      online: daemon.node.isStarted,
      peers,
      offer,
      health: healthFacts(policy, offer, peers),
      autoBid: policy.autoBid,
      pausedUntil: policy.pausedUntil ?? null,
      draining,
      error: err,
      listenAddrs: daemon.node.multiaddrs(),
      region: daemon.region ?? null,
      reachability: reachability(),
      warnings: ownerWarnings(policy),
      policy: { version: daemon.policyInfo().version ?? null, source: daemon.policyInfo().source },
      running: running.map((id) => ({ announcementId: id, fuelUsed: fuel.get(id)?.fuelUsed ?? 0n, startedAt: fuel.get(id)?.startedAt ?? now() }))
    }
  }

  const base = createStoreSettings(daemon.store, {
    dataDir: daemon.dataDir,
    region: daemon.region ?? null,
    listenAddrs: daemon.node.multiaddrs(),
    bootstrapPeers: daemon.bootstrap().configured,
    caps: { cpu: null, ramBytes: null, diskBytes: null, maxConcurrentJobs: null },
    startAtLogin: false,
    startMinimized: false
  })
  const withCaps = (v: SettingsBase): SettingsBase => {
    const { policy } = daemon.policy()
    const offer = daemon.offer()
    return {
      ...v,
      caps: {
        cpu: policy.offer.cpuCores ?? offer.cpu,
        ramBytes: policy.offer.ramBytes ?? offer.ramBytes,
        diskBytes: policy.offer.diskBytes ?? offer.diskBytes ?? null,
        maxConcurrentJobs: policy.maxConcurrentJobs
      },
      restartRequired: ['region', 'listenAddrs', 'bootstrapPeers', 'dataDir']
    }
  }
  const settings: SettingsBackend = {
    get: () => withCaps(base.get()),
    update (patch) {
      const { caps, ...rest } = patch
      const v = base.update(rest)
      if (caps !== undefined) {
        // the caps are the policy's offer: a new version only when they change
        const p = currentJson()
        const before = JSON.stringify([p.offer, p.maxConcurrentJobs])
        const offer = (typeof p.offer === 'object' && p.offer !== null && !Array.isArray(p.offer) ? { ...p.offer } : {}) as JsonObject
        const put = (k: string, x: number | null | undefined): void => { if (x === null) delete offer[k]; else if (x !== undefined) offer[k] = x }
        put('cpuCores', caps.cpu)
        put('ramBytes', caps.ramBytes)
        put('diskBytes', caps.diskBytes)
        p.offer = offer
        if (caps.maxConcurrentJobs !== undefined && caps.maxConcurrentJobs !== null) p.maxConcurrentJobs = caps.maxConcurrentJobs
        if (JSON.stringify([p.offer, p.maxConcurrentJobs]) !== before) daemon.setPolicy(p, 'resource limits from Settings')
      }
      return withCaps(v)
    }
  }

  const engine = createMarketPolicyEngine({
    store: daemon.store,
    sources: daemon.decisionSources
  })

  const api = createApiService({
    store: daemon.store,
    identity: { did: daemon.identity.did, peerId: daemon.identity.peerId },
    node: {
      status: runtime,
      // runtime state, not policy versions
      setAutoBid: (on) => { daemon.setRuntimeState({ autoBid: on }) },
      pauseUntil: (until) => { daemon.setRuntimeState({ pausedUntil: until }) },
      machine: () => {
        const hw = daemon.hardware()
        return { cpuCores: hw.cpuCores, ramBytes: hw.ramBytes, diskFreeBytes: hw.diskFreeBytes ?? null }
      },
      logDir: () => daemon.logDir,
      ...(host !== undefined
        ? {
            setMachineState: (st: MachineStateArgs) => host.setMachineState(st),
            shutdown: (graceSeconds: number | undefined) => {
              const runningJobs = daemon.executor.runningJobs().length
              host.requestShutdown(graceSeconds)
              draining = true
              return { graceSeconds: graceSeconds ?? host.defaultGraceSeconds, runningJobs }
            }
          }
        : {})
    },
    policy: { ...engine, save: (p, note) => daemon.setPolicy(p, note ?? 'saved in the dashboard') },
    settings,
    events,
    sign: (bytes) => signBytes(daemon.identity, bytes),
    marketRate: daemon.marketRate,
    now,
    ...(opts.version !== undefined ? { version: opts.version } : {})
  })

  const status = (): void => { events.emit('status:changed', api.status()) }
  const offs = [
    daemon.events.on('announcement:decided', (e) => {
      events.emit('announcement:decided', { announcementId: e.announcementId, decision: e.bid ? 'bid' : 'no_bid', firstFailedRule: e.reasons.find((r) => !r.ok)?.rule ?? null, at: now() })
    }),
    daemon.events.on('job:state', (e) => {
      const job = daemon.store.getJob(e.announcementId)
      if (job === undefined) return
      if (job.state === 'Running' && !fuel.has(e.announcementId)) fuel.set(e.announcementId, { fuelUsed: 0n, startedAt: now() })
      events.emit('job:updated', { announcementId: e.announcementId, state: job.state, failureReason: job.failureReason ?? null, at: now() })
      status()
    }),
    daemon.events.on('job:progress', (e) => {
      const used = BigInt(e.fuelUsed)
      const max = BigInt(e.maxFuel)
      fuel.set(e.announcementId, { fuelUsed: used, startedAt: fuel.get(e.announcementId)?.startedAt ?? now() })
      events.emit('job:progress', { announcementId: e.announcementId, fuelUsed: e.fuelUsed, maxFuel: e.maxFuel, fuelFraction: max > 0n ? Math.min(1, Number((used * 10_000n) / max) / 10_000) : 0, at: now() })
    }),
    daemon.events.on('job:finished', (e) => {
      fuel.delete(e.announcementId)
      const job = daemon.store.getJob(e.announcementId)
      if (job !== undefined) events.emit('job:updated', { announcementId: e.announcementId, state: job.state, failureReason: job.failureReason ?? null, at: now() })
      events.emit('receipt:stored', { cid: e.receiptCid, announcementId: e.announcementId })
      if (e.status === 'CompletedSuccessfully') events.emit('earnings:changed', { announcementId: e.announcementId, amount: e.price ?? '0' })
      status()
    }),
    daemon.events.on('policy:changed', (e) => {
      events.emit('policy:saved', { version: e.version })
      status()
    }),
    daemon.events.on('daemon:error', (e) => {
      lastError = { text: `${e.where}: ${e.error}`, at: now(), benign: e.where.startsWith('capability ad') }
      status()
    }),
    daemon.events.on('reachability:changed', () => {
      reachabilityChangedAt = now()
      events.emit('reachability:changed', reachability())
      status()
    }),
    daemon.events.on('connection:opened', (e) => {
      // direct connections come and go all the time; relayed ones and hole-punch upgrades change what the UI shows
      if (!e.relayed && !e.upgraded) return
      if (e.upgraded) holePunched++
      events.emit('reachability:changed', reachability())
    }),
    daemon.events.on('daemon:stopping', () => {
      draining = true
      status()
    })
  ]
  return {
    api,
    events,
    dispose () { for (const off of offs) off() }
  }
}
