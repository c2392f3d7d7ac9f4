/**
 * The executor daemon: the composition root shared by `mesh-executor start` (headless) and the
 * Electron shell. It calls one `setupX()` per feature (setup.ts), in dependency order, and owns shutdown.
 *
 *   data dir lock + store + log → identity → policy → hardware probe → sandbox → mesh node →
 *   executor (assignments, jobs, receipts) → auto-bidder (announcements → bids) → capability ads
 */
import '../polyfills.js'
import { TypedEmitter } from '../mesh/index.js'
import { createAdCache, type AdPublisher } from '../probe/index.js'
import type { Executor } from '../jobs/index.js'
import type { Sandbox } from '../sandbox/index.js'
import { createPolicyState, type PolicyState } from './policy-state.js'
import {
  initialOffer, setupAds, setupBidding, setupExecutor, setupIdentity, setupMachine, setupMesh, setupRegion, setupSandbox, setupStorage,
  type Bidding, type Ctx, type Machine, type Mesh, type OfferRef
} from './setup.js'
import { DEFAULT_TIMERS, type Daemon, type DaemonEvents, type DaemonOptions, type DaemonTimers } from './types.js'
import { setupHousekeeping } from './housekeeping.js'
import type { Identity } from '../../shared/protocol/index.js'
import { DISK_RESERVE_BYTES } from '../../shared/policy/index.js'

export * from './types.js'
export { withRuntimeState, type RuntimeState } from './policy-state.js'

interface Parts {
  ctx: Ctx
  identity: Identity
  policy: PolicyState
  region: string | undefined
  machine: Machine
  sandbox: Sandbox
  mesh: Mesh
  executor: Executor
  bidding: Bidding
  ads: ReturnType<typeof createAdCache>
  adPublisher: AdPublisher
  offer: OfferRef
}

/** The Daemon handle over the started parts. */
function daemonOf (p: Parts): Daemon {
  const { ctx, policy, mesh, executor, bidding } = p
  const { events, store, cleanups } = ctx
  let stopped: Promise<void> | undefined
  return {
    identity: p.identity, store, node: mesh.node, executor, autoBidder: bidding.autoBidder, ads: p.ads, sandbox: p.sandbox, events, dataDir: ctx.dataDir, region: p.region,
    policy: () => policy.current(),
    policyInfo: () => policy.info(),
    setPolicy (json, note) {
      const { version, offerChanged } = policy.set(json, note)
      events.emit('policy:changed', { version })
      if (offerChanged) p.adPublisher.changed()
      return version
    },
    offer: () => p.offer.current,
    hardware: () => p.machine.hardware,
    reachability: () => mesh.node.reachability(),
    publishCapability: async () => { p.adPublisher.changed() },
    bidStats: () => bidding.bidSender.stats(),
    decisionSources: bidding.decisionSources,
    effectivePolicy: () => policy.effective(),
    runtimeState: () => policy.runtime(),
    setRuntimeState (patch) {
      policy.setRuntime(patch)
      events.emit('runtime:changed', policy.runtime())
      bidding.observeMachine()
    },
    listen: () => [...mesh.listen],
    bootstrap: () => ({ configured: [...mesh.bootstrapPeers], failures: mesh.bootstrapFailures.map((f) => ({ ...f })) }),
    guard: () => p.machine.guard.state(),
    marketRate: mesh.marketRate,
    meshStats: () => mesh.meshLog.stats(),
    log: ctx.log,
    logDir: ctx.logFile?.dir,
    async stop (so = {}) {
      stopped ??= (async () => {
        bidding.stopBidding()
        events.emit('daemon:stopping', { runningJobs: executor.runningJobs().length })
        await executor.stop({ graceMs: so.graceMs ?? 30_000 }).catch(ctx.fail('executor stop'))
        // a cleanup that throws (synchronously or not) is reported; the ones after it still run
        for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(ctx.fail('shutdown'))
        events.emit('daemon:stopped', {})
      })()
      await stopped
    }
  }
}

async function startParts (ctx: Ctx): Promise<Parts> {
  const identity = await setupIdentity(ctx)
  const policy = createPolicyState(ctx.store, ctx.o.policy !== undefined ? { json: ctx.o.policy, source: ctx.o.policySource } : undefined, ctx.clock())
  const region = setupRegion(ctx)
  const machine = await setupMachine(ctx)
  const ads = createAdCache()
  const { sandbox, runtimes } = setupSandbox(ctx)
  const mesh = await setupMesh(ctx, identity, region)
  const executor = await setupExecutor(ctx, identity, mesh, sandbox, policy)
  const offer = initialOffer(machine, policy)
  const bidding = setupBidding(ctx, { identity, node: mesh.node, machine, sandbox, runtimes, region, offer, policy, ads })
  const adPublisher = setupAds(ctx, { identity, node: mesh.node, machine, runtimes, region, offer, policy })
  setupHousekeeping(ctx, mesh.blocks, { diskLow: () => (machine.sample().dataDirFreeBytes ?? Infinity) < DISK_RESERVE_BYTES })
  return { ctx, identity, policy, region, machine, sandbox, mesh, executor, bidding, ads, adPublisher, offer }
}

export async function startDaemon (o: DaemonOptions): Promise<Daemon> {
  const events = o.events ?? new TypedEmitter<DaemonEvents>()
  const timers: DaemonTimers = { ...DEFAULT_TIMERS, ...o.timers }
  const ctx = await setupStorage(o, events, timers)
  try {
    const daemon = daemonOf(await startParts(ctx))
    const { did, peerId } = daemon.identity
    events.emit('daemon:ready', { did, peerId, multiaddrs: daemon.node.multiaddrs(), dataDir: ctx.dataDir, policyVersion: daemon.policy().version, policy: daemon.policyInfo() })
    return daemon
  } catch (err) {
    ctx.log.error({ sub: 'daemon', err }, 'start-up failed')
    // undo what started; the start-up error is the one that matters, later ones are only logged
    for (const c of ctx.cleanups.reverse()) await Promise.resolve().then(c).catch((e: unknown) => { ctx.log.warn({ sub: 'daemon', err: e }, 'cleaning up after a failed start-up failed') })
    throw err
  }
}
