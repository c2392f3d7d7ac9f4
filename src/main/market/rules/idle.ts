import { DEFAULT_IDLE_GRACE_SECONDS, type IdleRule, type MachineState } from '../../../shared/policy/index.js'
import { fail, pass, type RuleDef } from './rule.js'

/**
 * What keeps the machine from counting as idle right now, and what is fine (facts): `load` problems
 * (a compile's spike: the flapping guard's grace applies) and `user` problems (someone at the keyboard:
 * never graced — "only while I am away" must stop at once; the idle threshold itself is the hysteresis).
 */
export function idleCheck (rule: IdleRule, m: MachineState, offerCpu: number): { load: string[], user: string[], facts: string[] } {
  const load: string[] = []
  const user: string[] = []
  const facts: string[] = []
  const cores = m.cpuCount ?? Math.max(1, Math.ceil(offerCpu))
  const perCore = m.loadAvg / Math.max(1, cores)
  if (rule.maxLoadPerCore !== undefined) {
    const t = `load ${perCore.toFixed(2)} per core`
    if (perCore > rule.maxLoadPerCore) load.push(`${t} > ${rule.maxLoadPerCore}`)
    else facts.push(`${t} ≤ ${rule.maxLoadPerCore}`)
  }
  if (rule.minUserIdleSeconds !== undefined) {
    if (m.userIdleSeconds === undefined) facts.push('user idle time unknown')
    else if (m.userIdleSeconds < rule.minUserIdleSeconds) user.push(`user active ${Math.round(m.userIdleSeconds)}s ago < ${rule.minUserIdleSeconds}s`)
    else facts.push(`user idle ${Math.round(m.userIdleSeconds)}s ≥ ${rule.minUserIdleSeconds}s`)
  }
  return { load, user, facts }
}

export const idle: RuleDef<'idle'> = {
  id: 'idle',
  evaluate: ({ policy, ctx }) => {
    const rule = policy.idleOnly
    if (rule === undefined) return pass('idle-only off')
    const m = ctx.machine
    if (m === undefined) return fail('machine state unknown, idle-only needs it')
    const { load: problems, user, facts } = idleCheck(rule, m, ctx.offer.cpu)
    if (user.length > 0) return fail([...user, ...problems].join('; '))
    // the flapping guard (when the daemon feeds one): short load spikes pass, a busy spell holds for the grace
    const g = ctx.guard?.idle
    const grace = rule.graceSeconds ?? DEFAULT_IDLE_GRACE_SECONDS
    if (g !== undefined && grace > 0) {
      const secs = Math.max(0, Math.round((ctx.now - g.since) / 1000))
      if (problems.length > 0 && !g.holding) return pass(`${problems.join('; ')} for ${g.busy ? secs : 0}s only (< ${grace}s grace)`)
      if (problems.length === 0 && g.holding) return fail(`idle again for ${g.busy ? 0 : secs}s; bidding resumes after ${grace}s idle`)
    }
    return problems.length > 0 ? fail(problems.join('; ')) : pass(facts.join('; ') || 'machine idle')
  }
}
