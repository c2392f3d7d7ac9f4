import { fail, pass, type RuleDef } from './rule.js'

export const idle: RuleDef<'idle'> = {
  id: 'idle',
  evaluate: ({ policy, ctx }) => {
    const rule = policy.idleOnly
    if (rule === undefined) return pass('idle-only off')
    const m = ctx.machine
    if (m === undefined) return fail('machine state unknown, idle-only needs it')
    const problems: string[] = []
    const facts: string[] = []
    const cores = m.cpuCount ?? Math.max(1, Math.ceil(ctx.offer.cpu))
    const perCore = m.loadAvg / Math.max(1, cores)
    if (rule.maxLoadPerCore !== undefined) {
      const t = `load ${perCore.toFixed(2)} per core`
      if (perCore > rule.maxLoadPerCore) problems.push(`${t} > ${rule.maxLoadPerCore}`)
      else facts.push(`${t} ≤ ${rule.maxLoadPerCore}`)
    }
    if (rule.minUserIdleSeconds !== undefined) {
      if (m.userIdleSeconds === undefined) facts.push('user idle time unknown')
      else if (m.userIdleSeconds < rule.minUserIdleSeconds) problems.push(`user active ${Math.round(m.userIdleSeconds)}s ago < ${rule.minUserIdleSeconds}s`)
      else facts.push(`user idle ${Math.round(m.userIdleSeconds)}s ≥ ${rule.minUserIdleSeconds}s`)
    }
    return problems.length > 0 ? fail(problems.join('; ')) : pass(facts.join('; ') || 'machine idle')
  }
}
