/**
 * `npm run demo [-- --once] [-- --interval SECONDS] [-- --verbose]`: a whole local market on 127.0.0.1.
 *
 * Starts three executor daemons as separate processes (`bin/mesh-executor.js start --json --lan …`, each
 * with its own data dir, region and bidding policy, the first also serving the dashboard), then an
 * originator in this process (createMeshNode + AccessBlockStore + createOriginator) that submits the
 * real sample jobs of assets/jobs: sha256, wordcount, sieve, mandelbrot, the interactive calculator, a
 * hostile infinite loop that must end FuelExhausted, and a job no executor's policy accepts (whose
 * why-not reasons are printed from each executor's `announcement:decided` event). Every step is
 * logged; earnings per executor are summed from the executors' `job:finished` events.
 *
 * --once: run the stream once, print the summary and exit (0 when every step went as expected).
 * Otherwise: repeat the stream, one job every --interval seconds (default 3), until Ctrl+C.
 * Ctrl+C / SIGTERM: stop the originator, SIGTERM the executors (SIGKILL after a grace), remove the temp dir.
 * See docs/DEMO.md.
 */
import '../src/main/polyfills.js'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { generateIdentity } from '../src/shared/protocol/index.js'
import type { QosProfile } from '../src/shared/protocol/index.js'
import { createMeshNode, JOBS_ANNOUNCE_TOPIC } from '../src/main/mesh/index.js'
import type { MeshNode } from '../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator, ExecutorFailedError, NoBidsError, NoValidBidsError, OriginatorError } from '../src/main/originator/index.js'
import type { Originator, OriginatorEvent, SubmitJob, SubmitResult } from '../src/main/originator/index.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'mesh-executor.js')
const asset = (name: string): string => join(ROOT, 'assets', 'jobs', name)

// ---- options ---------------------------------------------------------------------------------------
const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    once: { type: 'boolean' }, interval: { type: 'string' }, verbose: { type: 'boolean' },
    'bidding-window': { type: 'string' }, help: { type: 'boolean' }
  },
  strict: true
})
if (args.help === true) {
  process.stdout.write(`usage: npm run demo [-- --once] [-- --interval SECONDS] [-- --bidding-window MS] [-- --verbose]
  --once              run the job stream once and exit (0 if every step went as expected)
  --interval S        seconds between two jobs in the endless mode (default 3)
  --bidding-window MS how long the originator collects bids per job (default 1500)
  --verbose           also show the executors' stderr and every daemon event
`)
  process.exit(0)
}
const ONCE = args.once === true
const VERBOSE = args.verbose === true
const INTERVAL_MS = Math.round(Number(args.interval ?? '3') * 1000)
const WINDOW_MS = Math.round(Number(args['bidding-window'] ?? '1500'))
if (!Number.isFinite(INTERVAL_MS) || INTERVAL_MS < 0) { process.stderr.write('demo: --interval wants a number of seconds\n'); process.exit(2) }
if (!Number.isSafeInteger(WINDOW_MS) || WINDOW_MS < 200) { process.stderr.write('demo: --bidding-window wants milliseconds ≥ 200\n'); process.exit(2) }

// ---- log -------------------------------------------------------------------------------------------
const COLOR = process.stdout.isTTY && process.env.NO_COLOR === undefined
const paint = (code: number) => (s: string): string => COLOR ? `\u001b[${code}m${s}\u001b[0m` : s
const dim = paint(2)
const bold = paint(1)
const green = paint(32)
const red = paint(31)
const yellow = paint(33)
const cyan = paint(36)
const magenta = paint(35)
const t0 = Date.now()
const stamp = (): string => dim(`+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`)
const WHO_WIDTH = 12
function log (who: string, text: string, color: (s: string) => string = (s) => s): void {
  const tag = color(`[${who}]`.padEnd(WHO_WIDTH))
  for (const [i, line] of text.split('\n').entries()) process.stdout.write(`${i === 0 ? stamp() : ' '.repeat(7)} ${tag} ${line}\n`)
}
const heading = (text: string): void => { process.stdout.write(`\n${bold(`── ${text}`)}\n`) }
const short = (s: string): string => s.length > 24 ? `${s.slice(0, 14)}…${s.slice(-6)}` : s
const shortId = (id: string): string => id.slice(0, 8)

// ---- the executors ---------------------------------------------------------------------------------
interface ExecutorSpec {
  name: string
  region: string
  policy: Record<string, unknown>
  about: string
  ui?: boolean
}

const EXECUTORS: ExecutorSpec[] = [
  {
    name: 'alpha', region: 'eu-west', ui: true,
    about: 'fixed price 5, takes everything',
    policy: { pricing: { mode: 'fixed', price: 5 }, maxConcurrentJobs: 2 }
  },
  {
    name: 'beta', region: 'eu-west',
    about: '1 token per million fuel (cheap for small jobs), refuses interactive jobs',
    policy: { pricing: { mode: 'per_mfuel', ratePerMillionFuel: 1 }, allowInteractive: false }
  },
  {
    name: 'gamma', region: 'us-east',
    about: 'higher floor: 8 + 1 per million fuel, only BestEffort/CostOptimized QoS',
    policy: { pricing: { mode: 'floor_plus_rate', floor: 8, ratePerMillionFuel: 1 }, acceptedQos: ['BestEffort', 'CostOptimized'] }
  }
]

interface Decision { executor: string, bid: boolean, price?: string, failed: string[] }
interface Finished { executor: string, status: string, failureReason?: string, price?: string, fuelUsed: string, receiptCid: string }

interface Executor {
  spec: ExecutorSpec
  child: ChildProcess
  did?: string
  peerId?: string
  addr?: string
  ui?: string
  exited: boolean
  stderrTail: string[]
}

const executors: Executor[] = []
const decisions = new Map<string, Decision[]>()
const finished = new Map<string, Finished>()
const nameOf = new Map<string, string>()
const who = (did: string): string => nameOf.get(did) ?? short(did)
const execColor = (name: string): ((s: string) => string) => name === 'alpha' ? cyan : name === 'beta' ? magenta : name === 'gamma' ? yellow : (s) => s

/** Wakes up whoever waits for something to arrive from the executors. */
let wakers: Array<() => void> = []
function wake (): void { const w = wakers; wakers = []; for (const f of w) f() }
async function waitFor (cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, left)
      function done (): void { clearTimeout(timer); resolve() }
      wakers.push(done)
    })
  }
}

function onDaemonEvent (x: Executor, e: Record<string, unknown>): void {
  const name = x.spec.name
  const c = execColor(name)
  const id = typeof e.announcementId === 'string' ? e.announcementId : ''
  switch (e.event) {
    case 'ready':
      x.did = String(e.did)
      x.peerId = String(e.peerId)
      x.addr = (e.multiaddrs as string[]).find((a) => a.includes('/p2p/'))
      x.ui = typeof e.ui === 'string' ? e.ui : undefined
      nameOf.set(x.did, name)
      log(name, `ready in ${String(e.region)}: ${x.spec.about}\n${dim(`${x.did}  ${x.addr ?? ''}`)}`, c)
      if (x.ui !== undefined) log(name, `dashboard: ${bold(x.ui)}`, c)
      break
    case 'announcement:decided': {
      const reasons = e.reasons as Array<{ rule: string, ok: boolean, text: string }>
      const d: Decision = { executor: name, bid: e.bid === true, failed: reasons.filter((r) => !r.ok).map((r) => r.text) }
      if (typeof e.price === 'string') d.price = e.price
      decisions.set(id, [...(decisions.get(id) ?? []), d])
      if (d.bid) log(name, `bids ${d.price ?? 'free'} on ${shortId(id)} (all ${reasons.length} policy rules passed)`, c)
      else log(name, `no bid on ${shortId(id)}: ${d.failed.join('; ')}`, c)
      break
    }
    case 'bid:failed': log(name, red(`bid on ${shortId(id)} failed: ${String(e.error)}`), c); break
    case 'job:accepted': log(name, `accepted the assignment of ${shortId(id)}`, c); break
    case 'job:refused': log(name, `refused the assignment of ${shortId(id)}: ${String(e.reason)} ${String(e.detail)}`, c); break
    case 'job:state': if (VERBOSE) log(name, `job ${shortId(id)} → ${String(e.state)}`, c); break
    case 'job:finished': {
      const f: Finished = { executor: name, status: String(e.status), fuelUsed: String(e.fuelUsed), receiptCid: String(e.receiptCid) }
      if (typeof e.failureReason === 'string') f.failureReason = e.failureReason
      if (typeof e.price === 'string') f.price = e.price
      finished.set(id, f)
      const st = f.status === 'CompletedSuccessfully' ? green(f.status) : red(`${f.status} ${f.failureReason ?? ''}`)
      log(name, `finished ${shortId(id)}: ${st}, fuel ${f.fuelUsed}, ${Math.round(Number(e.wallMs))} ms, receipt ${f.receiptCid}`, c)
      break
    }
    case 'receipt:published': log(name, `receipt of ${shortId(id)} published (${String(e.dhtPeers)} DHT peer(s))`, c); break
    case 'daemon:error': log(name, red(`error in ${String(e.where)}: ${String(e.error)}`), c); break
    default: if (VERBOSE) log(name, dim(JSON.stringify(e)), c)
  }
  wake()
}

function spawnExecutor (spec: ExecutorSpec, dir: string, bootstrap: string | undefined): Executor {
  const argv = [BIN, 'start', '--json', '--lan', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', join(dir, spec.name),
    '--region', spec.region, '--policy', join(dir, `policy-${spec.name}.json`), '--alias', `demo-${spec.name}`, '--grace', '2']
  if (bootstrap !== undefined) argv.push('--bootstrap', bootstrap)
  if (spec.ui === true) argv.push('--ui-port', '0')
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  const x: Executor = { spec, child, exited: false, stderrTail: [] }
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let e: Record<string, unknown>
    try { e = JSON.parse(line) as Record<string, unknown> } catch { log(spec.name, dim(line)); return }
    onDaemonEvent(x, e)
  })
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    x.stderrTail.push(line)
    if (x.stderrTail.length > 30) x.stderrTail.shift()
    if (VERBOSE) log(spec.name, dim(`stderr: ${line}`))
  })
  child.on('exit', (code, signal) => {
    x.exited = true
    if (!stopping) log(spec.name, red(`exited unexpectedly (${signal ?? `code ${String(code)}`})\n${x.stderrTail.slice(-10).join('\n')}`))
    wake()
  })
  executors.push(x)
  return x
}

async function startExecutor (spec: ExecutorSpec, dir: string, bootstrap: string | undefined): Promise<Executor> {
  await writeFile(join(dir, `policy-${spec.name}.json`), JSON.stringify(spec.policy, null, 2))
  const x = spawnExecutor(spec, dir, bootstrap)
  await waitFor(() => x.addr !== undefined || x.exited, 90_000, `executor ${spec.name} to be ready`)
  if (x.addr === undefined) throw new Error(`executor ${spec.name} did not start:\n${x.stderrTail.join('\n')}`)
  return x
}

// ---- the job stream ----------------------------------------------------------------------------------
const TEXT = `The ICN Planetary Mesh runs jobs for whoever pays,
on machines that would otherwise sit idle,
and every result comes back with a signed receipt.
`
type Expect = { kind: 'ok', check: (out: Uint8Array) => string | undefined } | { kind: 'fail', reason: string } | { kind: 'nobody' }
interface Step {
  title: string
  file: string
  job: Omit<SubmitJob, 'module'>
  stdinLines?: string[]
  expect: Expect
}

function steps (): Step[] {
  const digest = createHash('sha256').update(TEXT).digest('hex')
  const words = TEXT.split(/\s+/).filter((w) => w !== '').length
  const lines = TEXT.split('\n').length - 1
  const bytes = Buffer.byteLength(TEXT)
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
  const text = (out: Uint8Array): string => Buffer.from(out).toString('utf8')
  return [
    {
      title: 'sha256 of a short text', file: 'sha256.wasm',
      job: { input: enc(TEXT), maxFuel: 20_000_000, timeoutSeconds: 30, description: 'demo: sha256' },
      expect: { kind: 'ok', check: (o) => text(o).trim() === digest ? undefined : `want ${digest}` }
    },
    {
      title: 'wordcount of the same text (small fuel budget: per-fuel pricing is cheapest)', file: 'wordcount.wasm',
      job: { input: enc(TEXT), maxFuel: 3_000_000, timeoutSeconds: 30, description: 'demo: wordcount' },
      expect: { kind: 'ok', check: (o) => text(o).trim() === `${lines} ${words} ${bytes}` ? undefined : `want "${lines} ${words} ${bytes}"` }
    },
    {
      title: 'primes up to 100000, only in region us-east', file: 'sieve.wasm',
      job: { input: enc('100000'), maxFuel: 50_000_000, timeoutSeconds: 30, region: 'us-east', description: 'demo: sieve' },
      expect: { kind: 'ok', check: (o) => text(o).trim() === '9592 99991' ? undefined : 'want "9592 99991"' }
    },
    {
      title: 'a 96×64 Mandelbrot image, LowLatency QoS', file: 'mandelbrot.wasm',
      job: { input: enc('96 64 128'), maxFuel: 200_000_000, timeoutSeconds: 30, qos: 'LowLatency' as QosProfile, description: 'demo: mandelbrot' },
      expect: { kind: 'ok', check: (o) => text(o.subarray(0, 13)) === 'P5\n96 64\n255\n' && o.byteLength === 13 + 96 * 64 ? undefined : 'want a 96×64 binary PGM' }
    },
    {
      title: 'the interactive calculator (stdin streamed to the job)', file: 'calc.wasm',
      job: { interactive: true, maxFuel: 20_000_000, timeoutSeconds: 30, description: 'demo: calculator' },
      stdinLines: ['6*7\n', '(1+2)*(3+4)\n', '100/7\n', 'quit\n'],
      expect: { kind: 'ok', check: (o) => text(o) === '= 42\n= 21\n= 14\nbye\n' ? undefined : 'want "= 42", "= 21", "= 14", "bye"' }
    },
    {
      title: 'a hostile job: an endless loop with a small fuel budget', file: 'hostile_loop.wasm',
      job: { maxFuel: 2_000_000, timeoutSeconds: 30, description: 'demo: hostile loop' },
      expect: { kind: 'fail', reason: 'FuelExhausted' }
    },
    {
      title: 'a job nobody takes: max_price 2 is below every executor\'s price', file: 'wordcount.wasm',
      job: { input: enc(TEXT), maxFuel: 3_000_000, timeoutSeconds: 30, maxPrice: 2, description: 'demo: too cheap' },
      expect: { kind: 'nobody' }
    }
  ]
}

// ---- the originator ---------------------------------------------------------------------------------
function describe (e: OriginatorEvent): string | undefined {
  switch (e.type) {
    case 'job:announced': return `announced ${shortId(e.announcementId)} to ${e.recipients} peer(s) on ${e.topics.length} topic(s); collecting bids for ${e.biddingWindowMs} ms`
    case 'bid:received': return `bid from ${who(e.executorDid)}: price ${e.price ?? 'free'}${e.region !== undefined ? `, region ${e.region}` : ''}`
    case 'bid:refused': return `refused a bid from ${who(e.executorDid)}: ${e.reason} ${e.detail}`
    case 'selection:made': {
      const rank = e.ranking.map((r) => `${who(r.bid.executorDid)} (price ${r.bid.price ?? 'free'}, rep ${r.reputation}, score ${r.score})`).join(' > ')
      const lines = [e.chosen === undefined ? 'winner: nobody' : `winner: ${bold(who(e.chosen))}   ranking: ${rank}`]
      for (const r of e.refused) lines.push(`  not ${who(r.bid.executorDid)}: ${r.reasons.join('; ')}`)
      return lines.join('\n')
    }
    case 'job:assigned': return `assigned ${shortId(e.announcementId)} to ${who(e.executorDid)} (attempt ${e.attempt}${e.price !== undefined ? `, price ${e.price}` : ''})`
    case 'assign:refused': return `${who(e.executorDid)} refused the assignment: ${e.error} ${e.message}`
    case 'assignee:silent': return `${who(e.executorDid)} sent no status within ${e.waitedMs} ms; trying the next bidder`
    case 'status:received': {
      const s = e.status === 'Completed' ? green(e.status) : e.status === 'Failed' ? red(e.status) : e.status
      return `status from ${who(e.executorDid)}: ${s}${e.details !== undefined ? ` (${e.details})` : ''}`
    }
    case 'stdin:sent': return e.isFinal ? 'stdin closed' : `stdin chunk ${e.sequence} sent (${e.bytes} bytes)`
    case 'stdin:failed': return red(`sending stdin failed: ${e.error}`)
    case 'output:received': return undefined
    case 'receipt:available': return `receipt ${e.receiptCid} announced (${e.channel})`
    case 'receipt:fetched': return `receipt fetched from ${e.via === 'dht' ? 'the DHT' : 'the executor'} in ${e.ms} ms`
    case 'receipt:verified': return `receipt verified ✓ (CID, signature, DIDs, announcement, module/input CIDs, price${e.status === 'CompletedSuccessfully' ? ', output' : ''}): ${e.status === 'CompletedSuccessfully' ? green(e.status) : red(`${e.status} ${e.failureReason ?? ''}`)}`
    case 'receipt:invalid': return red(`receipt INVALID (${e.check}): ${e.detail}`)
  }
}

interface Outcome { ok: boolean, note: string, result?: SubmitResult }

async function runStep (originator: Originator, step: Step, n: number, signal: AbortSignal): Promise<Outcome> {
  const module = new Uint8Array(await readFile(asset(step.file)))
  heading(`job ${n}: ${step.title}  ${dim(`(${step.file}, max_fuel ${String(step.job.maxFuel)}${step.job.maxPrice !== undefined ? `, max_price ${String(step.job.maxPrice)}` : ''}${step.job.region !== undefined ? `, region ${step.job.region}` : ''}${step.job.qos !== undefined ? `, qos ${step.job.qos}` : ''})`)}`)
  let announcementId = ''
  const stdin = step.stdinLines === undefined
    ? undefined
    : (async function * () {
        for (const line of step.stdinLines ?? []) {
          log('originator', `stdin: ${JSON.stringify(line)}`, green)
          yield new TextEncoder().encode(line)
        }
      })()
  const job: SubmitJob = { ...step.job, module, biddingWindowMs: WINDOW_MS }
  try {
    const result = await originator.submit(job, {
      signal,
      onEvent: (e) => {
        if (e.type === 'job:announced') announcementId = e.announcementId
        const line = describe(e)
        if (line !== undefined) log('originator', line, green)
      },
      ...(stdin !== undefined
        ? {
            stdin,
            onOutput: (chunk: Uint8Array) => {
              log('originator', `job output: ${JSON.stringify(Buffer.from(chunk).toString('utf8'))}`, green)
            }
          }
        : {})
    })
    const out = result.output
    const shown = step.file === 'mandelbrot.wasm' ? `${out.byteLength} bytes of PGM (${Buffer.from(out.subarray(0, 13)).toString('utf8').replace(/\n/g, ' ').trim()} …)` : JSON.stringify(Buffer.from(out).toString('utf8'))
    log('originator', `output: ${shown}`, green)
    log('originator', `receipt ${bold(result.receiptCid)} verified; ${who(result.executorDid)} earned ${result.price ?? 0} for fuel ${String(result.receipt.fuel_used)}`, green)
    if (step.expect.kind !== 'ok') return { ok: false, note: `expected ${step.expect.kind === 'fail' ? step.expect.reason : 'no executor'}, but it completed`, result }
    const bad = step.expect.check(out)
    return bad === undefined ? { ok: true, note: `completed on ${who(result.executorDid)}`, result } : { ok: false, note: `wrong output: ${bad}`, result }
  } catch (err) {
    if (signal.aborted) throw err
    if (err instanceof ExecutorFailedError) {
      log('originator', `executor reported ${red(err.reason)}; receipt ${err.receiptCid ?? '?'} verified (a job's own fault: the executor keeps its reputation)`, green)
      if (step.expect.kind === 'fail' && step.expect.reason === err.reason) return { ok: true, note: `ended ${err.reason} as expected` }
      return { ok: false, note: `failed: ${err.message}` }
    }
    if (err instanceof NoBidsError || err instanceof NoValidBidsError) {
      log('originator', `${red(err.code)}: ${err.message}`, green)
      if (err instanceof NoValidBidsError) for (const w of err.why) log('originator', `  not ${who(w.executorDid)}: ${w.reasons.join('; ')}`, green)
      // every executor explains itself in its announcement:decided event
      const running = executors.filter((x) => !x.exited).length
      await waitFor(() => (decisions.get(announcementId)?.length ?? 0) >= running, 5000, 'every executor\'s decision').catch(() => {})
      const ds = decisions.get(announcementId) ?? []
      log('originator', 'why not — each executor\'s failed policy rules:', green)
      for (const d of ds) log('originator', `  why not ${d.executor}: ${d.bid ? `it bid ${d.price ?? 'free'}` : d.failed.join('; ')}`, green)
      if (step.expect.kind === 'nobody') {
        const explained = ds.filter((d) => !d.bid && d.failed.length > 0).length
        return explained >= running ? { ok: true, note: `no executor took it; ${explained} why-not explanations` } : { ok: false, note: `only ${explained} of ${running} executors explained why not` }
      }
      return { ok: false, note: `nobody took it: ${err.message}` }
    }
    const msg = err instanceof OriginatorError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)
    log('originator', red(msg), green)
    return { ok: false, note: msg }
  }
}

// ---- main ----------------------------------------------------------------------------------------
let stopping = false
let dir: string | undefined
let node: MeshNode | undefined
let originator: Originator | undefined
const ctl = new AbortController()

/** Last resort when the process exits without the orderly stop: no orphans, no temp dir left behind. */
process.on('exit', () => {
  for (const x of executors) if (!x.exited) { try { x.child.kill('SIGKILL') } catch { /* gone */ } }
  if (dir !== undefined) { try { rmSync(dir, { recursive: true, force: true }) } catch { /* best effort */ } }
})

async function stopAll (): Promise<void> {
  stopping = true
  ctl.abort()
  originator?.close()
  await node?.stop().catch(() => {})
  const graceMs = 5000
  await Promise.all(executors.map(async (x) => {
    if (x.exited) return
    const gone = new Promise<void>((resolve) => { x.child.once('exit', () => { resolve() }) })
    x.child.kill('SIGTERM')
    const timer = setTimeout(() => { if (!x.exited) { log(x.spec.name, red(`no exit after ${graceMs} ms: SIGKILL`)); x.child.kill('SIGKILL') } }, graceMs)
    await gone
    clearTimeout(timer)
  }))
  if (dir !== undefined) {
    await rm(dir, { recursive: true, force: true })
    log('demo', `stopped ${executors.length} executor(s), removed ${dir}`)
  }
}

let interrupted = false
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) { process.stderr.write('demo: forced exit\n'); process.exit(130) }
    interrupted = true
    stopping = true
    log('demo', `${sig}: stopping…`)
    ctl.abort()
  })
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done (): void { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
  })
}

async function main (): Promise<number> {
  dir = await mkdtemp(join(tmpdir(), 'mesh-demo-'))
  heading('a local ICN mesh market on 127.0.0.1')
  log('demo', `temp dir ${dir}${ONCE ? ' (--once: one pass of the job stream)' : '; Ctrl+C stops everything'}`)

  heading('starting three executor processes (bin/mesh-executor.js start --json --lan …)')
  const [first, ...rest] = EXECUTORS as [ExecutorSpec, ...ExecutorSpec[]]
  const a = await startExecutor(first, dir, undefined)
  if (ctl.signal.aborted) return 130
  const others = await Promise.all(rest.map(async (s) => await startExecutor(s, dir as string, a.addr)))
  if (ctl.signal.aborted) return 130
  const all = [a, ...others]

  heading('starting the originator (in this process: createMeshNode + AccessBlockStore + createOriginator)')
  const identity = generateIdentity()
  const blocks = new AccessBlockStore()
  node = await createMeshNode({
    identity, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: all.map((x) => x.addr as string), lan: true, blockStore: blocks, heartbeatMs: 200
  })
  await node.start()
  const mesh = node
  nameOf.set(identity.did, 'originator')
  log('originator', `${identity.did}\n${dim(mesh.multiaddrs().join(' '))}`, green)
  const deadline = Date.now() + 30_000
  while (!all.every((x) => mesh.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(x.peerId as string))) {
    if (Date.now() > deadline) throw new Error(`the executors did not subscribe to ${JOBS_ANNOUNCE_TOPIC} within 30 s (connected: ${mesh.connectedPeers().length})`)
    if (ctl.signal.aborted) return 130
    await sleep(50, ctl.signal)
  }
  log('originator', `connected to ${mesh.connectedPeers().length} peers; all ${all.length} executors listen to ${JOBS_ANNOUNCE_TOPIC}`, green)
  originator = createOriginator({ node: mesh, identity, blocks })

  const stream = steps()
  const tally: Array<{ step: Step, outcome: Outcome }> = []
  let n = 0
  while (!ctl.signal.aborted) {
    for (const step of stream) {
      if (ctl.signal.aborted) break
      n++
      let outcome: Outcome
      try {
        outcome = await runStep(originator, step, n, ctl.signal)
      } catch (err) {
        if (ctl.signal.aborted) break
        throw err
      }
      tally.push({ step, outcome })
      log('demo', outcome.ok ? green(`✓ step ${n}: ${outcome.note}`) : red(`✗ step ${n}: ${outcome.note}`))
      if (!ONCE) await sleep(INTERVAL_MS, ctl.signal)
    }
    if (ONCE) break
  }

  // earnings: the executors' own job:finished events (a completed job earns its bid's price)
  const completedIds = tally.map((t) => t.outcome.result?.announcementId).filter((x): x is string => x !== undefined)
  await waitFor(() => completedIds.every((id) => finished.has(id)), 5000, 'the executors\' job:finished events').catch(() => {})
  heading('summary')
  const ok = tally.filter((t) => t.outcome.ok).length
  log('demo', `${tally.length} job(s) submitted, ${ok} went as expected${ok < tally.length ? red(`, ${tally.length - ok} did not`) : ''}`)
  const shownFrom = Math.max(0, tally.length - 20)
  if (shownFrom > 0) log('demo', dim(`(the last 20 of ${tally.length})`))
  for (const [i, t] of tally.entries()) if (i >= shownFrom) log('demo', `${t.outcome.ok ? green('✓') : red('✗')} ${String(i + 1).padStart(2)}. ${t.step.file.padEnd(18)} ${t.outcome.note}`)
  const paidByOriginator = tally.reduce((s, t) => s + (t.outcome.result?.price ?? 0n), 0n)
  log('demo', 'earnings per executor (sum of the bid prices of completed jobs, from job:finished events):')
  let earnedTotal = 0n
  for (const x of all) {
    const mine = [...finished.values()].filter((f) => f.executor === x.spec.name)
    const done = mine.filter((f) => f.status === 'CompletedSuccessfully')
    const earned = done.reduce((s, f) => s + BigInt(f.price ?? '0'), 0n)
    earnedTotal += earned
    log('demo', `  earnings ${x.spec.name.padEnd(6)} ${String(earned).padStart(5)} tokens  (${done.length} completed, ${mine.length - done.length} failed; ${x.spec.region})`, execColor(x.spec.name))
  }
  log('demo', `  total ${earnedTotal} tokens; the originator's verified receipts add up to ${paidByOriginator}${earnedTotal === paidByOriginator ? ' ✓' : red(' ✗ mismatch')}`)
  if (a.ui !== undefined) log('demo', `dashboard of alpha: ${bold(a.ui)}`)
  const allOk = ok === tally.length && tally.length > 0 && earnedTotal === paidByOriginator
  if (ONCE) log('demo', allOk ? green('every step went as expected') : red('some steps did not go as expected'))
  return allOk || !ONCE ? 0 : 1
}

let code: number
try {
  code = await main()
} catch (err) {
  process.stderr.write(`demo: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  code = 1
}
await stopAll().catch((err: unknown) => { process.stderr.write(`demo: stopping: ${String(err)}\n`) })
if (interrupted && ONCE && code === 0) code = 130
process.exitCode = code
// everything we own is closed by now; a stray library timer must not keep the process alive
setTimeout(() => { process.exit(code) }, 1000).unref()
