/**
 * The daemon's start-up steps, one per feature, in dependency order (startDaemon calls them). Each
 * registers what must be undone in `ctx.cleanups` (run last-first at stop or after a failed start).
 */
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { loadOrCreateIdentityFile, peerIdFromDid, type Identity, type JobAnnouncementV1 } from '../../shared/protocol/index.js'
import { createMeshNode, parseTopic, type TypedEmitter, type MeshNode } from '../mesh/index.js'
import { createSandbox, type Sandbox } from '../sandbox/index.js'
import { dataDirProblem, openStore, type Store } from '../store/index.js'
import {
  BidRefusedError, createAutoBidder, createBidSender, createIntakeQueue, createMachineGuard, storeDecisionSources,
  type AutoBidder, type BidSender, type DecisionSources, type MachineGuard, type MachineState
} from '../market/index.js'
import { createMarketRateCollector, type MarketRateCollector } from '../market-rate/index.js'
import {
  applyCaps, buildCapabilityAd, createAdPublisher, createDiskSpaceSampler, createMachineStateSampler, isDiskFullError, createTemperatureSampler, probeHardware, WASM_RUNTIME_ID,
  type AdCache, type AdPublisher, type Hardware, type Offer
} from '../probe/index.js'
import { createExecutor, createExecutorBlockStore, type Executor } from '../jobs/index.js'
import { openLogFile, type LogFile, type Logger } from '../log/index.js'
import { logDaemonEvents, logMeshEvents, type MeshLog } from './log-bridge.js'
import { savedList, type PolicyState } from './policy-state.js'
import type { DaemonEvents, DaemonOptions, DaemonTimers } from './types.js'

export type Cleanup = () => Promise<void> | void

/** What every step shares. */
export interface Ctx {
  readonly o: DaemonOptions
  readonly dataDir: string
  readonly events: TypedEmitter<DaemonEvents>
  readonly clock: () => number
  readonly timers: DaemonTimers
  readonly cleanups: Cleanup[]
  readonly log: Logger
  readonly logFile: LogFile | undefined
  readonly store: Store
  /** reports an error of a background task as daemon:error */
  fail(where: string): (err: unknown) => void
}

const str = (v: bigint | number | undefined): string | undefined => v === undefined ? undefined : String(v)

/** Data dir, store (with its lock), log file. A data dir that cannot be used is one plain DataDirUnusable error. */
export async function setupStorage (o: DaemonOptions, events: TypedEmitter<DaemonEvents>, timers: DaemonTimers): Promise<Ctx> {
  const dataDir = resolve(o.dataDir)
  const unusable = (err: unknown): never => { throw dataDirProblem(dataDir, err) ?? err }
  await mkdir(dataDir, { recursive: true, mode: 0o700 }).catch(unusable)
  // the store takes the data-dir lock (DataDirLocked when another instance holds it)
  const store = openStore(dataDir)
  const cleanups: Cleanup[] = [() => { store.close() }]
  // the log after the lock, so a second instance never writes into this one's log
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
  return {
    o, dataDir, events, timers, cleanups, log, logFile, store,
    clock: o.now ?? Date.now,
    fail: (where) => (err) => { events.emit('daemon:error', { where, error: err instanceof Error ? err.message : String(err) }) }
  }
}

export async function setupIdentity (ctx: Ctx): Promise<Identity> {
  const keyPath = join(ctx.dataDir, 'identity.json')
  const unusable = (err: unknown): never => { throw dataDirProblem(ctx.dataDir, err) ?? err }
  const identity = await loadOrCreateIdentityFile(keyPath).catch(unusable)
  try {
    ctx.store.setIdentityRef({ keyPath, did: identity.did, peerId: identity.peerId })
  } catch (err) { unusable(err) }
  return identity
}

/** The region: --region (then saved), else the saved one. */
export function setupRegion (ctx: Ctx): string | undefined {
  const saved = ctx.store.getSetting('region')
  if (ctx.o.region !== undefined) ctx.store.setSetting('region', ctx.o.region)
  return ctx.o.region ?? (typeof saved === 'string' ? saved : undefined)
}

export interface Machine { hardware: Hardware, sample: () => MachineState, guard: MachineGuard }

/**
 * Hardware probe, machine state (idle, battery), CPU temperature and the data dir's free space, the
 * guard fed from them. The free space is sampled every few seconds and at once after a disk-full
 * error; each sample also updates `hardware.diskFreeBytes` (the dashboard's and the next ad's figure).
 */
export async function setupMachine (ctx: Ctx): Promise<Machine> {
  const { o, timers, cleanups } = ctx
  const hardware = await probeHardware({ dataDir: ctx.dataDir, log: ctx.log })
  const machine = createMachineStateSampler({ userIdleSeconds: o.userIdleSeconds, onBattery: o.onBattery, batteryIntervalMs: timers.machineSampleMs })
  cleanups.push(() => { machine.close() })
  // the machine guard (thermal hysteresis, idle-only grace) is fed every few seconds; see setupBidding
  const temperature = createTemperatureSampler({ intervalMs: timers.machineGuardMs })
  cleanups.push(() => { temperature.close() })
  const disk = createDiskSpaceSampler({ dir: ctx.dataDir, intervalMs: timers.machineGuardMs, initial: hardware.diskFreeBytes, onSample: (b) => { hardware.diskFreeBytes = b } })
  cleanups.push(() => { disk.close() })
  ctx.events.on('daemon:error', (e) => { if (isDiskFullError(e.error)) void disk.refresh() })
  const sample = (): MachineState => {
    const m = machine.sample()
    const t = temperature.current()
    const free = disk.current()
    return { ...m, ...(t === null ? {} : { cpuTemperatureC: t }), ...(free === undefined ? {} : { dataDirFreeBytes: free }) }
  }
  return { hardware, sample, guard: createMachineGuard(ctx.clock()) }
}

/** One Wasmtime host process per job; compiled modules cached in the data dir (docs/SANDBOX.md). */
export function setupSandbox (ctx: Ctx): { sandbox: Sandbox, runtimes: string[] } {
  const sandbox = createSandbox({ progressIntervalMs: ctx.timers.sandboxProgressMs, cacheDir: join(ctx.dataDir, 'wasm-cache'), log: ctx.log })
  // advertised runtimes: wasi-p1-fuel-v1 + wasmtime-<version>; none (so no bids) without the host binary
  const runtimes = sandbox.runtimeIds()
  if (runtimes.length === 0) ctx.events.emit('daemon:error', { where: 'sandbox', error: sandbox.unavailableReason() ?? 'sandbox unavailable' })
  ctx.cleanups.push(async () => { await sandbox.close() })
  return { sandbox, runtimes: [...runtimes] }
}

export interface Mesh {
  node: MeshNode
  blocks: ReturnType<typeof createExecutorBlockStore>
  meshLog: MeshLog
  bootstrapPeers: string[]
  /** The listen addresses it started with (flags, else Settings, else the default), not the resolved ones. */
  listen: string[]
  bootstrapFailures: Array<{ addr: string, error: string, at: number }>
  marketRate: MarketRateCollector
}

/** The mesh node (listen/bootstrap from the flags, else Settings), its events forwarded and logged, the market-rate collector. */
export async function setupMesh (ctx: Ctx, identity: Identity, region: string | undefined): Promise<Mesh> {
  const { o, store, timers, events, cleanups, log } = ctx
  const blocks = createExecutorBlockStore({ store, dataDir: ctx.dataDir })
  const bootstrapPeers = o.bootstrap ?? savedList(store, 'bootstrapPeers') ?? []
  const listen = o.listen ?? savedList(store, 'listenAddrs') ?? ['/ip4/0.0.0.0/tcp/0']
  const node = await createMeshNode({
    identity, listen, bootstrap: bootstrapPeers, lan: o.lan ?? false,
    regions: region !== undefined ? [region] : [], blockStore: blocks, nat: o.nat,
    heartbeatMs: timers.heartbeatMs, bootstrapRetryMs: timers.bootstrapRetryMs, log
  })
  const meshLog = logMeshEvents(node.events, log)
  cleanups.push(() => { meshLog.stop() })
  node.events.on('reachability:changed', (e) => { events.emit('reachability:changed', e) })
  node.events.on('connection:opened', (e) => { events.emit('connection:opened', e) })
  // recent bootstrap dial failures, for the dashboard's "why no work" (heard from the first dial on)
  const bootstrapFailures: Mesh['bootstrapFailures'] = []
  node.events.on('bootstrap:failed', (e) => {
    bootstrapFailures.unshift({ addr: e.addr, error: e.error, at: ctx.clock() })
    if (bootstrapFailures.length > 20) bootstrapFailures.length = 20
  })
  // what buyers pay: public receipts heard on the receipts topic, fetched bounded and verified
  const marketRate = createMarketRateCollector({ node, ownDid: identity.did, dataDir: ctx.dataDir, log })
  cleanups.push(async () => { await marketRate.close() })
  await node.start()
  cleanups.push(async () => { await node.stop() })
  return { node, blocks, meshLog, bootstrapPeers, listen, bootstrapFailures, marketRate }
}

/** The executor (assignments, jobs, receipts), its events forwarded as daemon events. */
export async function setupExecutor (ctx: Ctx, identity: Identity, mesh: Mesh, sandbox: Sandbox, policy: PolicyState): Promise<Executor> {
  const { o, store, timers, events } = ctx
  const executor = createExecutor({
    node: mesh.node, store, identity, sandbox, blocks: mesh.blocks, runtime: WASM_RUNTIME_ID,
    maxConcurrent: () => policy.current().policy.maxConcurrentJobs, memoryLimitBytes: o.memoryLimitBytes, now: ctx.clock,
    recoveryRetryMs: timers.recoveryRetryMs, progressStatusMs: timers.progressStatusMs
  })
  executor.events.on('job:accepted', (e) => { events.emit('job:accepted', e) })
  executor.events.on('job:refused', (e) => { events.emit('job:refused', e) })
  executor.events.on('job:state', (e) => { events.emit('job:state', e) })
  executor.events.on('job:progress', (e) => { events.emit('job:progress', { announcementId: e.announcementId, fuelUsed: String(e.fuelUsed), maxFuel: String(e.maxFuel) }) })
  executor.events.on('job:finished', (e) => { events.emit('job:finished', { ...e, fuelUsed: String(e.fuelUsed), price: str(e.price) }) })
  executor.events.on('receipt:published', (e) => { events.emit('receipt:published', e) })
  executor.events.on('job:notify-pending', (e) => { events.emit('job:notify-pending', e) })
  executor.events.on('error:job', (e) => { events.emit('daemon:error', { where: `job ${e.announcementId}`, error: e.error }) })
  await executor.start()
  return executor
}

/** The offer as last advertised (the caps applied to the hardware); the bidder and the ads share it. */
export interface OfferRef { current: Offer }

export function initialOffer (machine: Machine, policy: PolicyState): OfferRef {
  return { current: applyCaps(machine.hardware, policy.current().policy.offer) }
}

/** Whether we hold an open connection (direct or relayed) to the peer. */
const isConnected = (node: MeshNode, peerId: string): boolean => node.connections(peerId).length > 0

function setupBidSender (ctx: Ctx, node: MeshNode): BidSender {
  // bids go out bounded and earliest-closing first; an originator we cannot reach costs one short try
  const bidSender = createBidSender({
    connected: (peerId) => isConnected(node, peerId),
    deliver: async (peerId, bytes, { signal, cold }) => {
      const answer = await node.sendDirect(peerId, bytes, cold ? { signal, attempts: 1, timeoutMs: 5000 } : { signal })
      if (!answer.ok) throw new BidRefusedError(`originator refused the bid: ${answer.error}${answer.message !== undefined ? ` (${answer.message})` : ''}`)
    },
    // the path to an originator before bidding (rule relay): one short try, like a cold bid
    connect: async (peerId, { signal }) => await node.pathTo(peerId, { signal: signal === undefined ? AbortSignal.timeout(5000) : AbortSignal.any([signal, AbortSignal.timeout(5000)]) })
  })
  ctx.cleanups.push(() => { bidSender.close() })
  return bidSender
}

export interface Bidding { bidSender: BidSender, decisionSources: DecisionSources, autoBidder: AutoBidder, observeMachine: () => void, stopBidding: () => void }

export interface BiddingParts { identity: Identity, node: MeshNode, machine: Machine, sandbox: Sandbox, runtimes: string[], region: string | undefined, offer: OfferRef, policy: PolicyState, ads: AdCache }

/** Announcements → decisions → bids: the auto-bidder over the decision sources, the bid sender, the intake queue, the guard's timer. */
export function setupBidding (ctx: Ctx, p: BiddingParts): Bidding {
  const { store, events, cleanups, timers, clock } = ctx
  const { node, machine, policy } = p
  const bidSender = setupBidSender(ctx, node)
  // what decisions are made from: the live auto-bidder and the dashboard's simulator use the same
  const decisionSources = storeDecisionSources(store, {
    offer: () => p.offer.current,
    runtimes: () => p.runtimes,
    runtimeUnavailable: () => p.sandbox.unavailableReason(),
    machine: machine.sample,
    guard: () => machine.guard.state(),
    region: () => p.region
  })
  const observeMachine = (): void => { machine.guard.observe(machine.sample(), policy.effective().policy, p.offer.current.cpu, clock()) }
  observeMachine()
  const guardTimer = setInterval(observeMachine, timers.machineGuardMs)
  guardTimer.unref()
  cleanups.push(() => { clearInterval(guardTimer) })
  let stopping = false
  const autoBidder = createAutoBidder({
    store, identity: p.identity, sources: decisionSources,
    getPolicy: () => stopping ? { policy: { ...policy.effective().policy, autoBid: false }, version: policy.current().version } : policy.effective(),
    unreachable: (peerId) => bidSender.cannotSend(peerId),
    path: {
      connected: (peerId) => isConnected(node, peerId),
      relayLimitFor: (peerId) => node.relayLimitFor(peerId),
      reach: async (peerId, o) => await bidSender.reach(peerId, o)
    },
    sendBid: async (peerId, bytes, { announcementId, closesAt, signal }) => {
      await bidSender.send({ announcementId, originatorPeerId: peerId, bytes, closesAt, signal })
    },
    now: clock
  })
  autoBidder.on('announcement:decided', (e) => {
    events.emit('announcement:decided', { announcementId: e.announcementId, originatorDid: e.originatorDid, bid: e.decision.bid, price: str(e.decision.price), reasons: e.decision.reasons })
  })
  autoBidder.on('bid:sent', (e) => { events.emit('bid:sent', { ...e, price: String(e.price) }) })
  autoBidder.on('bid:failed', (e) => { events.emit('bid:failed', e) })
  listenForAnnouncements(ctx, node, autoBidder, p.ads)
  return { bidSender, decisionSources, autoBidder, observeMachine, stopBidding: () => { stopping = true } }
}

/**
 * Announcements are evaluated in short slices, connected originators first, so a flood never holds
 * up the streams of a real buyer, job statuses or the dashboard. Capability ads go to the ad cache.
 */
function listenForAnnouncements (ctx: Ctx, node: MeshNode, autoBidder: AutoBidder, ads: AdCache): void {
  const intake = createIntakeQueue<{ body: JobAnnouncementV1, raw: Uint8Array, topicRegion?: string, receivedAt: number }>({
    process: (a) => autoBidder.handleAnnouncement(a.body, { raw: a.raw, topicRegion: a.topicRegion, receivedAt: a.receivedAt }),
    urgent: (a) => isConnected(node, peerIdFromDid(a.body.originator_did)),
    onError: ctx.fail('auto-bidder')
  })
  ctx.cleanups.push(() => { intake.clear() })
  node.events.on('message:received', (e) => {
    const m = e.message
    if (m.variant === 'JobAnnouncementV1') {
      const topicRegion = e.topic !== undefined ? parseTopic(e.topic)?.region : undefined
      intake.push({ body: m.body, raw: e.bytes, topicRegion, receivedAt: ctx.clock() })
    } else if (m.variant === 'CapabilityAdvertisementV1') {
      ads.put(m.body)
    }
  })
}

/** Capability ads: at start, every interval, when the offer changes, and soon after a newcomer subscribes (profile 4.1). */
export function setupAds (ctx: Ctx, p: { identity: Identity, node: MeshNode, machine: Machine, runtimes: string[], region: string | undefined, offer: OfferRef, policy: PolicyState }): AdPublisher {
  const { events } = ctx
  const adPublisher = createAdPublisher({
    build: () => {
      const ad = buildCapabilityAd({ identity: p.identity, hardware: p.machine.hardware, caps: p.policy.current().policy.offer, region: p.region, alias: ctx.o.alias, runtimes: p.runtimes, now: ctx.clock() })
      p.offer.current = ad.offer
      return ad.bytes
    },
    publish: async (bytes) => {
      const r = await p.node.publishCapability(bytes, p.region)
      events.emit('capability:published', { recipients: r.recipients, offer: p.offer.current })
    },
    intervalMs: ctx.timers.capabilityIntervalMs
  })
  adPublisher.on('ad:failed', (e) => { events.emit('daemon:error', { where: `capability ad (${e.reason})`, error: e.error }) })
  p.node.events.on('capability:subscribed', () => { adPublisher.peerSubscribed() })
  adPublisher.start()
  ctx.cleanups.push(() => { adPublisher.stop() })
  return adPublisher
}
