/**
 * scale: meshes of 10, 30 and 100 nodes on 127.0.0.1 — several nodes per process
 * (bench/lib/scale-worker.ts), several processes, bootstrapped through 3 seed nodes (their own
 * process). Every node runs the daemon's mesh defaults (1 s heartbeat, kad-dht server mode) with NAT
 * traversal off (loopback) and the per-host inbound connection limit raised (all nodes share one IP).
 *
 * Per size, two JSON lines:
 *   {"bench":"scale","nodes":N,"churn":false,…}  steady mesh: announcements from random nodes, then
 *                                                 DHT receipt put → get from random nodes
 *   {"bench":"scale","nodes":N,"churn":true,…}   the same while 20 % of the non-seed nodes are killed
 *                                                 and later restarted (same identity, new port)
 * Fields: delivery (valid announcements received by every node that was up and joined when it was
 * published and stayed up 2 s after / expected), latency p50/p99 (publish → message:received, ms),
 * bytes_per_node_per_announcement (TCP bytes written by all nodes during the announcements, minus the
 * idle rate measured just before, / nodes / announcements; steady line only), mesh_peers_p50/max (gossip mesh degree
 * on the jobs topic: the copies of each message a node sends and receives) and connections_p50/max (before the
 * announcements; connections_after_dht_p50: after the DHT phase, whose puts dial new peers), rss_per_node_mib
 * (process RSS / nodes hosted), cpu_ms_per_node_per_announcement (worker CPU during the announcements minus
 * the idle rate, / nodes / announcements; steady line only), dht put/get p50/p99 and get success rate.
 * Usage: npm run bench -- scale [--sizes 10,30,100] [--announcements 100] [--rate 10] [--dht 40] [--dht-rate 10] [--per-process 10] [--no-churn]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { flag, numberArg, stringArg } from './lib/args.js'

const SIZES = stringArg('sizes', '10,30,100').split(',').map(Number)
const ANNOUNCEMENTS = numberArg('announcements', 100)
const RATE = numberArg('rate', 10)
const DHT_OPS = numberArg('dht', 40)
/** steady line: DHT put→get pairs started per second */
const DHT_RATE = numberArg('dht-rate', 10)
/** only the steady line per size */
const NO_CHURN = flag('no-churn')
const PER_PROCESS = numberArg('per-process', 10)
const SEEDS = 3
const WINDOW_MS = 2000
const epoch = (): number => performance.timeOrigin + performance.now()
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

function pct (xs: number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return Math.round((s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] as number) * 10) / 10
}

interface Worker {
  proc: ChildProcess
  ask: (cmd: string, m?: Record<string, unknown>) => Promise<Record<string, unknown>>
  /** global index of each hosted node */
  nodes: number[]
}

async function startWorker (): Promise<Worker> {
  // BENCH_CPU_PROF_DIR=DIR: a V8 CPU profile of each worker process (how the DHT phase's CPU was looked at)
  const prof = process.env.BENCH_CPU_PROF_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
  const proc = spawn(process.execPath, [...prof, '--import', 'tsx', fileURLToPath(new URL('./lib/scale-worker.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] })
  const waiting = new Map<number, (m: Record<string, unknown>) => void>()
  let ready: () => void = () => {}
  const readyP = new Promise<void>((resolve) => { ready = resolve })
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    const m = JSON.parse(l) as Record<string, unknown>
    if (m.ready === true) ready()
    else waiting.get(m.id as number)?.(m)
  })
  let next = 0
  const ask = async (cmd: string, m: Record<string, unknown> = {}): Promise<Record<string, unknown>> => await new Promise((resolve, reject) => {
    const id = next++
    waiting.set(id, (r) => { waiting.delete(id); if (typeof r.error === 'string') reject(new Error(`${cmd}: ${r.error}`)); else resolve(r) })
    proc.stdin?.write(JSON.stringify({ id, cmd, ...m }) + '\n')
  })
  await readyP
  return { proc, ask, nodes: [] }
}

interface NodeRef { worker: Worker, local: number, peerId: string, up: boolean, upSince: number, downAt: number }

class Mesh {
  readonly workers: Worker[] = []
  readonly nodes: NodeRef[] = []
  bootstrap: string[] = []

  async start (n: number): Promise<void> {
    const seedWorker = await startWorker()
    this.workers.push(seedWorker)
    const seeds = await seedWorker.ask('start', { count: SEEDS, seeds: SEEDS, bootstrap: [] })
    const seedNodes = seeds.nodes as Array<{ peerId: string, addr: string }>
    this.bootstrap = seedNodes.map((s) => s.addr)
    await seedWorker.ask('link', { addrs: this.bootstrap })
    seedNodes.forEach((s, i) => { this.add(seedWorker, i, s.peerId) })
    const rest = n - SEEDS
    const counts: number[] = []
    for (let left = rest; left > 0; left -= PER_PROCESS) counts.push(Math.min(PER_PROCESS, left))
    const workers = await Promise.all(counts.map(async () => await startWorker()))
    // start the workers' nodes one process at a time (a joining crowd is not the thing measured)
    for (const [k, w] of workers.entries()) {
      this.workers.push(w)
      const r = await w.ask('start', { count: counts[k], bootstrap: this.bootstrap })
      ;(r.nodes as Array<{ peerId: string }>).forEach((x, i) => { this.add(w, i, x.peerId) })
    }
  }

  private add (worker: Worker, local: number, peerId: string): void {
    worker.nodes.push(this.nodes.length)
    this.nodes.push({ worker, local, peerId, up: true, upSince: 0, downAt: Infinity })
  }

  async status (): Promise<Array<Record<string, number | boolean>>> {
    const out: Array<Record<string, number | boolean>> = []
    const all = await Promise.all(this.workers.map(async (w) => ({ w, s: await w.ask('status') })))
    for (const { w, s } of all) (s.nodes as Array<Record<string, number | boolean>>).forEach((x, i) => { out[w.nodes[i] as number] = x })
    return out
  }

  /** Waits until every node that is up has gossip mesh peers and DHT routing entries. */
  async settle (timeoutMs: number): Promise<number> {
    const t0 = Date.now()
    const want = Math.min(this.nodes.length - 1, 3)
    for (;;) {
      const st = await this.status()
      const ok = st.every((x) => x.up !== true || ((x.topicPeers as number) >= want && (x.meshPeers as number) >= 1 && (x.routing as number) >= want))
      if (ok || Date.now() - t0 > timeoutMs) return Date.now() - t0
      await sleep(500)
    }
  }

  live (): number[] { return this.nodes.flatMap((n, i) => n.up ? [i] : []) }
  random (from: number[]): number { return from[Math.floor(Math.random() * from.length)] as number }
  async ask (i: number, cmd: string, m: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const n = this.nodes[i] as NodeRef
    return await n.worker.ask(cmd, { ...m, node: n.local })
  }

  async stop (): Promise<void> {
    await Promise.all(this.workers.map(async (w) => {
      const exited = new Promise((resolve) => w.proc.once('exit', resolve))
      await w.ask('stop').catch(() => {})
      await Promise.race([exited, sleep(5000)])
      w.proc.kill('SIGKILL')
    }))
  }
}

interface Published { id: string, t: number, from: number }

async function announce (mesh: Mesh, count: number, rate: number): Promise<Published[]> {
  const published: Array<Promise<Published | undefined>> = []
  const t0 = performance.now()
  for (let k = 0; k < count; k++) {
    const due = t0 + (k * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    const from = mesh.random(mesh.live())
    published.push(mesh.ask(from, 'publish').then((r) => ({ id: r.announcementId as string, t: r.t as number, from }), () => undefined))
  }
  return (await Promise.all(published)).filter((p): p is Published => p !== undefined)
}

async function report (mesh: Mesh): Promise<{ received: Map<string, Map<number, number>>, bytes: number, rss: number, elu: number[], cpuMs: number }> {
  const received = new Map<string, Map<number, number>>()
  let bytes = 0
  let rss = 0
  let cpuMs = 0
  const elu: number[] = []
  for (const w of mesh.workers) {
    const r = await w.ask('report')
    bytes += r.bytes as number
    rss += r.rss as number
    cpuMs += r.cpuMs as number
    elu.push(r.elu as number)
    if (process.env.SCALE_DEBUG_CONNS !== undefined) console.error('connections opened', r.connectionsOpened, 'closed', r.connectionsClosed)
    for (const [id, local, t] of r.received as Array<[string, number, number]>) {
      const node = w.nodes[local] as number
      let m = received.get(id)
      if (m === undefined) { m = new Map(); received.set(id, m) }
      if (!m.has(node)) m.set(node, t)
    }
  }
  return { received, bytes, rss, elu, cpuMs }
}

async function dhtOps (mesh: Mesh, count: number, spreadMs: number): Promise<Record<string, number>> {
  const puts: number[] = []
  const gets: number[] = []
  const putToGet: number[] = []
  let ok = 0
  let tried = 0
  let putFailed = 0
  await Promise.all(Array.from({ length: count }, async (_, k) => {
    await sleep((k * spreadMs) / count)
    const a = mesh.random(mesh.live())
    const t0 = epoch()
    let cid: string
    try {
      const p = await mesh.ask(a, 'put')
      cid = p.cid as string
      puts.push(p.ms as number)
    } catch {
      putFailed++
      return
    }
    const b = mesh.random(mesh.live().filter((i) => i !== a))
    tried++
    const g = await mesh.ask(b, 'get', { cid }).catch(() => ({ ok: false, ms: NaN }))
    if (g.ok === true) { ok++; gets.push(g.ms as number); putToGet.push(epoch() - t0) }
  }))
  return {
    dht_put_p50_ms: pct(puts, 0.5), dht_put_p99_ms: pct(puts, 0.99), dht_put_failed: putFailed,
    dht_get_p50_ms: pct(gets, 0.5), dht_get_p99_ms: pct(gets, 0.99), dht_put_to_get_p99_ms: pct(putToGet, 0.99),
    dht_get_success: tried === 0 ? NaN : Math.round((ok / tried) * 1000) / 1000, dht_gets: tried
  }
}

/** Delivery and latency of `published`: expected receivers are the nodes up and joined at publish time and still up WINDOW_MS later. */
function deliveries (mesh: Mesh, published: Published[], received: Map<string, Map<number, number>>): { expected: number, delivered: number, latencies: number[], missed: number } {
  let expected = 0
  let delivered = 0
  const latencies: number[] = []
  for (const p of published) {
    const got = received.get(p.id) ?? new Map<number, number>()
    mesh.nodes.forEach((n, i) => {
      if (i === p.from || n.upSince > p.t || n.downAt < p.t + WINDOW_MS) return
      expected++
      const t = got.get(i)
      if (t !== undefined) { delivered++; latencies.push(t - p.t) }
    })
  }
  return { expected, delivered, latencies, missed: expected - delivered }
}

async function steady (mesh: Mesh, n: number, settleMs: number): Promise<Record<string, unknown>> {
  await report(mesh) // reset counters
  const q0 = await report(mesh)
  await sleep(3000)
  const q1 = await report(mesh)
  const idleBytesPerMs = (q1.bytes - q0.bytes) / 3000
  // how many copies of each message a node handles: its gossip mesh degree on the jobs topic
  const st = (await mesh.status()).filter((x) => x.up === true)
  const meshPeers = st.map((x) => x.meshPeers as number)
  const connections = st.map((x) => x.connections as number)
  const tA = performance.now()
  const published = await announce(mesh, ANNOUNCEMENTS, RATE)
  await sleep(WINDOW_MS + 1000)
  const durMs = performance.now() - tA
  const r = await report(mesh)
  const d = deliveries(mesh, published, r.received)
  const netBytes = Math.max(0, r.bytes - q1.bytes - idleBytesPerMs * durMs)
  const traced = process.env.SCALE_DEBUG_PUT_LOAD !== undefined ? sleep(2000).then(async () => { console.error(((await mesh.ask(mesh.random(mesh.live()), 'putTrace')).events as string[]).join('\n')) }) : undefined
  const tD = performance.now()
  const dht = await dhtOps(mesh, DHT_OPS, (DHT_OPS * 1000) / DHT_RATE)
  await traced
  const rd = await report(mesh)
  const dhtMs = performance.now() - tD
  // puts dial the peers closest to each key: how far the connection set has grown by the end
  const connectionsAfter = (await mesh.status()).filter((x) => x.up === true).map((x) => x.connections as number)
  return {
    bench: 'scale', nodes: n, processes: mesh.workers.length, churn: false, settle_ms: settleMs,
    announcements: published.length, delivery: Math.round((d.delivered / d.expected) * 10000) / 10000, missed: d.missed,
    latency_p50_ms: pct(d.latencies, 0.5), latency_p99_ms: pct(d.latencies, 0.99),
    mesh_peers_p50: pct(meshPeers, 0.5), mesh_peers_max: Math.max(...meshPeers), connections_p50: pct(connections, 0.5), connections_max: Math.max(...connections),
    connections_after_dht_p50: pct(connectionsAfter, 0.5),
    bytes_per_node_per_announcement: Math.round(netBytes / n / Math.max(1, published.length)),
    idle_bytes_per_node_per_s: Math.round((idleBytesPerMs * 1000) / n),
    rss_per_node_mib: Math.round((r.rss / n / 2 ** 20) * 10) / 10,
    event_loop_utilization: r.elu,
    dht_event_loop_utilization: rd.elu,
    // CPU of the worker processes over the 3 s idle window before the announcements, per node
    idle_cpu_ms_per_node_per_s: Math.round((q1.cpuMs / 3 / n) * 10) / 10,
    // CPU of the worker processes during the announcements (and the window after), minus the idle rate, per node per announcement
    cpu_ms_per_node_per_announcement: Math.round((Math.max(0, r.cpuMs - (q1.cpuMs / 3000) * durMs) / n / Math.max(1, published.length)) * 100) / 100,
    // CPU of all worker processes during the DHT phase, minus the idle rate, per put→get pair (a put, then a get of it)
    dht_cpu_ms_per_op: Math.round(Math.max(0, rd.cpuMs - (q1.cpuMs / 3000) * dhtMs) / Math.max(1, DHT_OPS)),
    ...dht
  }
}

async function churn (mesh: Mesh, n: number): Promise<Record<string, unknown>> {
  await report(mesh)
  const durMs = (ANNOUNCEMENTS * 1000) / RATE
  const nonSeeds = mesh.nodes.map((_, i) => i).filter((i) => i >= SEEDS)
  const victims = [...nonSeeds].sort(() => Math.random() - 0.5).slice(0, Math.round(n * 0.2))
  const byWorker = (list: number[]): Map<Worker, number[]> => {
    const m = new Map<Worker, number[]>()
    for (const i of list) {
      const ref = mesh.nodes[i] as NodeRef
      m.set(ref.worker, [...(m.get(ref.worker) ?? []), ref.local])
    }
    return m
  }
  const joinWatch: { stop: boolean } = { stop: false }
  const events = (async () => {
    await sleep(durMs * 0.2)
    const t = epoch()
    for (const i of victims) { const ref = mesh.nodes[i] as NodeRef; ref.up = false; ref.downAt = t }
    await Promise.all([...byWorker(victims)].map(async ([w, locals]) => { await w.ask('kill', { nodes: locals }) }))
    await sleep(durMs * 0.3)
    await Promise.all([...byWorker(victims)].map(async ([w, locals]) => { await w.ask('restart', { nodes: locals, bootstrap: mesh.bootstrap }) }))
    // a restarted node counts once it has joined: gossip mesh peers again
    const pending = new Set(victims)
    while (pending.size > 0 && !joinWatch.stop) {
      const st = await mesh.status()
      const t2 = epoch()
      for (const i of [...pending]) {
        const x = st[i]
        if (x?.up === true && (x.meshPeers as number) >= 1) {
          const ref = mesh.nodes[i] as NodeRef
          ref.up = true
          ref.upSince = t2
          ref.downAt = Infinity
          pending.delete(i)
        }
      }
      await sleep(200)
    }
  })()
  const [published, dht] = await Promise.all([announce(mesh, ANNOUNCEMENTS, RATE), dhtOps(mesh, DHT_OPS, durMs)])
  await sleep(WINDOW_MS + 1000)
  joinWatch.stop = true
  await events
  const r = await report(mesh)
  const d = deliveries(mesh, published, r.received)
  return {
    bench: 'scale', nodes: n, processes: mesh.workers.length, churn: true, killed_and_restarted: victims.length,
    announcements: published.length, delivery: Math.round((d.delivered / d.expected) * 10000) / 10000, missed: d.missed,
    latency_p50_ms: pct(d.latencies, 0.5), latency_p99_ms: pct(d.latencies, 0.99),
    rss_per_node_mib: Math.round((r.rss / n / 2 ** 20) * 10) / 10,
    ...dht
  }
}

for (const n of SIZES) {
  const mesh = new Mesh()
  try {
    await mesh.start(n)
    const settleMs = await mesh.settle(90_000)
    if (process.env.SCALE_DEBUG_PUT !== undefined) {
      for (let k = 0; k < 2; k++) console.error(((await mesh.ask(mesh.random(mesh.live()), 'putTrace')).events as string[]).join('\n'))
    }
    console.log(JSON.stringify(await steady(mesh, n, settleMs)))
    if (!NO_CHURN) console.log(JSON.stringify(await churn(mesh, n)))
  } finally {
    await mesh.stop()
  }
}
process.exit(0)
