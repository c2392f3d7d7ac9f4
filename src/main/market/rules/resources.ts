import { formatCpu, formatRam, parseResources, type ParsedResources } from '../../../shared/protocol/index.js'
import { fail, pass, type RuleDef } from './rule.js'

const gib = (b: number): string => `${Math.floor(b / 1024 ** 3)}GiB`

export const resources: RuleDef<'resources'> = {
  id: 'resources',
  evaluate: ({ a, ctx }) => {
    let req: ParsedResources
    try { req = parseResources(a.job_params.resources_required) } catch (err) { return fail(`malformed resources_required: ${(err as Error).message}`) }
    const short: string[] = []
    const fit: string[] = []
    const o = ctx.offer
    if (req.cpu !== undefined) (req.cpu > o.cpu ? short : fit).push(`CPU ${formatCpu(req.cpu)} ${req.cpu > o.cpu ? '>' : '≤'} offered ${formatCpu(o.cpu)}`)
    if (req.ramBytes !== undefined) (req.ramBytes > o.ramBytes ? short : fit).push(`RAM ${formatRam(req.ramBytes)} ${req.ramBytes > o.ramBytes ? '>' : '≤'} offered ${formatRam(o.ramBytes)}`)
    if (req.diskBytes !== undefined) {
      if (o.diskBytes === undefined || req.diskBytes > o.diskBytes) short.push(`DISK ${gib(req.diskBytes)} > offered ${o.diskBytes === undefined ? 'none' : gib(o.diskBytes)}`)
      else fit.push(`DISK ${gib(req.diskBytes)} ≤ offered ${gib(o.diskBytes)}`)
    }
    for (const [name, n] of Object.entries(req.gpus)) {
      const have = o.gpus[name] ?? 0
      ;(n > have ? short : fit).push(`${name} ×${n} ${n > have ? '>' : '≤'} offered ${have}`)
    }
    if (short.length > 0) return fail(`needs ${short.join('; ')}`)
    return pass(fit.length > 0 ? fit.join(', ') : 'no specific resources required')
  }
}
