/**
 * job-roundtrip: announcement → verified receipt, 3 real libp2p nodes on 127.0.0.1 (one originator,
 * two executors), a tiny module (assets/jobs/fuel_basic.wasm, prints "hello") run in the real
 * sandbox, "first valid bid" selection (no bidding window to wait for). The executors are real
 * executor daemons (`startDaemon`: auto-bidder, executor lifecycle, store, sandbox host), or with
 * --test-executor the minimal in-test executor of test/main/originator/test-executor.ts.
 * Usage: npm run bench -- roundtrip [--rounds N] [--warmup N] [--direct-after MS] [--no-dht-put] [--test-executor]
 *   --direct-after MS  the originator's receiptDirectAfterMs (default: its default, 10 ms)
 *   --no-dht-put       the executors do not put receipts in the DHT (the fetch falls back to them)
 * Prints one JSON line: {"bench":"job-roundtrip","nodes":3,"p50_ms":…,"p99_ms":…,"breakdown":{…}}.
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '../src/main/daemon/index.js'
import { createSandbox } from '../src/main/sandbox/index.js'
import { JOBS_ANNOUNCE_TOPIC } from '../src/main/mesh/index.js'
import type { SubmitResult } from '../src/main/originator/index.js'
import { startOriginator, until } from '../test/main/originator/harness.js'
import { startTestExecutor } from '../test/main/originator/test-executor.js'

const args = process.argv.slice(2)
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : dflt
}
const ROUNDS = arg('rounds', 60)
const WARMUP = arg('warmup', 5)
/** head start of the DHT lookup before the executor is asked directly (ms); -1: the originator's default */
const DIRECT_AFTER = arg('direct-after', -1)
const NO_DHT_PUT = args.includes('--no-dht-put')
const TEST_EXECUTOR = args.includes('--test-executor')

function pct (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))
  return Math.round((s[i] ?? NaN) * 10) / 10
}

const module = new Uint8Array(readFileSync(new URL('../assets/jobs/fuel_basic.wasm', import.meta.url)))
const sandbox = createSandbox()
const o = await startOriginator({ receiptDhtTimeoutMs: 1000, ...(DIRECT_AFTER >= 0 ? { receiptDirectAfterMs: DIRECT_AFTER } : {}) })
interface Exec { peerId: string, dial: (addr: string) => Promise<void>, topicPeers: (t: string) => string[], stop: () => Promise<void> }
const dirs: string[] = []
async function realExecutor (): Promise<Exec> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-rt-'))
  dirs.push(dir)
  const d = await startDaemon({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, policy: { pricing: { mode: 'fixed', price: 5 }, maxConcurrentJobs: 8, stopOnBattery: false, bidMarginMs: 0 } })
  return { peerId: d.identity.peerId, dial: async (a) => { await d.node.dial(a) }, topicPeers: (t) => d.node.topicPeers(t), stop: async () => { await d.stop({ graceMs: 0 }) } }
}
async function testExecutor (): Promise<Exec> {
  const e = await startTestExecutor({ sandbox, price: 5, putReceipt: !NO_DHT_PUT })
  return { peerId: e.node.peerId, dial: async (a) => { await e.node.dial(a) }, topicPeers: (t) => e.node.topicPeers(t), stop: async () => { await e.stop() } }
}
const execs = await Promise.all([0, 1].map(async () => TEST_EXECUTOR ? await testExecutor() : await realExecutor()))
for (const e of execs) {
  const addr = o.node.multiaddrs()[0]
  if (addr === undefined) throw new Error('no address')
  await e.dial(addr)
}
await until(() => execs.every((e) => o.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(e.peerId) && e.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(o.node.peerId)), 'gossip subscriptions', 20_000)

const total: number[] = []
const parts: Record<string, number[]> = { announce_to_first_bid: [], bid_to_accepted: [], accepted_to_receipt_available: [], receipt_fetch: [], verify_and_output: [] }
const via: Record<string, number> = { dht: 0, executor: 0 }
for (let i = 0; i < WARMUP + ROUNDS; i++) {
  const t0 = performance.now()
  const r: SubmitResult = await o.originator.submit({ module, maxFuel: 1_000_000, timeoutSeconds: 10, biddingWindowMs: 10_000, selection: 'first-valid-bid' })
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
}

const breakdown: Record<string, number | Record<string, number>> = {}
for (const [k, xs] of Object.entries(parts)) breakdown[`${k}_p50_ms`] = pct(xs, 50)
breakdown.receipt_via = via
console.log(JSON.stringify({
  bench: 'job-roundtrip',
  nodes: 3,
  rounds: ROUNDS,
  module: 'fuel_basic.wasm',
  selection: 'first-valid-bid',
  receipt_direct_after_ms: DIRECT_AFTER >= 0 ? DIRECT_AFTER : 'default',
  executors_put_dht: TEST_EXECUTOR ? !NO_DHT_PUT : true,
  executor: TEST_EXECUTOR ? 'in-test executor (test/main/originator/test-executor.ts) + real sandbox' : 'real executor daemons (startDaemon)',
  p50_ms: pct(total, 50),
  p99_ms: pct(total, 99),
  mean_ms: Math.round((total.reduce((a, b) => a + b, 0) / total.length) * 10) / 10,
  breakdown
}))

o.originator.close()
await Promise.all([o.node.stop(), ...execs.map(async (e) => { await e.stop() })])
await sandbox.close()
for (const d of dirs) await rm(d, { recursive: true, force: true })
process.exit(0)
