/**
 * Soak: the real CLI daemon with its default timers for about three minutes, while originator
 * processes (`mesh-executor submit`) buy a mix of work the way people would:
 *  - one job that runs 72 s (longer than every default periodic interval of the node);
 *  - short jobs, one after another, all the time;
 *  - the same job (same module, same input) from three originators at the same moment;
 *  - an interactive job (a calculator, answered line by line);
 *  - a hostile module (an endless loop: FuelExhausted);
 *  - a job whose originator disappears (kill -9) while it runs;
 *  - kill -9 of the daemon in the middle, while a job runs, and a restart on the same port.
 * At the end: every job has exactly one terminal state and one signed receipt; every originator still
 * there got its output (or, for the job the crash interrupted, a signed Failed receipt); earnings equal
 * the sum of the completed jobs' prices; `PRAGMA integrity_check` is ok; no unexpected daemon errors;
 * the daemon's memory stayed bounded.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { verifyReceiptBlock } from '../../src/shared/protocol/index.js'
import { openStore } from '../../src/main/store/index.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BIN = join(ROOT, 'bin', 'mesh-executor.js')
const asset = (name: string): string => join(ROOT, 'assets', 'jobs', name)
const PRICE = 5n
const SOAK_MS = Number(process.env.SOAK_SECONDS ?? 170) * 1000

type Line = Record<string, unknown> & { event: string }

interface Daemon { child: ChildProcessWithoutNullStreams, events: Line[], ready: Promise<Line>, exited: Promise<number | null> }

async function freePort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as AddressInfo).port
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

async function rssMiB (pid: number): Promise<number> {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
  } catch { return 0 }
}

interface Submitted { name: string, code: number | null, result?: Line, failed?: Line, lines: Line[], stderr: string }
interface Submission { done: Promise<Submitted>, announced: Promise<string> }

test('soak: three minutes of mixed real use against the CLI daemon with default timers, one kill -9 and restart', { timeout: 600_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-soak-'))
  const children = new Set<ChildProcessWithoutNullStreams>()
  t.after(async () => {
    for (const c of children) c.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })
  const port = await freePort()
  const addr = `/ip4/127.0.0.1/tcp/${port}`
  await writeFile(join(dir, 'policy.json'), JSON.stringify({ pricing: { mode: 'fixed', price: Number(PRICE) }, maxConcurrentJobs: 6 }))
  const allEvents: Line[] = []
  const rss: number[] = []

  function startDaemon (): Daemon {
    // as the README says, with the default timers; a fixed port so originators find it again after the restart
    const child = spawn(process.execPath, [BIN, 'start', '--data-dir', join(dir, 'node'), '--listen', addr, '--lan', '--json', '--policy', join(dir, 'policy.json')], { cwd: ROOT, stdio: 'pipe' })
    children.add(child)
    child.stderr.setEncoding('utf8').on('data', (c: string) => { process.stderr.write(`[daemon] ${c}`) })
    const events: Line[] = []
    const ready = new Promise<Line>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        const e = JSON.parse(l) as Line
        events.push(e)
        allEvents.push(e)
        if (e.event === 'ready') resolve(e)
      })
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { children.delete(child); resolve(code) }))
    return { child, events, ready, exited }
  }

  let daemon = startDaemon()
  const ready = await daemon.ready
  const bootstrap = `${addr}/p2p/${String(ready.peerId)}`
  const sampler = setInterval(() => { void rssMiB(daemon.child.pid as number).then((r) => { if (r > 0) rss.push(r) }) }, 1000)
  t.after(() => { clearInterval(sampler) })

  /** One `submit` process; resolves when it exits. */
  /** `stdinLines`: written one at a time, each once the job has answered every earlier line (interactive). */
  function submit (name: string, args: string[], o: { stdinLines?: string[], onSpawn?: (c: ChildProcessWithoutNullStreams) => void } = {}): Submission {
    const child = spawn(process.execPath, [BIN, 'submit', '--json', '--bootstrap', bootstrap, '--data-dir', join(dir, `orig-${name}`), '--bidding-window', '2s', ...args], { cwd: ROOT, stdio: 'pipe' })
    children.add(child)
    o.onSpawn?.(child)
    const lines: Line[] = []
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
    const pending = [...(o.stdinLines ?? [])]
    let written = 0
    const feed = (out: string): void => {
      const answered = out.split('\n').length - 1
      if (pending.length > 0 && answered >= written) {
        child.stdin.write(pending.shift() as string)
        written++
        if (pending.length === 0) child.stdin.end()
      }
    }
    let outputSoFar = ''
    let onAnnounced: (id: string) => void = () => {}
    const announced = new Promise<string>((resolve) => { onAnnounced = resolve })
    createInterface({ input: child.stdout }).on('line', (l) => {
      const e = JSON.parse(l) as Line
      lines.push(e)
      if (e.event === 'job:announced') onAnnounced(String(e.announcementId))
      if (e.event === 'output') {
        outputSoFar += Buffer.from((e.data as { data: number[] }).data).toString('utf8')
        feed(outputSoFar)
      }
      if (e.event === 'job:assigned') feed(outputSoFar)
    })
    if (o.stdinLines === undefined) child.stdin.end()
    const done = new Promise<Submitted>((resolve) => {
      child.once('exit', (code) => {
        children.delete(child)
        resolve({ name, code, result: lines.find((x) => x.event === 'result'), failed: lines.find((x) => x.event === 'failed'), lines, stderr })
      })
    })
    return { done, announced }
  }
  const running = (id: string): boolean => daemon.events.some((e) => e.event === 'job:state' && e.state === 'Running' && e.announcementId === id)

  const t0 = Date.now()
  const at = async (ms: number): Promise<void> => { const wait = t0 + ms - Date.now(); if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait)) }
  const runs: Array<Promise<Submitted>> = []
  const whenDone = (x: Submission): Promise<Submitted> => x.done

  // the long job, from the start
  runs.push(whenDone(submit('long', ['--module', asset('slow.wasm'), '--input', await inputFile('long', '72'), '--max-fuel', '60000000000', '--timeout', '150', '--description', 'long: 72 s'])))

  // short jobs all the time, one originator, one after another
  const shortResults: Array<{ run: Submitted, digest: string, endedAt: number }> = []
  const shorts = (async () => {
    let n = 0
    while (Date.now() - t0 < SOAK_MS - 20_000) {
      const input = randomBytes(32 * 1024)
      const file = join(dir, `short-${n}.bin`)
      await writeFile(file, input)
      const run = await whenDone(submit('short', ['--module', asset('sha256.wasm'), '--input', file, '--max-fuel', '2000000000', '--timeout', '30', '--description', `short ${n}`]))
      shortResults.push({ run, digest: createHash('sha256').update(input).digest('hex') + '\n', endedAt: Date.now() })
      n++
      await new Promise((resolve) => setTimeout(resolve, 1500))
    }
  })()

  // the same computation from three originators at the same moment
  await at(12_000)
  const same = randomBytes(64 * 1024)
  const sameFile = join(dir, 'same.bin')
  await writeFile(sameFile, same)
  const sameDigest = createHash('sha256').update(same).digest('hex') + '\n'
  const triple = ['a', 'b', 'c'].map((x) => whenDone(submit(`same-${x}`, ['--module', asset('sha256.wasm'), '--input', sameFile, '--max-fuel', '2000000000', '--timeout', '30', '--description', 'bought three times'])))

  // an interactive calculator, answered line by line
  await at(20_000)
  const interactive = whenDone(submit('calc', ['--module', asset('calc.wasm'), '--interactive', '--max-fuel', '100000000', '--timeout', '60', '--description', 'calculator'], {
    stdinLines: ['1+2\n', '6*7\n', '(10-4)*(3+4)\n', 'quit\n']
  }))

  // a hostile module
  await at(26_000)
  const hostile = whenDone(submit('hostile', ['--module', asset('hostile_loop.wasm'), '--max-fuel', '50000000', '--timeout', '30', '--description', 'endless loop']))

  // an originator that disappears while its job runs
  await at(32_000)
  let vanishing: ChildProcessWithoutNullStreams | undefined
  const vanish = submit('vanish', ['--module', asset('slow.wasm'), '--input', await inputFile('vanish', '12'), '--max-fuel', '20000000000', '--timeout', '60', '--description', 'originator goes away'], { onSpawn: (c) => { vanishing = c } })
  const vanishId = await vanish.announced
  await waitFor(() => running(vanishId))
  vanishing?.kill('SIGKILL')
  const vanished = vanish.done

  // kill -9 of the daemon while a job runs (after the long job is done), and a restart
  await at(90_000)
  const crash = submit('crashed', ['--module', asset('slow.wasm'), '--input', await inputFile('crashed', '30'), '--max-fuel', '20000000000', '--timeout', '100', '--description', 'interrupted by the crash'])
  const crashId = await crash.announced
  await waitFor(() => running(crashId))
  const interrupted = crash.done
  await new Promise((resolve) => setTimeout(resolve, 2000))
  daemon.child.kill('SIGKILL')
  await daemon.exited
  daemon = startDaemon()
  await daemon.ready
  const restartedAt = Date.now()

  await at(SOAK_MS)
  await shorts
  const [long, ...rest] = await Promise.all([...runs, ...triple, interactive, hostile, vanished, interrupted])
  clearInterval(sampler)
  daemon.child.kill('SIGTERM')
  assert.equal(await daemon.exited, 0, 'the daemon stops cleanly')

  // ---- what every surviving originator got
  const byName = new Map(rest.map((r) => [r.name, r]))
  assert.equal(long?.code, 0, `long job: ${long?.stderr ?? ''} ${JSON.stringify(long?.failed)}`)
  assert.equal(long?.result?.outputText, 'done after 72 s\n')
  for (const x of ['a', 'b', 'c']) {
    const r = byName.get(`same-${x}`)
    assert.equal(r?.code, 0, `same-${x}: ${JSON.stringify(r?.failed)}`)
    assert.equal(r?.result?.outputText, sameDigest)
  }
  const calc = byName.get('calc')
  assert.equal(calc?.code, 0, `calc: ${JSON.stringify(calc?.failed)} ${calc?.stderr ?? ''}`)
  assert.equal(calc?.result?.outputText, '= 3\n= 42\n= 42\nbye\n')
  const h = byName.get('hostile')
  assert.equal(h?.code, 5)
  assert.equal(h?.failed?.reason, 'FuelExhausted')
  const crashed = byName.get('crashed')
  assert.equal(crashed?.code, 5, `the crash-interrupted job ends with a signed Failed receipt: ${JSON.stringify(crashed?.failed)} ${crashed?.stderr ?? ''}`)
  assert.equal(crashed?.failed?.reason, 'InternalError')
  // (how many fit depends on the machine's load: each submit is a new process)
  assert.ok(shortResults.length >= 8, `short jobs ran all along (${shortResults.length})`)
  assert.ok(shortResults.filter((s) => s.run.code === 0 && s.endedAt > restartedAt).length >= 2, 'short jobs completed after the restart too')
  for (const [i, s] of shortResults.entries()) {
    if (s.run.code === 0) assert.equal(s.run.result?.outputText, s.digest, `short ${i}`)
  }
  // short jobs fail only when the crash hit them
  const shortFailures = shortResults.filter((s) => s.run.code !== 0)
  assert.ok(shortFailures.length <= 2, `short jobs failed: ${shortFailures.map((s) => JSON.stringify(s.run.failed ?? s.run.stderr.slice(-300))).join('\n')}`)

  // ---- the executor's books
  const store = openStore(join(dir, 'node'))
  try {
    assert.equal(store.integrityCheck(), 'ok')
    const jobs = store.listJobs({ limit: 10_000 })
    assert.equal(store.countActiveJobs(), 0)
    let completedPrices = 0n
    for (const j of jobs) {
      const terminal = store.jobTimeline(j.announcementId).filter((x) => x.to === 'Completed' || x.to === 'Failed' || x.to === 'Cancelled')
      assert.equal(terminal.length, 1, `job ${j.announcementId} has one terminal state (${terminal.map((x) => x.to).join(',')})`)
      const receipts = store.receiptsForJob(j.announcementId)
      assert.equal(receipts.length, 1, `job ${j.announcementId} has one receipt`)
      const block = store.getReceipt(receipts[0]?.cid ?? '')
      assert.ok(block !== undefined && verifyReceiptBlock(block.bytes, block.cid).ok, 'the receipt verifies')
      if (j.state === 'Completed') completedPrices += j.price ?? 0n
    }
    assert.equal(store.earningsSummary().allTime, completedPrices)
    assert.equal(jobs.find((j) => j.announcementId === vanishId)?.state, 'Completed', 'the job of the vanished originator still ran to the end (and earned)')
    assert.equal(jobs.find((j) => j.announcementId === crashId)?.state, 'Failed')
    assert.ok(jobs.length >= shortResults.length + 7)
  } finally {
    store.close()
  }

  // ---- no unexpected errors; bounded memory
  const unexpected = allEvents.filter((e) => e.event === 'daemon:error').filter((e) => {
    const text = `${String(e.where)} ${String(e.error)}`
    if (text.includes(vanishId)) return false // telling an originator that is gone
    if (/receipt DHT put\/provide failed/.test(text)) return false // a sparse test mesh
    return true
  })
  assert.deepEqual(unexpected, [])
  const peak = Math.max(...rss)
  t.diagnostic(`${jobs()} jobs; RSS samples ${rss.length}, first ${Math.round(rss[0] ?? 0)} MiB, peak ${Math.round(peak)} MiB, last ${Math.round(rss.at(-1) ?? 0)} MiB`)
  assert.ok(peak < 450, `daemon RSS peaked at ${Math.round(peak)} MiB`)

  function jobs (): number { return allEvents.filter((e) => e.event === 'job:accepted').length }
  async function inputFile (name: string, text: string): Promise<string> {
    const f = join(dir, `${name}.txt`)
    await writeFile(f, text)
    return f
  }
  async function waitFor (cond: () => boolean, ms = 60_000): Promise<void> {
    const end = Date.now() + ms
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out in the soak scenario')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
})

