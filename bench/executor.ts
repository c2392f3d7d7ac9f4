/**
 * Executor benchmarks (issue 5).
 *
 * {"bench":"announcement-to-bid",…}: in-process, from the announcement's gossip bytes arriving
 *   (validation as the topic validator runs it) to the signed bid handed to the direct sender —
 *   validation, policy decision with every reason, the store write (announcement + decision + bid
 *   reservation), signing.
 * {"bench":"announcement-flood",…}: a real daemon and a publisher node over loopback; the
 *   publisher offers valid announcements at 2000/s; handled = announcements decided and recorded
 *   in the store (the UI's source) per second. ratio = handled / offered.
 * {"bench":"announcement-flood","cpu_hogs":2,…}: the same flood on a busy machine — two processes
 *   burning a core each — with the daemon bidding: the flood comes from 200 never-online originators
 *   and a real buyer (its own process, connected) submits 5 jobs during it. `lost` = offered (+ the buyer's jobs) − decided
 *   (must be 0); `buyer` = its jobs' announcement → first bid, as it saw it (winnable bids first).
 * BENCH_SKIP_BID=1 skips announcement-to-bid; BENCH_SKIP_BUSY=1 skips the busy line; BENCH_FLOOD_HOGS=N.
 */
import '../src/main/polyfills.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createValidator, formatTimestamp, generateIdentity, rawCid, signMessage, type Identity
} from '../src/shared/protocol/index.js'
import { createAutoBidder, storeDecisionSources, DEFAULT_POLICY } from '../src/main/market/index.js'
import { openStore } from '../src/main/store/index.js'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { startDaemon } from '../src/main/daemon/index.js'

const out = (o: object): void => { console.log(JSON.stringify(o)) }
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return Math.round((s[Math.min(s.length - 1, Math.floor(s.length * p))] as number) * 1000) / 1000 }

function announcementBytes (id: Identity, n: number, extra: Record<string, unknown> = {}): Uint8Array {
  return signMessage('JobAnnouncementV1', {
    announcement_id: `bench-${n}-${Math.random().toString(36).slice(2)}`, originator_did: id.did, timestamp: formatTimestamp(Date.now()),
    job_params: {
      wasm_cid: rawCid(new Uint8Array([n & 255])), description: 'bench job', resources_required: { CPU: '1c', RAM: '64MiB' },
      max_fuel: 1_000_000_000, timeout_seconds: 30, is_interactive: false, qos_profile: 'BestEffort', ...extra
    }
  }, id).bytes
}

async function announcementToBid (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-exec-'))
  const store = openStore(dir)
  const me = generateIdentity()
  const orig = generateIdentity()
  const validator = createValidator()
  let sentAt = 0
  const bidder = createAutoBidder({
    store, identity: me,
    sources: storeDecisionSources(store, { offer: () => ({ cpu: 2, ramBytes: 8 * 2 ** 30, gpus: {} }), runtimes: () => ['wasi-p1-fuel-v1'], region: () => 'eu-west' }),
    getPolicy: () => ({ ...DEFAULT_POLICY, stopOnBattery: false, maxConcurrentJobs: 1_000_000, bidMarginMs: 0 }),
    sendBid: async () => { sentAt = performance.now() },
    // one originator sends them all: measure the path, not the per-originator intake limit (60 at once)
    intake: { burst: Number.MAX_SAFE_INTEGER, perSecond: Number.MAX_SAFE_INTEGER }
  })
  const N = 3000
  const msgs = Array.from({ length: N + 200 }, (_, i) => announcementBytes(orig, i))
  const lat: number[] = []
  for (let i = 0; i < msgs.length; i++) {
    const t0 = performance.now()
    const r = validator.validate(msgs[i] as Uint8Array)
    if (!r.ok || r.message.variant !== 'JobAnnouncementV1') throw new Error('invalid bench announcement')
    const outcome = await bidder.handleAnnouncement(r.message.body, { raw: msgs[i] as Uint8Array })
    if (outcome.kind !== 'bid') throw new Error(`expected a bid: ${JSON.stringify(outcome.kind === 'no_bid' ? outcome.decision.reasons.filter((x) => !x.ok) : outcome)}`)
    if (i >= 200) lat.push(sentAt - t0) // the first 200 warm up the JIT
  }
  store.close()
  await rm(dir, { recursive: true, force: true })
  out({ bench: 'announcement-to-bid', n: N, p50_ms: pct(lat, 0.5), p99_ms: pct(lat, 0.99) })
}

interface FloodOptions {
  /** CPU-hog processes competing with the daemon (a seller's machine is busy) */
  hogs: number
  /** the daemon bids (fixed price), flood announcements come from never-online originators, and a real buyer submits jobs during the flood */
  buyer: boolean
}

/** Processes that burn one core each until killed. */
function startHogs (n: number): Array<ReturnType<typeof spawn>> {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
}

function jsonLines (child: ReturnType<typeof spawn>): (pred?: (o: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = []
  const waiters: Array<{ pred: (o: Record<string, unknown>) => boolean, resolve: (o: Record<string, unknown>) => void }> = []
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    const o = JSON.parse(l) as Record<string, unknown>
    const w = waiters.findIndex((x) => x.pred(o))
    if (w >= 0) waiters.splice(w, 1)[0]?.resolve(o)
    else seen.push(o)
  })
  return async (pred = () => true) => await new Promise((resolve) => {
    const k = seen.findIndex(pred)
    if (k >= 0) resolve(seen.splice(k, 1)[0] as Record<string, unknown>)
    else waiters.push({ pred, resolve })
  })
}

async function announcementFlood (fo: FloodOptions): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-flood-'))
  // without a buyer: a policy that decides (with every reason) and records each announcement but
  // never bids, so the flood measures intake, not the originator's direct-message rate limit
  const policy = fo.buyer ? { pricing: { mode: 'fixed', price: 1 }, maxConcurrentJobs: 4, bidMarginMs: 0, stopOnBattery: false } : { autoBid: false }
  const daemon = await startDaemon({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, policy })
  const RATE = 2000
  const SECONDS = 4
  const BUYER_JOBS = 5
  let handled = 0
  let lastHandledAt = 0
  const off = daemon.events.on('announcement:decided', () => { handled++; lastHandledAt = performance.now() })
  const rejected: Record<string, number> = {}
  daemon.node.events.on('message:rejected', (e) => { rejected[e.reason] = (rejected[e.reason] ?? 0) + 1 })
  let received = 0
  daemon.node.events.on('message:received', () => { received++ })
  const bids = { sent: 0, failed: 0 }
  daemon.events.on('bid:sent', () => { bids.sent++ })
  daemon.events.on('bid:failed', () => { bids.failed++ })
  const conns = { opened: 0, closed: 0 }
  daemon.node.events.on('connection:opened', () => { conns.opened++ })
  daemon.node.events.on('connection:closed', (e) => { conns.closed++; if (process.env.BENCH_DEBUG !== undefined) console.error('closed', e, performance.now() - t0) })
  let t0 = performance.now()
  const hogs = startHogs(fo.hogs)
  // the publisher runs in its own process, like a real remote peer
  const addr = daemon.node.multiaddrs()[0] as string
  const pubArgs = [addr, String(RATE), String(SECONDS), daemon.identity.peerId, ...(fo.buyer ? ['200'] : [])]
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./lib/flood-publisher.ts', import.meta.url)), ...pubArgs], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const next = jsonLines(child)
  const buyer = fo.buyer ? spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./lib/buyer.ts', import.meta.url)), addr, daemon.identity.peerId], { stdio: ['pipe', 'pipe', 'inherit'] }) : undefined
  const fromBuyer = buyer === undefined ? undefined : jsonLines(buyer)
  await Promise.all([next(), fromBuyer?.()]) // ready
  t0 = performance.now()
  child.stdin?.write('go\n')
  // during the flood, the buyer submits a job every 600 ms
  const buyerResults: Array<Promise<Record<string, unknown>>> = []
  if (buyer !== undefined && fromBuyer !== undefined) {
    for (let k = 0; k < BUYER_JOBS; k++) {
      await new Promise((resolve) => setTimeout(resolve, 600))
      buyer.stdin?.write('go\n')
      buyerResults.push(fromBuyer((o) => o.job === k))
    }
  }
  const done = await next()
  const offered = done.offered as number
  const offeredSecs = done.seconds as number
  // wait until intake stops
  let prev = -1
  while (handled !== prev) { prev = handled; await new Promise((resolve) => setTimeout(resolve, 1000)) }
  const buyerDone = await Promise.all(buyerResults)
  for (const h of hogs) h.kill('SIGKILL')
  child.stdin?.write('stop\n')
  buyer?.stdin?.write('stop\n')
  const handledSecs = (Math.max(lastHandledAt, t0) - t0) / 1000
  off()
  const stored = daemon.store.announcementStats().total
  await exited
  await daemon.stop({ graceMs: 0 })
  await rm(dir, { recursive: true, force: true })
  const offeredPerS = offered / offeredSecs
  const handledPerS = handled / Math.max(offeredSecs, handledSecs)
  const line: Record<string, unknown> = {
    bench: 'announcement-flood', cpu_hogs: fo.hogs, offered, received, rejected, handled, stored, lost: offered + (fo.buyer ? BUYER_JOBS : 0) - handled, publish_failed: done.failed,
    offered_per_s: Math.round(offeredPerS), handled_per_s: Math.round(handledPerS), ratio: Math.round(handledPerS / offeredPerS * 1000) / 1000,
    drained_after_s: Math.round(handledSecs * 10) / 10,
    connections: conns
  }
  if (fo.buyer) {
    const ok = buyerDone.filter((r) => r.ok === true)
    const bidMs = ok.map((r) => r.bidMs as number)
    line.flood_originators = 200
    line.buyer = { jobs: BUYER_JOBS, completed: ok.length, bid_p50_ms: pct(bidMs, 0.5), bid_max_ms: Math.max(...bidMs), errors: buyerDone.filter((r) => r.ok !== true).map((r) => r.error) }
    line.daemon_bids = bids
  }
  out(line)
}

const HOGS = Number(process.env.BENCH_FLOOD_HOGS ?? 2)
if (process.env.BENCH_SKIP_BID === undefined) await announcementToBid()
await announcementFlood({ hogs: 0, buyer: false })
if (process.env.BENCH_SKIP_BUSY === undefined) await announcementFlood({ hogs: HOGS, buyer: true })
process.exit(0)
