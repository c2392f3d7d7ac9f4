/** Samples the machine state the policy's idle-only and stop-on-battery rules use. */
import os from 'node:os'
import si from 'systeminformation'
import type { MachineState } from '../../shared/policy/index.js'

export interface MachineStateSamplerOptions {
  /** How often to refresh the battery state (ms, default 30 000). */
  batteryIntervalMs?: number
  /** Seconds since the last user input, when the host can tell (Electron: powerMonitor.getSystemIdleTime). */
  userIdleSeconds?: () => number | undefined
  /** Battery state from the host when it knows better (Electron: powerMonitor.isOnBatteryPower); overrides the probe. */
  onBattery?: () => boolean | undefined
  signal?: AbortSignal
}

export interface MachineStateSampler {
  /** Current state; cheap and synchronous (load average read now, battery from the last refresh). */
  sample(): MachineState
  /** Refreshes the battery state now. */
  refresh(): Promise<void>
  close(): void
}

export function createMachineStateSampler (opts: MachineStateSamplerOptions = {}): MachineStateSampler {
  let onBattery: boolean | undefined
  let closed = false
  const refresh = async (): Promise<void> => {
    try {
      const b = await si.battery()
      onBattery = b.hasBattery ? !b.acConnected : false
    } catch {
      onBattery = undefined
    }
  }
  const timer = setInterval(() => { void refresh() }, opts.batteryIntervalMs ?? 30_000)
  timer.unref()
  const close = (): void => {
    if (closed) return
    closed = true
    clearInterval(timer)
  }
  opts.signal?.addEventListener('abort', close, { once: true })
  // sample() runs once per announcement: os.cpus() parses /proc/cpuinfo (~0.1 ms) and the load
  // average only changes every few seconds, so read the CPU count once and the load at most 1/s
  const cpuCount = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
  let load = 0
  let loadAt = -Infinity
  return {
    sample () {
      const now = Date.now()
      if (now - loadAt >= 1000) { load = os.loadavg()[0] ?? 0; loadAt = now }
      const s: MachineState = { loadAvg: load, cpuCount }
      const idle = opts.userIdleSeconds?.()
      if (idle !== undefined) s.userIdleSeconds = idle
      const hostBattery = opts.onBattery?.()
      if (hostBattery !== undefined) s.onBattery = hostBattery
      else if (onBattery !== undefined) s.onBattery = onBattery
      return s
    },
    refresh,
    close
  }
}
