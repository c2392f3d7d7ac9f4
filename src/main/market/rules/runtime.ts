import { fail, list, pass, type RuleDef } from './rule.js'

export const runtime: RuleDef<'runtime'> = {
  id: 'runtime',
  evaluate: ({ a, ctx }) => {
    const wanted = (a.job_params as unknown as Record<string, unknown>).runtime
    if (ctx.runtimes.length === 0) return fail(`no WASM runtime available on this node${ctx.runtimeUnavailable !== undefined ? ` (${ctx.runtimeUnavailable})` : ''}`)
    if (typeof wanted === 'string' && !ctx.runtimes.includes(wanted)) return fail(`job wants ${wanted}, we run ${list(ctx.runtimes)}`)
    return pass(`${ctx.runtimes[0] ?? ''} (WASI preview1 command)`)
  }
}
