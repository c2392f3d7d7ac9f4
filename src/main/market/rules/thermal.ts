import { fail, pass, type RuleDef } from './rule.js'

const deg = (c: number): string => `${c.toFixed(0)} °C`

/** The thermal guard: no bids above the stop temperature until the CPU is below the resume one (hysteresis). */
export const thermal: RuleDef<'thermal'> = {
  id: 'thermal',
  evaluate: ({ policy, ctx }) => {
    const g = policy.thermalGuard
    if (g === undefined) return pass('thermal guard off')
    const t = ctx.machine?.cpuTemperatureC ?? ctx.guard?.thermal.tempC ?? null
    if (t === null) return pass('CPU temperature unknown')
    // with the guard's memory: hold until below resumeBelowC; without it: the stop limit alone
    const holding = ctx.guard !== undefined ? ctx.guard.thermal.holding || t >= g.stopAboveC : t >= g.stopAboveC
    if (holding && t >= g.resumeBelowC) return fail(`CPU ${deg(t)}: stopped above ${deg(g.stopAboveC)}, resumes below ${deg(g.resumeBelowC)}`)
    return pass(`CPU ${deg(t)} < ${deg(g.stopAboveC)}`)
  }
}
