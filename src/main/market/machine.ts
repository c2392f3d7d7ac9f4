/** What the policy knows about the machine right now (injected; sampled by probe/machine-state.ts). */
export interface MachineState {
  /** 1-minute load average */
  loadAvg: number
  /** logical cores, to normalise loadAvg (defaults to the offer's hardware count when absent) */
  cpuCount?: number
  /** seconds since the last user input, when the platform reports it */
  userIdleSeconds?: number
  /** true on battery, false on mains, undefined when unknown */
  onBattery?: boolean
}
