/**
 * The desktop shell's daemon supervisor against the REAL daemon process (`node bin/mesh-executor.js
 * start --json --ui-port 0 …`, the command Electron runs with its own binary as Node): ready line,
 * API (status, auto-bid, pause, machine state seen by the policy), the WebSocket event stream,
 * draining on quit, kill -9 → crash reported, restart with backoff, reconnect; exit 2 at start →
 * reported, not restarted. Then the supervision rules with small fake daemons (backoff and its reset,
 * the exit reason, ready timeout, SIGTERM and SIGKILL fallbacks).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatTimestamp, generateIdentity, rawCid, signMessage } from '../../../src/shared/protocol/index.js'
import { createMeshNode, MemoryBlockStore } from '../../../src/main/mesh/index.js'
import { jobsTopic } from '../../../src/main/mesh/topics.js'
import type { AnnouncementView, ApiEvent } from '../../../src/shared/api/index.js'
import {
  backoffDelay, createDaemonSupervisor, DaemonDownError, exitReason, type CrashReport, type DaemonCommand, type DaemonSupervisor,
  type SupervisorEvents, type SupervisorOptions
} from '../../../src/main/electron/daemon-process.js'
import { ApiCallError } from '../../../src/main/electron/api-client.js'
import { createCrashCounter, judgeExit, type ExitFacts } from '../../../src/main/electron/daemon-restart.js'

const BIN = fileURLToPath(new URL('../../../bin/mesh-executor.js', import.meta.url))

function daemonCommand (dataDir: string, extra: string[] = []): DaemonCommand {
  return {
    file: process.execPath,
    args: [BIN, 'start', '--json', '--ui-port', '0', '--lan', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dataDir, '--grace', '30', ...extra],
    env: { ...process.env, MESH_EXECUTOR_PARENT_PID: String(process.pid) }
  }
}

/** Resolves with the next `event` whose payload passes `pred` (or the first already recorded). */
function next<K extends keyof SupervisorEvents> (sup: DaemonSupervisor, event: K, pred: (p: SupervisorEvents[K]) => boolean = () => true, ms = 60_000): Promise<SupervisorEvents[K]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { off(); reject(new Error(`timed out waiting for ${event}`)) }, ms)
    const off = sup.on(event, (p) => { if (pred(p)) { clearTimeout(t); off(); resolve(p) } })
  })
}

function record (sup: DaemonSupervisor): { events: ApiEvent[], crashes: CrashReport[], starts: number, phases: string[] } {
  const r = { events: [] as ApiEvent[], crashes: [] as CrashReport[], starts: 0, phases: [] as string[] }
  sup.on('api-event', (e) => r.events.push(e))
  sup.on('crash', (c) => r.crashes.push(c))
  sup.on('state', (s) => { r.phases.push(s.phase); if (s.phase === 'starting') r.starts++ })
  return r
}

async function until (cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test('supervisor + real daemon: ready line, API status, auto-bid and pause, live events, machine state reaches the policy, drain on quit', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-shell-'))
  const policyFile = join(dir, 'policy.json')
  await writeFile(policyFile, JSON.stringify({ pricing: { mode: 'fixed', price: 3 }, idleOnly: { minUserIdleSeconds: 300 }, stopOnBattery: true, bidMarginMs: 0 }))
  const origId = generateIdentity()
  const orig = await createMeshNode({ identity: origId, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, blockStore: new MemoryBlockStore(), heartbeatMs: 200 })
  await orig.start()
  const sup = createDaemonSupervisor({ command: daemonCommand(join(dir, 'node'), ['--policy', policyFile]), graceSeconds: 10 })
  const rec = record(sup)
  try {
    const readyP = next(sup, 'ready')
    sup.start()
    assert.equal(sup.state().phase, 'starting')
    await assert.rejects(sup.call('node.status', {}), DaemonDownError)
    const { endpoint, ready } = await readyP
    assert.match(endpoint.origin, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.match(endpoint.token, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(ready.ui, endpoint.url)

    // status over the API; the event stream's first message is a status snapshot
    const status = await sup.call('node.status', {})
    assert.equal(status.did, ready.did)
    assert.equal(status.online, true)
    await until(() => rec.events.some((e) => e.type === 'status:changed'), 'status snapshot on the event stream')

    // the tray's actions
    const off = await sup.call('node.setAutoBid', { enabled: false })
    assert.equal(off.autoBid, false)
    await until(() => rec.events.some((e) => e.type === 'status:changed' && !e.payload.autoBid), 'auto-bid off on the event stream')
    assert.equal((await sup.call('node.status', {})).autoBid, false)
    assert.equal((await sup.call('node.setAutoBid', { enabled: true })).autoBid, true)
    const until1h = Date.now() + 3_600_000
    const paused = await sup.call('node.pause', { untilMs: until1h })
    assert.equal(paused.state, 'paused')
    assert.ok(paused.pausedUntil !== null && Math.abs(paused.pausedUntil - until1h) < 1000)
    await until(() => rec.events.some((e) => e.type === 'status:changed' && e.payload.state === 'paused'), 'paused on the event stream')
    const resumed = await sup.call('node.pause', { untilMs: null })
    assert.equal(resumed.pausedUntil, null)
    assert.notEqual(resumed.state, 'paused')
    await assert.rejects(sup.call('node.setMachineState', { userIdleSeconds: -1, onBattery: null }), (err: unknown) => err instanceof ApiCallError && err.code === 'BadRequest' && /userIdleSeconds/.test(err.message))

    // powerMonitor's values reach the policy: an idle-only, stop-on-battery policy decides by them
    await orig.dial(ready.multiaddrs[0] as string)
    await until(() => orig.topicPeers(jobsTopic()).includes(ready.peerId), 'the daemon in the jobs topic')
    const module = new Uint8Array(await readFile(new URL('../../../assets/jobs/hostile_loop.wasm', import.meta.url)))
    orig.blockStore.put(rawCid(module), module)
    const decide = async (machine: { userIdleSeconds: number | null, onBattery: boolean | null }): Promise<AnnouncementView> => {
      const set = await sup.call('node.setMachineState', machine)
      assert.deepEqual({ userIdleSeconds: set.userIdleSeconds, onBattery: set.onBattery }, machine)
      assert.ok(set.expiresAt !== null && set.expiresAt > Date.now())
      const id = randomUUID()
      await orig.publishAnnouncement(signMessage('JobAnnouncementV1', {
        announcement_id: id, originator_did: origId.did, timestamp: formatTimestamp(Date.now()), bidding_duration: 'PT5S',
        job_params: { wasm_cid: rawCid(module), description: 'spins', resources_required: {}, max_fuel: 10n ** 12n, timeout_seconds: 30, is_interactive: false, qos_profile: 'BestEffort' }
      }, origId).bytes)
      let found: AnnouncementView | undefined
      await until(async () => {
        found = (await sup.call('market.announcements', { limit: 20 })).find((a) => a.announcementId === id)
        return found !== undefined
      }, `the decision on ${id}`)
      await until(() => rec.events.some((e) => e.type === 'announcement:decided' && e.payload.announcementId === id), 'announcement:decided on the event stream')
      return found as AnnouncementView
    }
    const reason = (a: AnnouncementView, rule: string): { ok: boolean, text: string } | undefined => a.reasons.find((r) => r.rule === rule)

    const busy = await decide({ userIdleSeconds: 10, onBattery: false })
    assert.equal(busy.decision, 'no_bid')
    assert.equal(busy.firstFailedRule, 'idle')
    assert.match(reason(busy, 'idle')?.text ?? '', /user active 10s ago < 300s/)
    assert.equal(reason(busy, 'battery')?.ok, true)

    const battery = await decide({ userIdleSeconds: 1000, onBattery: true })
    assert.equal(battery.decision, 'no_bid')
    assert.equal(battery.firstFailedRule, 'battery')
    assert.equal(reason(battery, 'idle')?.ok, true)
    assert.match(reason(battery, 'idle')?.text ?? '', /user idle 1000s ≥ 300s/)
    assert.match(reason(battery, 'battery')?.text ?? '', /on battery power/)

    const idle = await decide({ userIdleSeconds: 1000, onBattery: false })
    assert.equal(idle.decision, 'bid', JSON.stringify(idle.reasons))
    assert.match(reason(idle, 'battery')?.text ?? '', /on mains power/)

    // quit: node.shutdown through the API, the process exits 0 within the grace
    const t0 = Date.now()
    const stopped = await sup.stop({ graceSeconds: 5 })
    assert.deepEqual(stopped, { how: 'api', code: 0, signal: null }, sup.stderrTail().join('\n'))
    assert.ok(Date.now() - t0 < 10_000, `stopped in ${Date.now() - t0} ms`)
    assert.equal(sup.state().phase, 'stopped')
    assert.deepEqual(rec.crashes, [])
    assert.equal(rec.starts, 1)
    assert.equal(sup.client(), undefined)
  } finally {
    await sup.stop({ graceSeconds: 0 })
    await orig.stop()
    await rm(dir, { recursive: true, force: true })
  }
})

test('supervisor + real daemon: kill -9 is reported as a crash, restarted with backoff, the API and event stream come back; exit 2 at start is not restarted', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-shell-crash-'))
  const sup = createDaemonSupervisor({ command: daemonCommand(join(dir, 'node'), ['--policy', join(dir, 'policy.json')]), backoff: { initialMs: 300, maxMs: 5000 }, graceSeconds: 5 })
  await writeFile(join(dir, 'policy.json'), JSON.stringify({ stopOnBattery: false }))
  const rec = record(sup)
  try {
    let readyP = next(sup, 'ready')
    sup.start()
    const first = await readyP
    const before = await sup.call('node.status', {})

    for (const attempt of [1, 2]) {
      const pid = (sup.state() as { pid: number }).pid
      const crashP = next(sup, 'crash')
      readyP = next(sup, 'ready')
      const streamBack = next(sup, 'event-stream', (open) => open)
      process.kill(pid, 'SIGKILL')
      const crash = await crashP
      assert.equal(crash.signal, 'SIGKILL')
      assert.equal(crash.code, null)
      assert.match(crash.reason, /killed by SIGKILL/)
      assert.equal(crash.attempt, attempt)
      assert.equal(crash.restartInMs, 300 * 2 ** (attempt - 1), 'backoff doubles while the crashes come quickly')
      const s = sup.state()
      assert.equal(s.phase, 'crashed')
      await assert.rejects(sup.call('node.status', {}), DaemonDownError)
      const again = await readyP
      assert.notEqual(again.pid, pid)
      await streamBack
      const after = await sup.call('node.status', {})
      assert.equal(after.did, before.did, 'same node identity after the restart')
      assert.equal(after.online, true)
    }
    assert.equal(rec.starts, 3)
    assert.notEqual(first.pid, (sup.state() as { pid: number }).pid)
    const stopped = await sup.stop({ graceSeconds: 2 })
    assert.equal(stopped.how, 'api')
    assert.equal(stopped.code, 0)
    assert.equal(rec.crashes.length, 2)
  } finally {
    await sup.stop({ graceSeconds: 0 })
  }

  // a data dir that is a file: exit 2 with one line; reported, not restarted in a loop
  const file = join(dir, 'not-a-dir')
  await writeFile(file, 'x')
  const bad = createDaemonSupervisor({ command: daemonCommand(file), backoff: { initialMs: 100 } })
  const badRec = record(bad)
  try {
    const failedP = next(bad, 'failed')
    bad.start()
    const failed = await failedP
    assert.equal(failed.code, 2)
    assert.match(failed.reason, /not-a-dir/)
    assert.doesNotMatch(failed.reason, /^mesh-executor: /)
    assert.match(failed.reason, /\(exit code 2\)$/)
    assert.equal(failed.reason.split('\n').length, 1)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    assert.equal(badRec.starts, 1, 'not restarted')
    assert.equal(badRec.crashes.length, 0)
    assert.equal(bad.state().phase, 'failed')
    // "Try again" in the tray: one more attempt, failed again, still no loop
    const againP = next(bad, 'failed')
    bad.restartNow()
    await againP
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(badRec.starts, 2)
    assert.deepEqual(await bad.stop(), { how: 'not-running', code: null, signal: null })
  } finally {
    await bad.stop({ graceSeconds: 0 })
    await rm(dir, { recursive: true, force: true })
  }
})

test('the shell dies (kill -9): its daemon notices within seconds, stops by itself and leaves the data dir free', { timeout: 90_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-shell-orphan-'))
  const dataDir = join(dir, 'node')
  // a stand-in for the Electron shell: starts the daemon with MESH_EXECUTOR_PARENT_PID = its own pid
  const shellScript = `
    const { spawn } = require('node:child_process')
    const d = spawn(process.execPath, ${JSON.stringify([BIN, 'start', '--json', '--ui-port', '0', '--lan', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dataDir])},
      { env: { ...process.env, MESH_EXECUTOR_PARENT_PID: String(process.pid) }, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    d.stdout.on('data', (b) => { out += b.toString(); if (out.includes('"event":"ready"')) { out = ''; console.log(JSON.stringify({ daemonPid: d.pid })) } })
    d.on('exit', (code) => { console.log(JSON.stringify({ daemonExit: code })) })
    setInterval(() => {}, 1000)`
  const { spawn } = await import('node:child_process')
  const shell = spawn(process.execPath, ['-e', shellScript], { stdio: ['ignore', 'pipe', 'inherit'] })
  let daemonPid: number | undefined
  try {
    daemonPid = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => { reject(new Error('the stand-in shell did not report a ready daemon')) }, 60_000)
      shell.stdout.on('data', (b: Buffer) => {
        const m = /"daemonPid":(\d+)/.exec(b.toString())
        if (m !== null) { clearTimeout(t); resolve(Number(m[1])) }
        if (b.toString().includes('daemonExit')) { clearTimeout(t); reject(new Error(`the daemon exited at start: ${b.toString()}`)) }
      })
    })
    const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }
    assert.ok(alive(daemonPid))
    shell.kill('SIGKILL')
    const t0 = Date.now()
    await until(() => !alive(daemonPid as number), 'the orphaned daemon to stop', 20_000)
    assert.ok(Date.now() - t0 < 15_000, `stopped ${Date.now() - t0} ms after the shell died`)
    // the next app start gets the data dir
    const sup = createDaemonSupervisor({ command: daemonCommand(dataDir) })
    try {
      const started = new Promise<string | undefined>((resolve) => {
        sup.on('ready', () => { resolve(undefined) })
        sup.on('failed', (f) => { resolve(f.reason) })
      })
      sup.start()
      assert.equal(await started, undefined, 'the data dir is free')
      assert.equal((await sup.stop({ graceSeconds: 1 })).code, 0)
    } finally {
      await sup.stop({ graceSeconds: 0 })
    }
  } finally {
    if (shell.exitCode === null && shell.signalCode === null) shell.kill('SIGKILL')
    if (daemonPid !== undefined) { try { process.kill(daemonPid, 'SIGKILL') } catch { /* gone */ } }
    await rm(dir, { recursive: true, force: true })
  }
})

// --- the rules, with fake daemons (a few lines of node each) ---

const TOKEN = 'T'.repeat(43)
/** A fake daemon: runs `script` (signal handlers first, like the real one), then optionally prints a ready line (API on a closed port). */
function fake (script: string, opts: { ready?: boolean } = {}): DaemonCommand {
  const readyLine = JSON.stringify({ event: 'ready', did: 'did:key:z6Mkfake', peerId: '12D3fake', multiaddrs: [], dataDir: '/tmp/x', ui: `http://127.0.0.1:1/?token=${TOKEN}` })
  const post = opts.ready === false ? '' : `;process.stdout.write(${JSON.stringify(readyLine + '\n')})`
  return { file: process.execPath, args: ['-e', `${script}${post}`] }
}
const quick = (o: Partial<SupervisorOptions> & { command: SupervisorOptions['command'] }): DaemonSupervisor =>
  createDaemonSupervisor({ eventStream: false, backoff: { initialMs: 50, maxMs: 400, resetAfterMs: 60_000 }, ...o })

test('backoff: 1 s, 2 s, 4 s … capped at 60 s', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => backoffDelay(n)), [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000])
  assert.deepEqual([1, 2, 3].map((n) => backoffDelay(n, { initialMs: 100, maxMs: 250 })), [100, 200, 250])
})

test('exit reason: the CLI line, else the last line that is not a stack frame, else the code or signal', () => {
  assert.equal(exitReason(['warning: x', 'mesh-executor: data directory /d is in use by pid 7'], 2, null), 'data directory /d is in use by pid 7 (exit code 2)')
  assert.equal(exitReason(['Error: boom', '    at f (x.js:1:1)', '    at g (y.js:2:2)'], 1, null), 'Error: boom (exit code 1)')
  assert.equal(exitReason([], null, 'SIGKILL'), 'the node stopped (killed by SIGKILL)')
  assert.ok(exitReason(['x'.repeat(1000)], 1, null).length < 320)
})

test('exit verdicts: asked for, unusable, cannot start (exit 2 before ready, another ABI), else a crash; the crash count resets after a long run', () => {
  const f = (o: Partial<ExitFacts>): ExitFacts => ({ code: 1, signal: null, expected: false, wasReady: true, stderr: [], spawnError: undefined, fatal: undefined, ...o })
  assert.deepEqual(judgeExit(f({ expected: true, fatal: 'x' })), { kind: 'stopped' })
  assert.deepEqual(judgeExit(f({ spawnError: new Error('ENOENT') })), { kind: 'unusable', reason: 'cannot run the daemon: ENOENT' })
  assert.deepEqual(judgeExit(f({ fatal: 'no dashboard' })), { kind: 'unusable', reason: 'no dashboard' })
  assert.deepEqual(judgeExit(f({ code: 2, wasReady: false, stderr: ['mesh-executor: bad flag'] })), { kind: 'cannot-start', reason: 'bad flag (exit code 2)' })
  assert.equal(judgeExit(f({ code: 2, wasReady: true })).kind, 'crashed')
  assert.match((judgeExit(f({ stderr: ['NODE_MODULE_VERSION 115'] })) as { reason: string }).reason, /rebuild it for this runtime/)
  assert.deepEqual(judgeExit(f({ signal: 'SIGKILL', code: null })), { kind: 'crashed', reason: 'the node stopped (killed by SIGKILL)' })

  const c = createCrashCounter({ initialMs: 10, maxMs: 30, resetAfterMs: 1000 })
  assert.equal(c.attempt(), 1)
  assert.deepEqual([c.crashed(null), c.crashed(5), c.crashed(999)], [{ attempt: 1, delayMs: 10 }, { attempt: 2, delayMs: 20 }, { attempt: 3, delayMs: 30 }])
  assert.equal(c.attempt(), 4)
  assert.deepEqual(c.crashed(1000), { attempt: 1, delayMs: 10 })
  c.reset()
  assert.equal(c.attempt(), 1)
})

test('crash loop: delays double, a daemon that ran long enough starts the count again; stop() cancels a pending restart', { timeout: 30_000 }, async () => {
  let t = 0
  const sup = quick({ command: fake("setTimeout(() => { console.error('mesh-executor: simulated crash'); process.exit(1) }, 50)"), now: () => t })
  const crashes: CrashReport[] = []
  sup.on('crash', (c) => crashes.push(c))
  sup.start()
  await until(() => crashes.length >= 4, '4 crashes')
  assert.deepEqual(crashes.slice(0, 4).map((c) => c.restartInMs), [50, 100, 200, 400])
  assert.deepEqual(crashes.slice(0, 4).map((c) => c.attempt), [1, 2, 3, 4])
  assert.equal(crashes[0]?.reason, 'simulated crash (exit code 1)')
  // the next run lasts "two minutes": its crash restarts after the initial delay again
  const n = crashes.length
  const readyOff = sup.on('ready', () => { t += 120_000 })
  await until(() => crashes.length > n + 1, 'crashes after a long run')
  readyOff()
  const later = crashes.slice(n)
  assert.ok(later.some((c) => c.restartInMs === 50 && c.attempt === 1), JSON.stringify(later))
  await until(() => sup.state().phase === 'crashed', 'waiting to restart')
  assert.deepEqual(await sup.stop(), { how: 'not-running', code: null, signal: null })
  const count = crashes.length
  await new Promise((resolve) => setTimeout(resolve, 600))
  assert.equal(crashes.length, count, 'no restart after stop()')
  assert.equal(sup.state().phase, 'stopped')
})

test('no ready line in time: killed and counted as a crash; a broken native module is a start failure, not a loop', { timeout: 30_000 }, async () => {
  const slow = quick({ command: fake('setInterval(() => {}, 1000)', { ready: false }), readyTimeoutMs: 300 })
  const crash = next(slow, 'crash')
  slow.start()
  const c = await crash
  assert.match(c.reason, /no ready line within/)
  assert.equal(c.signal, 'SIGKILL')
  await slow.stop({ graceSeconds: 0 })

  const abi = quick({ command: fake("console.error('Error: The module better_sqlite3.node was compiled against a different Node.js version using NODE_MODULE_VERSION 115.'); process.exit(1)", { ready: false }) })
  const failed = next(abi, 'failed')
  abi.start()
  assert.match((await failed).reason, /rebuild it for this runtime/)
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(abi.state().phase, 'failed')
  await abi.stop()
})

test('stop: SIGTERM when the API is unreachable, SIGKILL after the grace when the daemon ignores it', { timeout: 30_000 }, async () => {
  const polite = quick({ command: fake("process.on('SIGTERM', () => { console.error('bye'); process.exit(0) }); setInterval(() => {}, 1000)") })
  const ready = next(polite, 'ready')
  polite.start()
  await ready
  assert.deepEqual(await polite.stop({ graceSeconds: 5 }), { how: 'sigterm', code: 0, signal: null })
  assert.equal(polite.state().phase, 'stopped')

  const stubborn = quick({ command: fake("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"), exitMarginMs: 300 })
  const crashes: CrashReport[] = []
  stubborn.on('crash', (c) => crashes.push(c))
  const r2 = next(stubborn, 'ready')
  stubborn.start()
  await r2
  const t0 = Date.now()
  assert.deepEqual(await stubborn.stop({ graceSeconds: 0 }), { how: 'sigkill', code: null, signal: 'SIGKILL' })
  assert.ok(Date.now() - t0 < 5000)
  assert.deepEqual(crashes, [], 'an exit we asked for is not a crash')
})
