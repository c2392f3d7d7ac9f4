/**
 * Cold paths of a fresh executor daemon (issue 16, item 4), each in its own process on 127.0.0.1:
 *
 * {"bench":"cold-start",…}
 *   first_ad_after_ready_ms   from the daemon's startDaemon() resolving ("ready") to its first
 *                             capability ad arriving at the bootstrap peer it is connected to
 *   first_job_*               the first job the fresh daemon runs, from accepting the assignment
 *                             to Running (inputs fetched) and to finished (receipt signed); and the
 *                             originator's assignment → verified receipt
 *   warm_job_*                the same, median of the next jobs
 * The module is sha256.wasm with a custom section holding a random nonce, so it is new to the daemon
 * (nothing precompiled for it); `--sample` uses sample fuel_basic.wasm as is.
 * Usage: npm run bench -- cold [--runs N] [--sample]
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { CAPABILITIES_TOPIC, JOBS_ANNOUNCE_TOPIC } from '../src/main/mesh/index.js'
import type { OriginatorEvent } from '../src/main/originator/index.js'
import { startOriginator, until } from '../test/main/originator/harness.js'
import { spawnDaemonChild } from './lib/daemons.js'
import { numberArg, flag } from './lib/args.js'

const RUNS = numberArg('runs', 3)
const SAMPLE = flag('sample')
const WARM_JOBS = 5
const POLICY = { pricing: { mode: 'fixed', price: 5 }, maxConcurrentJobs: 8, stopOnBattery: false, bidMarginMs: 0 }
const epoch = (): number => performance.timeOrigin + performance.now()

/** `bytes` with a custom section "bench-nonce" appended: the same program, a module never seen before. */
function withNonce (bytes: Uint8Array): Uint8Array {
  const name = new TextEncoder().encode('bench-nonce')
  const payload = new Uint8Array([name.length, ...name, ...randomBytes(16)])
  return new Uint8Array([...bytes, 0, payload.length, ...payload])
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return Math.round((s[Math.floor(s.length / 2)] ?? NaN) * 10) / 10
}

interface Run { ad: number, firstRunning: number, firstFinished: number, firstRoundtrip: number, warmRunning: number, warmFinished: number, warmRoundtrip: number }

async function once (): Promise<Run> {
  const o = await startOriginator({ receiptDhtTimeoutMs: 1000 })
  let adAt: number | undefined
  let daemonDid = ''
  o.node.events.on('message:received', (e) => {
    if (e.message.variant === 'CapabilityAdvertisementV1' && e.message.signer === daemonDid) adAt ??= epoch()
  })
  const d = await spawnDaemonChild({ policy: POLICY, trace: true, bootstrap: [o.node.multiaddrs()[0] as string] })
  daemonDid = d.did
  let marks = new Map<string, number>()
  d.onMark((step, t) => { if (!marks.has(step)) marks.set(step, t) })
  await until(() => adAt !== undefined, 'first capability ad', 20_000)
  const ad = (adAt as number) - d.readyAt
  const subscribed = new Set<string>()
  await until(() => {
    void d.topicPeers(JOBS_ANNOUNCE_TOPIC).then((ps) => { if (ps.includes(o.node.peerId)) subscribed.add('x') })
    return o.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(d.peerId) && o.node.topicPeers(CAPABILITIES_TOPIC).includes(d.peerId) && subscribed.size > 0
  }, 'gossip subscriptions', 20_000)
  const sha = new Uint8Array(readFileSync(new URL('../assets/jobs/sha256.wasm', import.meta.url)))
  const basic = new Uint8Array(readFileSync(new URL('../assets/jobs/fuel_basic.wasm', import.meta.url)))
  const job = async (module: Uint8Array): Promise<{ running: number, finished: number, roundtrip: number }> => {
    marks = new Map()
    let assignedAt = 0
    const onEvent = (e: OriginatorEvent): void => { if (e.type === 'job:assigned') assignedAt = epoch() }
    await o.originator.submit({ module, input: SAMPLE ? undefined : randomBytes(64), maxFuel: 100_000_000, timeoutSeconds: 10, biddingWindowMs: 10_000, selection: 'first-valid-bid' }, { onEvent })
    const verifiedAt = epoch()
    await until(() => marks.has('exec:finished'), 'finished mark', 5000)
    const accepted = marks.get('exec:assignment_accepted') as number
    return { running: (marks.get('exec:state_Running') as number) - accepted, finished: (marks.get('exec:finished') as number) - accepted, roundtrip: verifiedAt - assignedAt }
  }
  const module = (): Uint8Array => SAMPLE ? basic : withNonce(sha)
  const first = await job(module())
  const warm: Array<Awaited<ReturnType<typeof job>>> = []
  for (let i = 0; i < WARM_JOBS; i++) warm.push(await job(module()))
  o.originator.close()
  await d.stop()
  await o.node.stop()
  return {
    ad,
    firstRunning: first.running,
    firstFinished: first.finished,
    firstRoundtrip: first.roundtrip,
    warmRunning: median(warm.map((w) => w.running)),
    warmFinished: median(warm.map((w) => w.finished)),
    warmRoundtrip: median(warm.map((w) => w.roundtrip))
  }
}

const runs: Run[] = []
for (let i = 0; i < RUNS; i++) runs.push(await once())
const m = (k: keyof Run): number => median(runs.map((r) => r[k]))
console.log(JSON.stringify({
  bench: 'cold-start',
  runs: RUNS,
  module: SAMPLE ? 'fuel_basic.wasm (sample)' : 'sha256.wasm + a nonce section (never seen before)',
  first_ad_after_ready_ms: m('ad'),
  first_job_accept_to_running_ms: m('firstRunning'),
  first_job_accept_to_finished_ms: m('firstFinished'),
  first_job_assigned_to_verified_ms: m('firstRoundtrip'),
  warm_job_accept_to_running_ms: m('warmRunning'),
  warm_job_accept_to_finished_ms: m('warmFinished'),
  warm_job_assigned_to_verified_ms: m('warmRoundtrip'),
  per_run: runs.map((r) => ({ ad: Math.round(r.ad), first_finished: Math.round(r.firstFinished), warm_finished: r.warmFinished }))
}))
process.exit(0)
