/**
 * Binds the API to a running executor daemon (src/main/daemon): node status from the mesh node
 * and executor (./daemon-runtime.ts), auto-bid and pause as the daemon's runtime state, the
 * simulator on the market engine with the daemon's live context, resource caps as the policy's
 * offer (./daemon-settings.ts), and daemon events translated into API events (./daemon-events.ts).
 *
 *   const host = createDaemonHost()                         // before startDaemon: its callbacks read it
 *   const daemon = await startDaemon({ …, userIdleSeconds: host.userIdleSeconds, onBattery: host.onBattery })
 *   const { api, dispose } = createDaemonApi(daemon, { host })
 *   const ui = await startUiServer({ api, rendererDir })   // what the browser and the desktop shell use
 */
import { signBytes } from '../../shared/protocol/index.js'
import type { Daemon } from '../daemon/index.js'
import type { MachineStateArgs } from '../../shared/api/index.js'
import { bridgeDaemonEvents } from './daemon-events.js'
import type { DaemonHost } from './daemon-host.js'
import { createDaemonRuntime, createLiveState, type DaemonLiveState } from './daemon-runtime.js'
import { createDaemonSettings } from './daemon-settings.js'
import type { NodeControl } from './deps.js'
import { createApiEventHub, type ApiEventHub } from './events.js'
import { createMarketPolicyEngine } from './market-engine.js'
import { createApiService, type ApiService } from './service.js'

export { createDaemonHost, type DaemonHost, type DaemonHostOptions } from './daemon-host.js'

export interface DaemonApiOptions {
  version?: string
  now?: () => number
  /** How long a daemon error is shown as the node's state (default 10 min). */
  errorTtlMs?: number
  /** The process hosting the daemon: takes node.setMachineState and node.shutdown (without it both answer BadRequest). */
  host?: DaemonHost
}

export interface DaemonApi {
  api: ApiService
  events: ApiEventHub
  dispose(): void
}

/** node.setMachineState and node.shutdown through the host (a shutdown also marks the node draining). */
function hostControl (daemon: Daemon, host: DaemonHost | undefined, live: DaemonLiveState): Pick<NodeControl, 'setMachineState' | 'shutdown'> {
  if (host === undefined) return {}
  return {
    setMachineState: (st: MachineStateArgs) => host.setMachineState(st),
    shutdown: (graceSeconds: number | undefined) => {
      const runningJobs = daemon.executor.runningJobs().length
      host.requestShutdown(graceSeconds)
      live.draining = true
      return { graceSeconds: graceSeconds ?? host.defaultGraceSeconds, runningJobs }
    }
  }
}

export function createDaemonApi (daemon: Daemon, opts: DaemonApiOptions = {}): DaemonApi {
  const now = opts.now ?? Date.now
  const events = createApiEventHub()
  const live = createLiveState()
  const { runtime, reachability } = createDaemonRuntime(daemon, live, { now, errorTtlMs: opts.errorTtlMs ?? 600_000 })
  const settings = createDaemonSettings(daemon)
  const engine = createMarketPolicyEngine({ store: daemon.store, sources: daemon.decisionSources })

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
      ...hostControl(daemon, opts.host, live)
    },
    policy: { ...engine, save: (p, note) => daemon.setPolicy(p, note ?? 'saved in the dashboard') },
    settings,
    events,
    sign: (bytes) => signBytes(daemon.identity, bytes),
    marketRate: daemon.marketRate,
    now,
    ...(opts.version !== undefined ? { version: opts.version } : {})
  })

  const dispose = bridgeDaemonEvents(daemon, { events, live, now, reachability, emitStatus: () => { events.emit('status:changed', api.status()) } })
  return { api, events, dispose }
}
