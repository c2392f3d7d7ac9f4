/**
 * job-roundtrip: announcement → verified receipt, 3 real libp2p nodes on 127.0.0.1 (one originator,
 * two executors), a tiny module (assets/jobs/fuel_basic.wasm, prints "hello") run in the real
 * sandbox, "first valid bid" selection (no bidding window to wait for). The executors are real
 * executor daemons (`startDaemon`: auto-bidder, executor lifecycle, store, sandbox host), or with
 * --test-executor the minimal in-test executor of test/main/originator/test-executor.ts.
 * By default each executor daemon runs in its own process (bench/lib/daemon-child.ts), as on a
 * seller's machine; --in-process runs them in the bench's process (one event loop for all three nodes).
 * Usage: npm run bench -- roundtrip [--rounds N] [--warmup N] [--executors N] [--gap MS] [--direct-after MS] [--no-dht-put] [--test-executor] [--in-process] [--trace]
 *   --executors N      executor daemons (1–4, default 2); with 1, its CPU per round is all a winner's work
 *   --gap MS           idle time between rounds (default 0: back to back, so a round shares the CPU with the
 *                      previous round's background work — its DHT put, the spare host's start)
 *   --direct-after MS  the originator's receiptDirectAfterMs: the DHT first, the executor after MS (default: the executor first)
 *   --no-dht-put       the executors do not put receipts in the DHT (the fetch falls back to them)
 *   --trace            also print {"bench":"job-roundtrip-trace",…}: the p50 time (ms after the announcement
 *                      was published) of every step of the assigned executor and the originator
 * Prints one JSON line: {"bench":"job-roundtrip","nodes":3,"p50_ms":…,"p99_ms":…,"breakdown":{…}}.
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '../src/main/daemon/index.js'
import { createSandbox } from '../src/main/sandbox/index.js'
import { JOBS_ANNOUNCE_TOPIC } from '../src/main/mesh/index.js'
import { createIntakeLimiter, DEFAULT_INTAKE } from '../src/shared/policy/rules.js'
import type { OriginatorEvent, SubmitResult } from '../src/main/originator/index.js'
import { startOriginator, until } from '../test/main/originator/harness.js'
import { startTestExecutor } from '../test/main/originator/test-executor.js'
import { spawnDaemonChild } from './lib/daemons.js'
import { numberArg, flag } from './lib/args.js'
import { treeCpuMs } from './lib/proc-cpu.js'

const ROUNDS = numberArg('rounds', 60)
const WARMUP = numberArg('warmup', 5)
const GAP = numberArg('gap', 0)
/** executor daemons bidding on every round (the bench's figure is for 2) */
const EXECUTORS = Math.max(1, Math.min(4, numberArg('executors', 2)))
/** head start of the DHT lookup before the executor is asked directly (ms); -1: the originator's default */
const DIRECT_AFTER = numberArg('direct-after', -1)
const NO_DHT_PUT = flag('no-dht-put')
const TEST_EXECUTOR = flag('test-executor')
const TRACE = flag('trace')
/** the executor daemons run in the bench's own process (one event loop for all three nodes) */
const IN_PROCESS = flag('in-process')

function pct (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))
  return Math.round((s[i] ?? NaN) * 10) / 10
}

const module = new Uint8Array(readFileSync(new URL('../assets/jobs/fuel_basic.wasm', import.meta.url)))
const sandbox = createSandbox()
const o = await startOriginator({ receiptDhtTimeoutMs: 1000, ...(DIRECT_AFTER >= 0 ? { receiptDirectAfterMs: DIRECT_AFTER } : {}) })
interface Exec {
  peerId: string
  did: string
  dial: (addr: string) => Promise<void>
  topicPeers: (t: string) => Promise<string[]>
  stop: () => Promise<void>
  /** the daemon's own process (undefined: it runs in the bench's process) */
  pid?: number
  /** reports the daemon's steps (epoch ms) */
  trace?: (mark: (did: string, step: string, t: number) => void) => void
}
const POLICY = { pricing: { mode: 'fixed', price: 5 }, maxConcurrentJobs: 8, stopOnBattery: false, bidMarginMs: 0 }
const epochNow = (): number => performance.timeOrigin + performance.now()
const dirs: string[] = []
async function realExecutor (): Promise<Exec> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-rt-'))
  dirs.push(dir)
  const d = await startDaemon({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, policy: POLICY })
  const trace = (mark: (did: string, step: string, t: number) => void): void => {
    const me = d.identity.did
    const m = (step: string): void => { mark(me, step, epochNow()) }
    d.node.events.on('message:received', (e) => { if (e.message.variant === 'JobAnnouncementV1') m('exec:announcement_received') })
    d.events.on('announcement:decided', () => { m('exec:decided') })
    d.events.on('bid:sent', () => { m('exec:bid_answered') })
    d.events.on('job:accepted', () => { m('exec:assignment_accepted') })
    d.events.on('job:state', (e) => { m(`exec:state_${e.state}`) })
    d.events.on('job:finished', () => { m('exec:finished') })
    d.events.on('receipt:published', () => { m('exec:dht_published') })
  }
  return { peerId: d.identity.peerId, did: d.identity.did, dial: async (a) => { await d.node.dial(a) }, topicPeers: async (t) => d.node.topicPeers(t), stop: async () => { await d.stop({ graceMs: 0 }) }, trace }
}
/** A real executor daemon in its own process (bench/lib/daemon-child.ts), as on a seller's machine. */
async function childExecutor (): Promise<Exec> {
  const c = await spawnDaemonChild({ policy: POLICY, trace: TRACE })
  return {
    peerId: c.peerId,
    did: c.did,
    pid: c.pid,
    dial: c.dial,
    topicPeers: c.topicPeers,
    stop: c.stop,
    trace: (mark) => { c.onMark((step, t) => { mark(c.did, step, t) }) }
  }
}
async function testExecutor (): Promise<Exec> {
  const e = await startTestExecutor({ sandbox, price: 5, putReceipt: !NO_DHT_PUT })
  return { peerId: e.node.peerId, did: e.id.did, dial: async (a) => { await e.node.dial(a) }, topicPeers: async (t) => e.node.topicPeers(t), stop: async () => { await e.stop() } }
}
const execs = await Promise.all(Array.from({ length: EXECUTORS }, (_, i) => i).map(async () => TEST_EXECUTOR ? await testExecutor() : IN_PROCESS ? await realExecutor() : await childExecutor()))
for (const e of execs) {
  const addr = o.node.multiaddrs()[0]
  if (addr === undefined) throw new Error('no address')
  await e.dial(addr)
}
const subscribed = new Set<string>()
await until(() => {
  for (const e of execs) void e.topicPeers(JOBS_ANNOUNCE_TOPIC).then((ps) => { if (ps.includes(o.node.peerId)) subscribed.add(e.peerId) })
  return execs.every((e) => o.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(e.peerId) && subscribed.has(e.peerId))
}, 'gossip subscriptions', 20_000)

// --trace: per round, the first time each step happened (ms since the submission started)
let roundStart = 0
let marks = new Map<string, number>()
const mark = (did: string, step: string, t: number): void => {
  const k = `${did} ${step}`
  if (!marks.has(k)) marks.set(k, t - roundStart)
}
if (TRACE) for (const e of execs) e.trace?.(mark)
const steps: Record<string, number[]> = {}
const total: number[] = []
const parts: Record<string, number[]> = { announce_to_first_bid: [], bid_to_accepted: [], accepted_to_receipt_available: [], receipt_fetch: [], verify_and_output: [] }
const via: Record<string, number> = { dht: 0, executor: 0 }
/** rounds each executor was assigned */
const wins = execs.map(() => 0)
let cpu0 = process.cpuUsage()
let elu0 = performance.eventLoopUtilization()
/** CPU of each executor daemon's process tree (its spawner helper and sandbox hosts included) */
const execCpu = (): Array<number | undefined> => execs.map((e) => e.pid === undefined ? undefined : treeCpuMs(e.pid))
let execCpu0 = execCpu()
let wall0 = performance.now()
/** time spent waiting for the executors' intake bucket: not part of the rounds */
let admitWaitMs = 0
const waitCpu = { originator: 0, executors: execs.map(() => 0) }
// The executors evaluate at most 60 announcements at once from one originator, then 2/s (their
// default intake). Past that a round waits for the bucket, off the clock; without the wait a fast
// machine ran out on the 65th round and the bench died with NoBids. One token of margin: an
// executor's bucket starts when the first (slower, cold) announcement arrives, so it holds a
// little less than ours.
const admit = createIntakeLimiter({ burst: DEFAULT_INTAKE.burst - 1, perSecond: DEFAULT_INTAKE.perSecond }, () => performance.now())
for (let i = 0; i < WARMUP + ROUNDS; i++) {
  if (i === WARMUP) { cpu0 = process.cpuUsage(); elu0 = performance.eventLoopUtilization(); execCpu0 = execCpu(); wall0 = performance.now() }
  if (!admit('bench')) {
    // an intake wait is not part of the rounds: its time and the CPU used meanwhile are left out
    const w0 = performance.now()
    const c0 = process.cpuUsage()
    const e0 = execCpu()
    while (!admit('bench')) await new Promise((resolve) => setTimeout(resolve, 25))
    if (i >= WARMUP) {
      admitWaitMs += performance.now() - w0
      const c = process.cpuUsage(c0)
      waitCpu.originator += (c.user + c.system) / 1000
      execCpu().forEach((v, k) => { waitCpu.executors[k] = (waitCpu.executors[k] ?? 0) + (v ?? 0) - (e0[k] ?? 0) })
    }
  }
  if (GAP > 0) await new Promise((resolve) => setTimeout(resolve, GAP))
  const t0 = performance.now()
  roundStart = epochNow()
  marks = new Map()
  const onEvent = TRACE ? (e: OriginatorEvent): void => { mark(o.id.did, `orig:${e.type}${e.type === 'status:received' ? `_${e.status}` : ''}`, epochNow()) } : undefined
  const r: SubmitResult = await o.originator.submit({ module, maxFuel: 1_000_000, timeoutSeconds: 10, biddingWindowMs: 10_000, selection: 'first-valid-bid' }, { onEvent })
  const ms = performance.now() - t0
  if (new TextDecoder().decode(r.output) !== 'hello\n') throw new Error('wrong output')
  if (i < WARMUP) continue
  total.push(ms)
  const t = r.timings
  const d = (a: number | undefined, b: number | undefined): number => (a === undefined || b === undefined ? NaN : b - a)
  parts.announce_to_first_bid?.push(d(t.announcedAt, t.firstBidAt))
  parts.bid_to_accepted?.push(d(t.firstBidAt, t.acceptedAt))
  parts.accepted_to_receipt_available?.push(d(t.acceptedAt, t.receiptAvailableAt))
  parts.receipt_fetch?.push(d(t.receiptAvailableAt, t.receiptFetchedAt))
  parts.verify_and_output?.push(d(t.receiptFetchedAt, t.verifiedAt))
  via[r.receiptVia] = (via[r.receiptVia] ?? 0) + 1
  const won = execs.findIndex((e) => e.did === r.executorDid)
  if (won >= 0) wins[won] = (wins[won] ?? 0) + 1
  for (const [k, v] of marks) {
    const [did, step] = k.split(' ') as [string, string]
    // the originator's steps, and the assigned executor's
    if (did !== o.id.did && did !== r.executorDid) continue
    ;(steps[step] ??= []).push(v)
  }
}

const wallMs = performance.now() - wall0 - admitWaitMs
const cpu = process.cpuUsage(cpu0)
const elu = performance.eventLoopUtilization(elu0)
const perRound = (ms: number): number => Math.round(ms / ROUNDS * 10) / 10
const originatorCpu = (cpu.user + cpu.system) / 1000 - waitCpu.originator
const execUsed = execCpu().map((v, i) => (v === undefined || execCpu0[i] === undefined ? undefined : v - (execCpu0[i] as number) - (waitCpu.executors[i] ?? 0)))
const measured = execUsed.every((v) => v !== undefined) && !IN_PROCESS && !TEST_EXECUTOR
const used = measured ? originatorCpu + execUsed.reduce((a: number, b) => a + (b as number), 0) : undefined
const breakdown: Record<string, number | Record<string, number>> = {}
for (const [k, xs] of Object.entries(parts)) breakdown[`${k}_p50_ms`] = pct(xs, 50)
breakdown.receipt_via = via
console.log(JSON.stringify({
  bench: 'job-roundtrip',
  nodes: 1 + EXECUTORS,
  rounds: ROUNDS,
  module: 'fuel_basic.wasm',
  selection: 'first-valid-bid',
  receipt_direct_after_ms: DIRECT_AFTER >= 0 ? DIRECT_AFTER : 'default',
  executors_put_dht: TEST_EXECUTOR ? !NO_DHT_PUT : true,
  executor: TEST_EXECUTOR ? 'in-test executor (test/main/originator/test-executor.ts) + real sandbox' : 'real executor daemons (startDaemon)',
  topology: TEST_EXECUTOR || IN_PROCESS ? 'one process' : 'one process per executor daemon',
  p50_ms: pct(total, 50),
  p99_ms: pct(total, 99),
  mean_ms: Math.round((total.reduce((a, b) => a + b, 0) / total.length) * 10) / 10,
  gap_ms: GAP,
  breakdown,
  // CPU per round of the originator's process and of each executor daemon's process tree (its
  // spawner helper and sandbox hosts included; Linux /proc, 10 ms ticks), and the cores that kept busy
  // (all that CPU over the rounds' wall time, gaps included; intake waits and the CPU used during them left out)
  ...(measured && used !== undefined
    ? {
        cpu_ms_per_round: { originator: perRound(originatorCpu), executors: execUsed.map((v) => perRound(v as number)), executors_assigned_rounds: wins, total: perRound(used) },
        cores_busy: Math.round(used / wallMs * 100) / 100
      }
    : {})
}))

if (TRACE) {
  const timeline = Object.entries(steps).map(([k, xs]) => [k, pct(xs, 50)] as const).sort((a, b) => a[1] - b[1])
  console.log(JSON.stringify({
    bench: 'job-roundtrip-trace', rounds: ROUNDS, p50_ms_since_submit: Object.fromEntries(timeline),
    // this process (originator + executors): CPU per round, and how busy its event loop was
    cpu_ms_per_round: Math.round((cpu.user + cpu.system) / 1000 / ROUNDS * 10) / 10, event_loop_utilization: Math.round(elu.utilization * 100) / 100
  }))
}

o.originator.close()
await Promise.all([o.node.stop(), ...execs.map(async (e) => { await e.stop() })])
await sandbox.close()
for (const d of dirs) await rm(d, { recursive: true, force: true })
process.exit(0)
