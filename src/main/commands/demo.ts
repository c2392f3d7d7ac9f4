/** `mesh-executor demo` (alias `npm run demo`): a whole local market on 127.0.0.1; see docs/DEMO.md. */
import { runDemo } from '../demo/index.js'
import { parseFlags, UsageError, type CliIo } from './io.js'

export const DEMO_USAGE = `usage: mesh-executor demo [--once] [--interval SECONDS] [--bidding-window MS] [--verbose]

Starts three executor daemons (separate processes, each with its own temporary data dir, region and
bidding policy; the first serves the dashboard) and an originator that submits the sample jobs of
assets/jobs — sha256, wordcount, primes, a Mandelbrot image, the interactive calculator, a hostile
endless loop and a job nobody takes — and verifies every receipt. Ctrl+C stops everything and removes
the temporary directory.

  --once              run the job stream once and exit (0 if every step went as expected)
  --interval S        seconds between two jobs in the endless mode (default 3)
  --bidding-window MS how long the originator collects bids per job (default 1500)
  --verbose           also show the executors' stderr and every daemon event
`

function options (argv: string[]): { once: boolean, verbose: boolean, intervalMs: number, windowMs: number } | undefined {
  const { values, positionals } = parseFlags(argv, {
    once: { type: 'boolean' }, interval: { type: 'string' }, verbose: { type: 'boolean' }, 'bidding-window': { type: 'string' }, help: { type: 'boolean' }
  })
  if (values.help === true) return undefined
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  const intervalMs = Math.round(Number(values.interval ?? '3') * 1000)
  const windowMs = Number(values['bidding-window'] ?? '1500')
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new UsageError('--interval wants a number of seconds ≥ 0')
  if (!Number.isSafeInteger(windowMs) || windowMs < 200) throw new UsageError('--bidding-window wants whole milliseconds ≥ 200')
  return { once: values.once === true, verbose: values.verbose === true, intervalMs, windowMs }
}

export async function runDemoCommand (argv: string[], io: CliIo): Promise<number> {
  const opts = options(argv)
  if (opts === undefined) { io.stdout.write(DEMO_USAGE); return 0 }
  const ctl = new AbortController()
  const stop = (): void => {
    if (ctl.signal.aborted) { io.stderr.write('mesh-executor demo: forced exit\n'); process.exit(130) }
    io.stderr.write('mesh-executor demo: stopping…\n')
    ctl.abort()
  }
  const signals = ['SIGINT', 'SIGTERM'] as const
  if (io.stopSignal !== undefined) void io.stopSignal.then(stop)
  else for (const s of signals) process.on(s, stop)
  try {
    return await runDemo(opts, io.stdout, io.env, ctl.signal)
  } catch (err) {
    io.stderr.write(`mesh-executor demo: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  } finally {
    for (const s of signals) process.off(s, stop)
  }
}
