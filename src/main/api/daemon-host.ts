/** The link between the API and the process hosting the daemon: reported machine state, the request to stop. */
import type { MachineStateArgs, MachineStateView } from '../../shared/api/index.js'

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
