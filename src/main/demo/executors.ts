/** The demo's three executors: real `mesh-executor start --json` processes, their events turned into log lines. */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { BIN, ROOT, execColor, jobTag, wake, waitFor, type Decision, type DemoState, type Executor, type ExecutorSpec, type Finished } from './state.js'

export const EXECUTORS: ExecutorSpec[] = [
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

function onReady (st: DemoState, x: Executor, e: Record<string, unknown>): void {
  const { out } = st
  const c = execColor(st, x.spec.name)
  x.did = String(e.did)
  x.peerId = String(e.peerId)
  x.addr = (e.multiaddrs as string[]).find((a) => a.includes('/p2p/'))
  x.ui = typeof e.ui === 'string' ? e.ui : undefined
  st.nameOf.set(x.did, x.spec.name)
  out.log(x.spec.name, `ready in ${String(e.region)}: ${x.spec.about}\n${out.dim(`${x.did}  ${x.addr ?? ''}`)}`, c)
  if (x.ui !== undefined) {
    const until = st.opts.once ? 'it closes when this --once run ends' : 'it stays up until Ctrl+C'
    out.log(x.spec.name, `dashboard: ${out.bold(x.ui)}  ${out.dim(`(open it while the demo runs: ${until}; or mesh-executor dashboard --open --data-dir ${x.dataDir})`)}`, c)
  }
}

function onDaemonEvent (st: DemoState, x: Executor, e: Record<string, unknown>): void {
  const { out } = st
  const name = x.spec.name
  const c = execColor(st, name)
  const id = typeof e.announcementId === 'string' ? e.announcementId : ''
  switch (e.event) {
    case 'ready': onReady(st, x, e); break
    case 'announcement:decided': {
      const reasons = e.reasons as Array<{ rule: string, ok: boolean, text: string }>
      const d: Decision = { executor: name, bid: e.bid === true, failed: reasons.filter((r) => !r.ok).map((r) => r.text) }
      if (typeof e.price === 'string') d.price = e.price
      st.decisions.set(id, [...(st.decisions.get(id) ?? []), d])
      if (d.bid) out.log(name, `bids ${d.price ?? 'free'} on ${jobTag(id)} (all ${reasons.length} policy rules passed)`, c)
      else out.log(name, `no bid on ${jobTag(id)}: ${d.failed.join('; ')}`, c)
      break
    }
    case 'bid:failed': out.log(name, out.red(`bid on ${jobTag(id)} failed: ${String(e.error)}`), c); break
    case 'job:accepted': out.log(name, `accepted the assignment of ${jobTag(id)}`, c); break
    case 'job:refused': out.log(name, `refused the assignment of ${jobTag(id)}: ${String(e.reason)} ${String(e.detail)}`, c); break
    case 'job:state': if (st.opts.verbose) out.log(name, `job ${jobTag(id)} → ${String(e.state)}`, c); break
    case 'job:finished': {
      const f: Finished = { executor: name, status: String(e.status), fuelUsed: String(e.fuelUsed), receiptCid: String(e.receiptCid) }
      if (typeof e.failureReason === 'string') f.failureReason = e.failureReason
      if (typeof e.price === 'string') f.price = e.price
      st.finished.set(id, f)
      const s = f.status === 'CompletedSuccessfully' ? out.green(f.status) : out.red(`${f.status} ${f.failureReason ?? ''}`)
      out.log(name, `finished ${jobTag(id)}: ${s}, fuel ${f.fuelUsed}, ${Math.round(Number(e.wallMs))} ms, receipt ${f.receiptCid}`, c)
      break
    }
    case 'receipt:published': out.log(name, `receipt of ${jobTag(id)} published (${String(e.dhtPeers)} DHT peer(s))`, c); break
    case 'daemon:error': out.log(name, out.red(`error in ${String(e.where)}: ${String(e.error)}`), c); break
    default: if (st.opts.verbose) out.log(name, out.dim(JSON.stringify(e)), c)
  }
  wake(st)
}

/** The first free port on 127.0.0.1 from `from` (a stable, bookmarkable dashboard address), else any free one (0). */
export async function freePort (from = 8787, tries = 10): Promise<number> {
  for (let port = from; port < from + tries; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer()
      srv.once('error', () => { resolve(false) })
      srv.listen(port, '127.0.0.1', () => { srv.close(() => { resolve(true) }) })
    })
    if (ok) return port
  }
  return 0
}

function spawnExecutor (st: DemoState, spec: ExecutorSpec, dir: string, bootstrap: string | undefined, uiPort: number): Executor {
  const argv = [BIN, 'start', '--json', '--lan', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', join(dir, spec.name),
    '--region', spec.region, '--policy', join(dir, `policy-${spec.name}.json`), '--alias', `demo-${spec.name}`, '--grace', '2']
  if (bootstrap !== undefined) argv.push('--bootstrap', bootstrap)
  if (spec.ui === true) argv.push('--ui-port', String(uiPort))
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', MESH_EXECUTOR_PARENT_PID: String(process.pid) } })
  const x: Executor = { spec, child, exited: false, stderrTail: [], dataDir: join(dir, spec.name) }
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let e: Record<string, unknown>
    try { e = JSON.parse(line) as Record<string, unknown> } catch { st.out.log(spec.name, st.out.dim(line)); return }
    onDaemonEvent(st, x, e)
  })
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    x.stderrTail.push(line)
    if (x.stderrTail.length > 30) x.stderrTail.shift()
    if (st.opts.verbose) st.out.log(spec.name, st.out.dim(`stderr: ${line}`))
  })
  child.on('exit', (code, signal) => {
    x.exited = true
    if (!st.stopping) st.out.log(spec.name, st.out.red(`exited unexpectedly (${signal ?? `code ${String(code)}`})\n${x.stderrTail.slice(-10).join('\n')}`))
    wake(st)
  })
  st.executors.push(x)
  return x
}

export async function startExecutor (st: DemoState, spec: ExecutorSpec, dir: string, bootstrap: string | undefined): Promise<Executor> {
  await writeFile(join(dir, `policy-${spec.name}.json`), JSON.stringify(spec.policy, null, 2))
  const x = spawnExecutor(st, spec, dir, bootstrap, spec.ui === true ? await freePort() : 0)
  await waitFor(st, () => x.addr !== undefined || x.exited, 90_000, `executor ${spec.name} to be ready`)
  if (x.addr === undefined) throw new Error(`executor ${spec.name} did not start:\n${x.stderrTail.join('\n')}`)
  return x
}

/** SIGTERM every executor (SIGKILL after a grace). */
export async function stopExecutors (st: DemoState, graceMs = 5000): Promise<void> {
  await Promise.all(st.executors.map(async (x) => {
    if (x.exited) return
    const gone = new Promise<void>((resolve) => { x.child.once('exit', () => { resolve() }) })
    x.child.kill('SIGTERM')
    const timer = setTimeout(() => { if (!x.exited) { st.out.log(x.spec.name, st.out.red(`no exit after ${graceMs} ms: SIGKILL`)); x.child.kill('SIGKILL') } }, graceMs)
    await gone
    clearTimeout(timer)
  }))
}
