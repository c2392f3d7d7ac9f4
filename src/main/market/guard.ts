/**
 * The machine guard: the memory the thermal and idle-only rules need to not flap. The daemon feeds it
 * a sample every few seconds (machine state with the CPU temperature, and the policy in force); the
 * rules read its state through the decision context.
 *
 * - Thermal (hysteresis): holding starts when the CPU reaches `stopAboveC` and ends only once it is
 *   below `resumeBelowC`.
 * - Idle-only (grace): the machine counts as busy (by its load) only after it has been busy for
 *   `graceSeconds` without a break, and as idle again only after `graceSeconds` of idle — a compile
 *   that spikes the load for 20 s does not stop and restart bidding. User activity is not graced.
 */
import { DEFAULT_IDLE_GRACE_SECONDS, type MachineState, type Policy } from '../../shared/policy/index.js'
import { idleCheck } from './rules/idle.js'

export interface GuardState {
  thermal: { tempC: number | null, holding: boolean, since: number }
  /** `busy`: the machine is busy right now; `holding`: the idle rule treats it as busy; `since`: when `busy` last changed. */
  idle: { busy: boolean, holding: boolean, since: number, reason: string | null }
}

export interface MachineGuard {
  observe(sample: MachineState, policy: Pick<Policy, 'idleOnly' | 'thermalGuard'>, offerCpu: number, now: number): GuardState
  state(): GuardState
}

export function createMachineGuard (start = Date.now()): MachineGuard {
  const s: GuardState = {
    thermal: { tempC: null, holding: false, since: start },
    idle: { busy: false, holding: false, since: start, reason: null }
  }
  /** the first observation with idle-only on takes the machine as it is (no grace to start from) */
  let idleKnown = false
  return {
    observe (m, policy, offerCpu, now) {
      const t = m.cpuTemperatureC ?? null
      s.thermal.tempC = t
      const g = policy.thermalGuard
      // a sample without a temperature (a sensor read that failed once, a file being rewritten) changes nothing:
      // otherwise one bad read would end the hold and bids would resume between the limits
      const hot = g !== undefined && (t === null ? s.thermal.holding : s.thermal.holding ? t >= g.resumeBelowC : t >= g.stopAboveC)
      if (hot !== s.thermal.holding) { s.thermal.holding = hot; s.thermal.since = now }

      const rule = policy.idleOnly
      if (rule === undefined) {
        idleKnown = false
        if (s.idle.busy || s.idle.holding) s.idle = { busy: false, holding: false, since: now, reason: null }
      } else {
        // the grace is for load spikes; the user at the keyboard stops bidding at once (rules/idle.ts)
        const { load: problems } = idleCheck(rule, m, offerCpu)
        const busy = problems.length > 0
        if (!idleKnown) { idleKnown = true; s.idle = { busy, holding: busy, since: now, reason: null } }
        if (busy !== s.idle.busy) { s.idle.busy = busy; s.idle.since = now }
        s.idle.reason = busy ? problems.join('; ') : null
        const graceMs = (rule.graceSeconds ?? DEFAULT_IDLE_GRACE_SECONDS) * 1000
        if (busy !== s.idle.holding && now - s.idle.since >= graceMs) s.idle.holding = busy
      }
      return this.state()
    },
    state: () => ({ thermal: { ...s.thermal }, idle: { ...s.idle } })
  }
}
