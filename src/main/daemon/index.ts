/**
 * The executor daemon: the composition root shared by `mesh-executor start` (headless) and the
 * Electron shell. It calls one `setupX()` per feature, in dependency order, and owns shutdown.
 *
 *   data dir lock + store → identity → policy → hardware probe → sandbox → mesh node →
 *   executor (assignments, jobs, receipts) → auto-bidder (announcements → bids) → capability ads
 */
import '../polyfills.js'
import { createHash } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  loadOrCreateIdentityFile, peerIdFromDid, type Identity, type JobAnnouncementV1
} from '../../shared/protocol/index.js'
import { createMeshNode, TypedEmitter, type MeshNode, type NatOptions, type ReachabilityStatus } from '../mesh/index.js'
import { createSandbox, type Sandbox } from '../sandbox/index.js'
import { dataDirProblem, openStore, type Store } from '../store/index.js'
import {
  BidRefusedError, createAutoBidder, createBidSender, createIntakeQueue, createMachineGuard, DEFAULT_POLICY, storeDecisionSources, type BidSenderStats, type DecisionSources, policyToJson, validatePolicy,
  type AutoBidder, type GuardState, type MachineState, type Policy, type PolicyError
} from '../market/index.js'
import { createMarketRateCollector, type MarketRateCollector } from '../market-rate/index.js'
import {
  applyCaps, buildCapabilityAd, createAdCache, createAdPublisher, createMachineStateSampler, createTemperatureSampler, probeHardware, WASM_RUNTIME_ID,
  type AdCache, type Hardware, type MachineStateSampler, type Offer
} from '../probe/index.js'
import { createExecutor, createExecutorBlockStore, type Executor } from '../jobs/index.js'
import { openLogFile, type LogFile, type Logger, type LogLevel } from '../log/index.js'
import { logDaemonEvents, logMeshEvents, type MeshStats } from './log-bridge.js'

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
  'receipt:published': { announcementId: string, receiptCid: string, dhtPeers: number, direct: boolean }
  'capability:published': { recipients: number, offer: Offer }
  'policy:changed': { version: number }
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
  /** machine guard: CPU temperature and idle samples (thermal hysteresis, idle-only grace) */
  machineGuardMs: number
}

export const DEFAULT_TIMERS: Readonly<DaemonTimers> = {
  recoveryRetryMs: 30_000,
  progressStatusMs: 1000,
  sandboxProgressMs: 250,
  capabilityIntervalMs: 60_000,
  machineSampleMs: 30_000,
  heartbeatMs: 1000,
  bootstrapRetryMs: 30_000,
  machineGuardMs: 5000
}

/** A policy file or setting that does not validate. */
export class PolicyInvalidError extends Error {
  override name = 'PolicyInvalidError'
  constructor (readonly errors: PolicyError[]) {
    super(`invalid policy:\n${errors.map((e) => `  ${e.label} (${e.path}): ${e.message}`).join('\n')}`)
  }
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

const s = (v: bigint | number | undefined): string | undefined => v === undefined ? undefined : String(v)

/**
 * What the owner toggles from the dashboard or the tray: a pause (snooze) and auto-bid on/off. Kept in
 * the store's settings (key `runtime`), applied over the policy in force, and never a policy version.
 * `pausedUntil: null` means "resumed" (over a policy's own pausedUntil); absent keys leave the policy's value.
 */
export interface RuntimeState { autoBid?: boolean, pausedUntil?: number | null }
const RUNTIME_SETTING = 'runtime'

function loadRuntimeState (store: Store): RuntimeState {
  const v = store.getSetting(RUNTIME_SETTING)
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return {}
  const out: RuntimeState = {}
  if (typeof v.autoBid === 'boolean') out.autoBid = v.autoBid
  if (v.pausedUntil === null || typeof v.pausedUntil === 'number') out.pausedUntil = v.pausedUntil
  return out
}

/** The policy with the owner's runtime state over it. */
export function withRuntimeState (p: Policy, r: RuntimeState): Policy {
  if (r.autoBid === undefined && r.pausedUntil === undefined) return p
  return { ...p, autoBid: r.autoBid ?? p.autoBid, pausedUntil: r.pausedUntil === undefined ? p.pausedUntil : r.pausedUntil ?? undefined }
}

export async function startDaemon (o: DaemonOptions): Promise<Daemon> {
  const dataDir = resolve(o.dataDir)
  const events = o.events ?? new TypedEmitter<DaemonEvents>()
  const clock = o.now ?? Date.now
  const timers: DaemonTimers = { ...DEFAULT_TIMERS, ...o.timers }
  const cleanups: Array<() => Promise<void> | void> = []
  const fail = (where: string) => (err: unknown): void => {
    events.emit('daemon:error', { where, error: err instanceof Error ? err.message : String(err) })
  }

  // a data dir that cannot be used (a file in the way, read-only, full) is one plain DataDirUnusable line
  const unusable = (err: unknown): never => { throw dataDirProblem(dataDir, err) ?? err }
  await mkdir(dataDir, { recursive: true, mode: 0o700 }).catch(unusable)
  // setupStore: the store takes the data-dir lock (DataDirLocked when another instance holds it)
  const store = openStore(dataDir)
  cleanups.push(() => { store.close() })
  // setupLog: after the lock, so a second instance never writes into this one's log
  let logFile: LogFile | undefined
  try {
    logFile = o.log === undefined ? await openLogFile(dataDir, { level: o.logLevel, onError: (err) => { events.emit('daemon:error', { where: 'log file', error: err.message }) } }) : undefined
  } catch (err) {
    store.close()
    unusable(err)
  }
  const log = o.log ?? (logFile as LogFile).log
  const stopLogging = logDaemonEvents(events, log)
  // (cleanups run last-first: the log is the very last thing closed, after its "stopped" line)
  cleanups.unshift(() => { stopLogging() })
  if (logFile !== undefined) cleanups.unshift(async () => { await logFile.close() })
  try {
    // setupIdentity
    const keyPath = join(dataDir, 'identity.json')
    const identity = await loadOrCreateIdentityFile(keyPath).catch(unusable)
    try {
      store.setIdentityRef({ keyPath, did: identity.did, peerId: identity.peerId })
    } catch (err) { unusable(err) }

    // setupPolicy
    const fileResult = o.policy !== undefined ? applyPolicyFile(store, o.policy, o.policySource, clock()) : undefined
    let current = loadPolicy(store)
    // a --policy file that changed is the owner's new word: it also replaces earlier dashboard toggles
    if (fileResult?.applied === true) store.setSetting(RUNTIME_SETTING, {})
    let runtimeState = loadRuntimeState(store)
    const effective = (): { policy: Policy, version: number | undefined } => ({ policy: withRuntimeState(current.policy, runtimeState), version: current.version })
    const policyInfo = (): ActivePolicyInfo => ({
      version: current.version,
      source: current.version === undefined ? 'built-in default' : store.getPolicyVersion(current.version)?.note ?? 'unknown',
      ...(fileResult !== undefined ? { file: fileResult } : {})
    })
    const region = o.region ?? (typeof store.getSetting('region') === 'string' ? store.getSetting('region') as string : undefined)
    if (o.region !== undefined) store.setSetting('region', o.region)

    // setupProbe
    const hardware = await probeHardware({ dataDir, log })
    const machine: MachineStateSampler = createMachineStateSampler({ userIdleSeconds: o.userIdleSeconds, onBattery: o.onBattery, batteryIntervalMs: timers.machineSampleMs })
    cleanups.push(() => { machine.close() })
    // the machine guard (thermal hysteresis, idle-only grace) is fed every few seconds; see setupAutoBidder
    const temperature = createTemperatureSampler({ intervalMs: timers.machineGuardMs })
    cleanups.push(() => { temperature.close() })
    const guard = createMachineGuard(clock())
    const sampleMachine = (): MachineState => {
      const m = machine.sample()
      const t = temperature.current()
      return t === null ? m : { ...m, cpuTemperatureC: t }
    }
    const ads = createAdCache()

    // setupSandbox
    // one Wasmtime host process per job; compiled modules cached in the data dir (docs/SANDBOX.md)
    const sandbox = createSandbox({ progressIntervalMs: timers.sandboxProgressMs, cacheDir: join(dataDir, 'wasm-cache'), log })
    // advertised runtimes: wasi-p1-fuel-v1 + wasmtime-<version>; none (so no bids) without the host binary
    const runtimes = sandbox.runtimeIds()
    if (runtimes.length === 0) events.emit('daemon:error', { where: 'sandbox', error: sandbox.unavailableReason() ?? 'sandbox unavailable' })
    cleanups.push(async () => { await sandbox.close() })

    // setupMesh
    const blocks = createExecutorBlockStore({ store, dataDir })
    const bootstrapPeers = o.bootstrap ?? savedList(store, 'bootstrapPeers') ?? []
    const node = await createMeshNode({
      identity, listen: o.listen ?? savedList(store, 'listenAddrs') ?? ['/ip4/0.0.0.0/tcp/0'], bootstrap: bootstrapPeers, lan: o.lan ?? false,
      regions: region !== undefined ? [region] : [], blockStore: blocks, nat: o.nat,
      heartbeatMs: timers.heartbeatMs, bootstrapRetryMs: timers.bootstrapRetryMs, log
    })
    const meshLog = logMeshEvents(node.events, log)
    cleanups.push(() => { meshLog.stop() })
    node.events.on('reachability:changed', (e) => { events.emit('reachability:changed', e) })
    node.events.on('connection:opened', (e) => { events.emit('connection:opened', e) })
    // recent bootstrap dial failures, for the dashboard's "why no work" (heard from the first dial on)
    const bootstrapFailures: Array<{ addr: string, error: string, at: number }> = []
    node.events.on('bootstrap:failed', (e) => {
      bootstrapFailures.unshift({ addr: e.addr, error: e.error, at: clock() })
      if (bootstrapFailures.length > 20) bootstrapFailures.length = 20
    })
    // what buyers pay: public receipts heard on the receipts topic, fetched bounded and verified
    const marketRate = createMarketRateCollector({ node, ownDid: identity.did, dataDir, log })
    cleanups.push(async () => { await marketRate.close() })
    await node.start()
    cleanups.push(async () => { await node.stop() })

    // setupExecutor
    const executor = createExecutor({
      node, store, identity, sandbox, blocks, runtime: WASM_RUNTIME_ID,
      maxConcurrent: () => current.policy.maxConcurrentJobs, memoryLimitBytes: o.memoryLimitBytes, now: clock,
      recoveryRetryMs: timers.recoveryRetryMs, progressStatusMs: timers.progressStatusMs
    })
    executor.events.on('job:accepted', (e) => { events.emit('job:accepted', e) })
    executor.events.on('job:refused', (e) => { events.emit('job:refused', e) })
    executor.events.on('job:state', (e) => { events.emit('job:state', e) })
    executor.events.on('job:progress', (e) => { events.emit('job:progress', { announcementId: e.announcementId, fuelUsed: String(e.fuelUsed), maxFuel: String(e.maxFuel) }) })
    executor.events.on('job:finished', (e) => { events.emit('job:finished', { ...e, fuelUsed: String(e.fuelUsed), price: s(e.price) }) })
    executor.events.on('receipt:published', (e) => { events.emit('receipt:published', e) })
    executor.events.on('job:notify-pending', (e) => { events.emit('job:notify-pending', e) })
    executor.events.on('error:job', (e) => { events.emit('daemon:error', { where: `job ${e.announcementId}`, error: e.error }) })
    await executor.start()

    // setupAutoBidder
    let offer = applyCaps(hardware, current.policy.offer)
    let stopping = false
    // bids go out bounded and earliest-closing first; an originator we cannot reach costs one short try
    const bidSender = createBidSender({
      connected: (peerId) => node.connections(peerId).length > 0,
      deliver: async (peerId, bytes, { signal, cold }) => {
        const answer = await node.sendDirect(peerId, bytes, cold ? { signal, attempts: 1, timeoutMs: 5000 } : { signal })
        if (!answer.ok) throw new BidRefusedError(`originator refused the bid: ${answer.error}${answer.message !== undefined ? ` (${answer.message})` : ''}`)
      }
    })
    cleanups.push(() => { bidSender.close() })
    // what decisions are made from: the live auto-bidder and the dashboard's simulator use the same
    const decisionSources = storeDecisionSources(store, {
      offer: () => offer,
      runtimes: () => runtimes,
      runtimeUnavailable: () => sandbox.unavailableReason(),
      machine: sampleMachine,
      guard: () => guard.state(),
      region: () => region
    })
    const observeMachine = (): void => { guard.observe(sampleMachine(), effective().policy, offer.cpu, clock()) }
    observeMachine()
    const guardTimer = setInterval(observeMachine, timers.machineGuardMs)
    guardTimer.unref()
    cleanups.push(() => { clearInterval(guardTimer) })
    const autoBidder = createAutoBidder({
      store, identity, sources: decisionSources,
      getPolicy: () => stopping ? { policy: { ...effective().policy, autoBid: false }, version: current.version } : effective(),
      unreachable: (peerId) => bidSender.cannotSend(peerId),
      sendBid: async (peerId, bytes, { announcementId, closesAt, signal }) => {
        await bidSender.send({ announcementId, originatorPeerId: peerId, bytes, closesAt, signal })
      },
      now: clock
    })
    autoBidder.on('announcement:decided', (e) => {
      events.emit('announcement:decided', { announcementId: e.announcementId, originatorDid: e.originatorDid, bid: e.decision.bid, price: s(e.decision.price), reasons: e.decision.reasons })
    })
    autoBidder.on('bid:sent', (e) => { events.emit('bid:sent', { ...e, price: String(e.price) }) })
    autoBidder.on('bid:failed', (e) => { events.emit('bid:failed', e) })
    // announcements are evaluated in short slices, connected originators first, so a flood never
    // holds up the streams of a real buyer, job statuses or the dashboard
    const intake = createIntakeQueue<{ body: JobAnnouncementV1, raw: Uint8Array, topicRegion?: string, receivedAt: number }>({
      process: (a) => autoBidder.handleAnnouncement(a.body, { raw: a.raw, topicRegion: a.topicRegion, receivedAt: a.receivedAt }),
      urgent: (a) => node.connections(peerIdFromDid(a.body.originator_did)).length > 0,
      onError: fail('auto-bidder')
    })
    cleanups.push(() => { intake.clear() })
    node.events.on('message:received', (e) => {
      const m = e.message
      if (m.variant === 'JobAnnouncementV1') {
        const topicRegion = e.topic !== undefined ? /\/region\/([a-z0-9-]+)$/.exec(e.topic)?.[1] : undefined
        intake.push({ body: m.body, raw: e.bytes, topicRegion, receivedAt: clock() })
      } else if (m.variant === 'CapabilityAdvertisementV1') {
        ads.put(m.body)
      }
    })

    // setupCapabilityAds: at start, every interval, when the offer changes, and soon after a newcomer subscribes (profile 4.1)
    const adPublisher = createAdPublisher({
      build: () => {
        const ad = buildCapabilityAd({ identity, hardware, caps: current.policy.offer, region, alias: o.alias, runtimes, now: clock() })
        offer = ad.offer
        return ad.bytes
      },
      publish: async (bytes) => {
        const r = await node.publishCapability(bytes, region)
        events.emit('capability:published', { recipients: r.recipients, offer })
      },
      intervalMs: timers.capabilityIntervalMs
    })
    adPublisher.on('ad:failed', (e) => { events.emit('daemon:error', { where: `capability ad (${e.reason})`, error: e.error }) })
    node.events.on('capability:subscribed', () => { adPublisher.peerSubscribed() })
    adPublisher.start()
    cleanups.push(() => { adPublisher.stop() })
    const publishCapability = async (): Promise<void> => { adPublisher.changed() }

    let stopped: Promise<void> | undefined
    const daemon: Daemon = {
      identity, store, node, executor, autoBidder, ads, sandbox, events, dataDir, region,
      policy: () => current,
      policyInfo,
      setPolicy (json, note) {
        const v = validatePolicy(json)
        if (!v.ok) throw new PolicyInvalidError(v.errors)
        const before = JSON.stringify(current.policy.offer)
        const version = store.savePolicy(policyToJson(v.policy), note)
        current = { policy: v.policy, version }
        events.emit('policy:changed', { version })
        if (JSON.stringify(v.policy.offer) !== before) adPublisher.changed()
        return version
      },
      offer: () => offer,
      hardware: () => hardware,
      reachability: () => node.reachability(),
      publishCapability,
      bidStats: () => bidSender.stats(),
      decisionSources,
      effectivePolicy: effective,
      runtimeState: () => ({ ...runtimeState }),
      setRuntimeState (patch) {
        runtimeState = { ...runtimeState, ...patch }
        store.setSetting(RUNTIME_SETTING, { ...runtimeState })
        observeMachine()
      },
      bootstrap: () => ({ configured: [...bootstrapPeers], failures: bootstrapFailures.map((f) => ({ ...f })) }),
      guard: () => guard.state(),
      marketRate,
      meshStats: () => meshLog.stats(),
      log,
      logDir: logFile?.dir,
      async stop (so = {}) {
        stopped ??= (async () => {
          stopping = true
          events.emit('daemon:stopping', { runningJobs: executor.runningJobs().length })
          await executor.stop({ graceMs: so.graceMs ?? 30_000 }).catch(fail('executor stop'))
          for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(fail('shutdown'))
          events.emit('daemon:stopped', {})
        })()
        await stopped
      }
    }
    events.emit('daemon:ready', { did: identity.did, peerId: identity.peerId, multiaddrs: node.multiaddrs(), dataDir, policyVersion: current.version, policy: policyInfo() })
    return daemon
  } catch (err) {
    log.error({ sub: 'daemon', err }, 'start-up failed')
    // undo what started; the start-up error is the one that matters, later ones are only logged
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch((e: unknown) => { log.warn({ sub: 'daemon', err: e }, 'cleaning up after a failed start-up failed') })
    throw err
  }
}

/** The setting that remembers the last --policy content applied (so an unchanged file is not re-applied). */
const POLICY_FILE_SETTING = 'policyFile.lastApplied'

/**
 * Applies a --policy file as a new version only when its (normalised) content differs from the
 * content last applied from a file; returns what it did. Validation errors throw PolicyInvalidError.
 */
function applyPolicyFile (store: Store, json: unknown, file: string | undefined, at: number): { path: string, applied: boolean, appliedVersion: number } {
  const source = file ?? 'the policy given at start-up'
  const v = validatePolicy(json)
  if (!v.ok) throw new PolicyInvalidError(v.errors)
  const normalised = policyToJson(v.policy)
  const digest = createHash('sha256').update(JSON.stringify(normalised)).digest('hex')
  const last = store.getSetting(POLICY_FILE_SETTING)
  const lastRec = last !== null && typeof last === 'object' && !Array.isArray(last) ? last : undefined
  if (lastRec !== undefined && lastRec.digest === digest && typeof lastRec.version === 'number' && store.getPolicyVersion(lastRec.version) !== undefined) {
    return { path: source, applied: false, appliedVersion: lastRec.version }
  }
  const cur = store.currentPolicy()
  // the same content is already in force (e.g. first start after an upgrade): no new version
  const version = cur !== undefined && JSON.stringify(cur.policy) === JSON.stringify(normalised)
    ? cur.version
    : store.savePolicy(normalised, file !== undefined ? `from --policy ${file}` : 'given at start-up')
  store.setSetting(POLICY_FILE_SETTING, { digest, version, path: source, at })
  return { path: source, applied: version !== cur?.version, appliedVersion: version }
}

/** A list of strings the dashboard's Settings saved (listen addresses, bootstrap peers), if any. */
function savedList (store: Store, key: string): string[] | undefined {
  const v = store.getSetting(key)
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? v as string[] : undefined
}

function loadPolicy (store: Store): { policy: Policy, version: number | undefined } {
  const row = store.currentPolicy()
  if (row === undefined) return { policy: DEFAULT_POLICY, version: undefined }
  const v = validatePolicy(row.policy)
  if (!v.ok) throw new PolicyInvalidError(v.errors)
  return { policy: v.policy, version: row.version }
}
