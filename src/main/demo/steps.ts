/** The demo's job stream: real sample jobs of assets/jobs, each with what must come of it. */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { QosProfile } from '../../shared/protocol/index.js'
import { unreachable } from '../../shared/exhaustive.js'
import { ExecutorFailedError, NoBidsError, NoValidBidsError, OriginatorError } from '../originator/index.js'
import type { Originator, OriginatorEvent, SubmitJob, SubmitResult } from '../originator/index.js'
import { asset, jobTag, waitFor, who, type DemoState } from './state.js'

const TEXT = `The ICN Planetary Mesh runs jobs for whoever pays,
on machines that would otherwise sit idle,
and every result comes back with a signed receipt.
`
type Expect = { kind: 'ok', check: (out: Uint8Array) => string | undefined } | { kind: 'fail', reason: string } | { kind: 'nobody' }

export interface Step {
  title: string
  file: string
  job: Omit<SubmitJob, 'module'>
  stdinLines?: string[]
  expect: Expect
}

export interface Outcome { ok: boolean, note: string, result?: SubmitResult }

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (out: Uint8Array): string => Buffer.from(out).toString('utf8')
const want = (ok: boolean, note: string): string | undefined => ok ? undefined : note

export function steps (): Step[] {
  const digest = createHash('sha256').update(TEXT).digest('hex')
  const wc = `${TEXT.split('\n').length - 1} ${TEXT.split(/\s+/).filter((w) => w !== '').length} ${Buffer.byteLength(TEXT)}`
  return [
    {
      title: 'sha256 of a short text', file: 'sha256.wasm',
      job: { input: enc(TEXT), maxFuel: 20_000_000, timeoutSeconds: 30, description: 'demo: sha256' },
      expect: { kind: 'ok', check: (o) => want(text(o).trim() === digest, `want ${digest}`) }
    },
    {
      title: 'wordcount of the same text (small fuel budget: per-fuel pricing is cheapest)', file: 'wordcount.wasm',
      job: { input: enc(TEXT), maxFuel: 3_000_000, timeoutSeconds: 30, description: 'demo: wordcount' },
      expect: { kind: 'ok', check: (o) => want(text(o).trim() === wc, `want "${wc}"`) }
    },
    {
      title: 'primes up to 100000, only in region us-east', file: 'sieve.wasm',
      job: { input: enc('100000'), maxFuel: 50_000_000, timeoutSeconds: 30, region: 'us-east', description: 'demo: sieve' },
      expect: { kind: 'ok', check: (o) => want(text(o).trim() === '9592 99991', 'want "9592 99991"') }
    },
    {
      title: 'a 96×64 Mandelbrot image, LowLatency QoS', file: 'mandelbrot.wasm',
      job: { input: enc('96 64 128'), maxFuel: 200_000_000, timeoutSeconds: 30, qos: 'LowLatency' as QosProfile, description: 'demo: mandelbrot' },
      expect: { kind: 'ok', check: (o) => want(text(o.subarray(0, 13)) === 'P5\n96 64\n255\n' && o.byteLength === 13 + 96 * 64, 'want a 96×64 binary PGM') }
    },
    {
      title: 'the interactive calculator (stdin streamed to the job)', file: 'calc.wasm',
      job: { interactive: true, maxFuel: 20_000_000, timeoutSeconds: 30, description: 'demo: calculator' },
      stdinLines: ['6*7\n', '(1+2)*(3+4)\n', '100/7\n', 'quit\n'],
      expect: { kind: 'ok', check: (o) => want(text(o) === '= 42\n= 21\n= 14\nbye\n', 'want "= 42", "= 21", "= 14", "bye"') }
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

/** One originator event as a log line (undefined: not worth a line). */
export function describe (st: DemoState, e: OriginatorEvent): string | undefined {
  const { out } = st
  const name = (did: string): string => who(st, did)
  switch (e.type) {
    case 'job:announced': return `announced ${jobTag(e.announcementId)} to ${e.recipients} peer(s) on ${e.topics.length} topic(s); collecting bids for ${e.biddingWindowMs} ms`
    case 'bid:received': return `bid from ${name(e.executorDid)}: price ${e.price ?? 'free'}${e.region !== undefined ? `, region ${e.region}` : ''}`
    case 'bid:refused': return `refused a bid from ${name(e.executorDid)}: ${e.reason} ${e.detail}`
    case 'selection:made': {
      const rank = e.ranking.map((r) => `${name(r.bid.executorDid)} (price ${r.bid.price ?? 'free'}, rep ${r.reputation}, score ${r.score})`).join(' > ')
      const lines = [e.chosen === undefined ? 'winner: nobody' : `winner: ${out.bold(name(e.chosen))}   ranking: ${rank}`]
      for (const r of e.refused) lines.push(`  not ${name(r.bid.executorDid)}: ${r.reasons.join('; ')}`)
      return lines.join('\n')
    }
    case 'job:assigned': return `assigned ${jobTag(e.announcementId)} to ${name(e.executorDid)} (attempt ${e.attempt}${e.price !== undefined ? `, price ${e.price}` : ''})`
    case 'assign:refused': return `${name(e.executorDid)} refused the assignment: ${e.error} ${e.message}`
    case 'assignee:silent': return `${name(e.executorDid)} sent no status within ${e.waitedMs} ms; trying the next bidder`
    case 'status:received': {
      const s = e.status === 'Completed' ? out.green(e.status) : e.status === 'Failed' ? out.red(e.status) : e.status
      return `status from ${name(e.executorDid)}: ${s}${e.details !== undefined ? ` (${e.details})` : ''}`
    }
    case 'stdin:sent': return e.isFinal ? 'stdin closed' : `stdin chunk ${e.sequence} sent (${e.bytes} bytes)`
    case 'stdin:failed': return out.red(`sending stdin failed: ${e.error}`)
    case 'output:received': return undefined
    case 'receipt:available': return `receipt ${e.receiptCid} announced (${e.channel})`
    case 'receipt:fetched': return `receipt fetched from ${e.via === 'dht' ? 'the DHT' : 'the executor'} in ${e.ms} ms`
    case 'receipt:verified': {
      const ok = e.status === 'CompletedSuccessfully'
      return `receipt verified ✓ (CID, signature, DIDs, announcement, module/input CIDs, price${ok ? ', output' : ''}): ${ok ? out.green(e.status) : out.red(`${e.status} ${e.failureReason ?? ''}`)}`
    }
    case 'receipt:invalid': return out.red(`receipt INVALID (${e.check}): ${e.detail}`)
    default: return unreachable(e, 'originator event')
  }
}

function stepHeading (step: Step, n: number): string {
  const j = step.job
  const extra = [`max_fuel ${String(j.maxFuel)}`, j.maxPrice !== undefined ? `max_price ${String(j.maxPrice)}` : '',
    j.region !== undefined ? `region ${j.region}` : '', j.qos !== undefined ? `qos ${j.qos}` : ''].filter((s) => s !== '')
  return `job ${n}: ${step.title}  (${step.file}, ${extra.join(', ')})`
}

function stdinOf (st: DemoState, step: Step): AsyncIterable<Uint8Array> | undefined {
  if (step.stdinLines === undefined) return undefined
  const lines = step.stdinLines
  return (async function * () {
    for (const line of lines) {
      st.out.log('originator', `stdin: ${JSON.stringify(line)}`, st.out.green)
      yield enc(line)
    }
  })()
}

function completed (st: DemoState, step: Step, result: SubmitResult): Outcome {
  const { out } = st
  const o = result.output
  const shown = step.file === 'mandelbrot.wasm'
    ? `${o.byteLength} bytes of PGM (${text(o.subarray(0, 13)).replace(/\n/g, ' ').trim()} …)`
    : JSON.stringify(text(o))
  out.log('originator', `output: ${shown}`, out.green)
  out.log('originator', `receipt ${out.bold(result.receiptCid)} verified; ${who(st, result.executorDid)} earned ${result.price ?? 0} for fuel ${String(result.receipt.fuel_used)}`, out.green)
  if (step.expect.kind !== 'ok') return { ok: false, note: `expected ${step.expect.kind === 'fail' ? step.expect.reason : 'no executor'}, but it completed`, result }
  const bad = step.expect.check(o)
  return bad === undefined ? { ok: true, note: `completed on ${who(st, result.executorDid)}`, result } : { ok: false, note: `wrong output: ${bad}`, result }
}

/** Nobody bid (or no bid was acceptable): every executor explains itself in its announcement:decided event. */
async function nobody (st: DemoState, step: Step, err: NoBidsError | NoValidBidsError, announcementId: string): Promise<Outcome> {
  const { out } = st
  out.log('originator', `${out.red(err.code)}: ${err.message}`, out.green)
  if (err instanceof NoValidBidsError) for (const w of err.why) out.log('originator', `  not ${who(st, w.executorDid)}: ${w.reasons.join('; ')}`, out.green)
  const running = st.executors.filter((x) => !x.exited).length
  await waitFor(st, () => (st.decisions.get(announcementId)?.length ?? 0) >= running, 5000, 'every executor\'s decision').catch(() => {})
  const ds = st.decisions.get(announcementId) ?? []
  out.log('originator', 'why not — each executor\'s failed policy rules:', out.green)
  for (const d of ds) out.log('originator', `  why not ${d.executor}: ${d.bid ? `it bid ${d.price ?? 'free'}` : d.failed.join('; ')}`, out.green)
  if (step.expect.kind !== 'nobody') return { ok: false, note: `nobody took it: ${err.message}` }
  const explained = ds.filter((d) => !d.bid && d.failed.length > 0).length
  return explained >= running ? { ok: true, note: `no executor took it; ${explained} why-not explanations` } : { ok: false, note: `only ${explained} of ${running} executors explained why not` }
}

async function failed (st: DemoState, step: Step, err: unknown, announcementId: string): Promise<Outcome> {
  const { out } = st
  if (err instanceof ExecutorFailedError) {
    out.log('originator', `executor reported ${out.red(err.reason)}; receipt ${err.receiptCid ?? '?'} verified (a job's own fault: the executor keeps its reputation)`, out.green)
    if (step.expect.kind === 'fail' && step.expect.reason === err.reason) return { ok: true, note: `ended ${err.reason} as expected` }
    return { ok: false, note: `failed: ${err.message}` }
  }
  if (err instanceof NoBidsError || err instanceof NoValidBidsError) return await nobody(st, step, err, announcementId)
  const msg = err instanceof OriginatorError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)
  out.log('originator', out.red(msg), out.green)
  return { ok: false, note: msg }
}

/** Submits one step's job and judges what came of it. */
export async function runStep (st: DemoState, originator: Originator, step: Step, n: number, signal: AbortSignal): Promise<Outcome> {
  const { out } = st
  const module = new Uint8Array(await readFile(asset(step.file)))
  out.heading(stepHeading(step, n))
  let announcementId = ''
  const stdin = stdinOf(st, step)
  const job: SubmitJob = { ...step.job, module, biddingWindowMs: st.opts.windowMs }
  try {
    const result = await originator.submit(job, {
      signal,
      onEvent: (e) => {
        if (e.type === 'job:announced') announcementId = e.announcementId
        const line = describe(st, e)
        if (line !== undefined) out.log('originator', line, out.green)
      },
      ...(stdin !== undefined
        ? { stdin, onOutput: (chunk: Uint8Array) => { out.log('originator', `job output: ${JSON.stringify(text(chunk))}`, out.green) } }
        : {})
    })
    return completed(st, step, result)
  } catch (err) {
    if (signal.aborted) throw err
    return await failed(st, step, err, announcementId)
  }
}
