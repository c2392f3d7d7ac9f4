/**
 * Host processes spawned by the helper (spawner.ts), off the app's event loop: who their parent is,
 * that no frame a host writes before its pipes reach the app is lost, and what happens without the
 * helper (turned off, or killed).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createSandbox, resolveHostBinary, type Sandbox } from '../../../src/main/sandbox/index.js'
import { FUEL, assertOk, enc, load, text } from './helpers.js'

const linux = process.platform === 'linux'

function parentOf (pid: number): number {
  // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after its ')'
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
}

/** Runs a job long enough to look at its host process, and returns that process's parent. */
async function parentOfAJobHost (sb: Sandbox): Promise<number> {
  const controller = new AbortController()
  const running = sb.run({ module: load('hostile_loop'), maxFuel: 10n ** 15n, timeoutMs: 10_000, signal: controller.signal })
  let pid: number | undefined
  for (let i = 0; i < 500 && pid === undefined; i++) {
    pid = sb.jobPids()[0]
    if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
  }
  assert.ok(pid !== undefined, 'the job is running')
  const ppid = parentOf(pid)
  controller.abort()
  assert.equal((await running).status, 'Cancelled')
  return ppid
}

/** The helper starts in the background (jobs meanwhile get hosts spawned directly): waits for it, returns its pid. */
async function helperStarted (sb: Sandbox): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const ppid = await parentOfAJobHost(sb)
    if (ppid !== process.pid) return ppid
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the helper never spawned a host')
}

test('host processes are the helper\'s children, not ours; jobs taken before a spare said HELLO lose no frame', { skip: !linux }, async () => {
  const sb = createSandbox({ warmProcesses: 1 })
  try {
    const ppid = await helperStarted(sb)
    assert.notEqual(await parentOfAJobHost(sb), process.pid, 'spawned by the helper')
    assert.match(readFileSync(`/proc/${ppid}/cmdline`, 'utf8'), /spawner-child/)
    // back to back and concurrently: most jobs get a host whose pipes are still on their way
    const runs = await Promise.all(Array.from({ length: 12 }, async (_, i) => await sb.run({ module: load('sha256'), input: enc(`job ${i}`), maxFuel: FUEL, timeoutMs: 10_000 })))
    for (const [i, r] of runs.entries()) {
      assertOk(r)
      assert.equal(text(r.output).trim().length, 64, `job ${i} printed its digest`)
    }
    assert.equal(new Set(runs.map((r) => r.host?.pid)).size, 12, 'each job its own process')
  } finally {
    await sb.close()
  }
})

test('without the helper (turned off, or killed) hosts are spawned directly and jobs still run', { skip: !linux }, async () => {
  const off = createSandbox({ warmProcesses: 1, spawner: false })
  try {
    assertOk(await off.run({ module: load('fuel_basic'), maxFuel: 1000, timeoutMs: 10_000 }))
    assert.equal(await parentOfAJobHost(off), process.pid)
  } finally {
    await off.close()
  }

  const sb = createSandbox({ warmProcesses: 1 })
  try {
    const helper = await helperStarted(sb)
    // a job running when the helper dies still finishes: its host talks over pipes the app holds
    await new Promise((resolve) => setTimeout(resolve, 300)) // the spare has its pipes and said HELLO
    const running = sb.run({ module: load('slow'), input: enc('0.3'), maxFuel: FUEL, timeoutMs: 10_000 })
    let pid: number | undefined
    while ((pid = sb.jobPids()[0]) === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
    assert.equal(parentOf(pid), helper, 'the running job\'s host is the helper\'s child')
    process.kill(helper, 'SIGKILL')
    const r = await running
    assertOk(r)
    assert.match(text(r.output), /done after 0\.3 s/)
    // the spare it had started still serves; later ones are spawned directly
    for (let i = 0; i < 5; i++) assertOk(await sb.run({ module: load('fuel_basic'), maxFuel: 1000, timeoutMs: 10_000 }))
    assert.equal(await parentOfAJobHost(sb), process.pid)
  } finally {
    await sb.close()
  }
})

/** The app printed its helper's pid; that process is gone within 10 s. */
async function assertHelperExits (r: { stdout: string, stderr: string }): Promise<void> {
  const helper = Number(r.stdout.trim())
  assert.ok(helper > 0, `the app printed its helper's pid (${r.stdout} ${r.stderr})`)
  const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }
  for (let i = 0; i < 200 && alive(helper); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(alive(helper), false, 'the helper exited')
}

test('the helper does not outlive an app killed while a host\'s pipes were on their way', { skip: !linux }, async () => {
  const helperScript = fileURLToPath(new URL('../../../src/main/sandbox/spawner-child.ts', import.meta.url))
  const binary = resolveHostBinary().path
  // an "app" that asks for a host and is SIGKILLed before the pipes can have been acknowledged
  const app = `
    import { fork } from 'node:child_process'
    const h = fork(${JSON.stringify(helperScript)}, [String(process.pid)], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json', execArgv: ['--import', 'tsx'] })
    h.on('message', (m) => {
      if (m.ready !== true) return
      h.send({ spawn: 1, binary: ${JSON.stringify(binary)}, args: ['--serve'] })
      process.stdout.write(String(h.pid) + '\\n', () => process.kill(process.pid, 'SIGKILL'))
    })`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', app], { encoding: 'utf8', timeout: 20_000 })
  await assertHelperExits(r)
})

test('the helper does not outlive an app that exited before it had loaded', { skip: !linux }, async () => {
  const helperScript = fileURLToPath(new URL('../../../src/main/sandbox/spawner-child.ts', import.meta.url))
  const app = `
    import { fork } from 'node:child_process'
    const h = fork(${JSON.stringify(helperScript)}, [String(process.pid)], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json', execArgv: ['--import', 'tsx'] })
    process.stdout.write(String(h.pid) + '\\n', () => process.exit(0))`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', app], { encoding: 'utf8', timeout: 20_000 })
  await assertHelperExits(r)
})

test('a host orphaned by the helper\'s death can still be killed: close() ends a runaway job at once', { skip: !linux }, async () => {
  const sb = createSandbox({ warmProcesses: 1 })
  const helper = await helperStarted(sb)
  await new Promise((resolve) => setTimeout(resolve, 300)) // the spare has its pipes and said HELLO
  const running = sb.run({ module: load('hostile_loop'), maxFuel: 10n ** 15n, timeoutMs: 60_000 })
  let pid: number | undefined
  while ((pid = sb.jobPids()[0]) === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.equal(parentOf(pid), helper)
  process.kill(helper, 'SIGKILL')
  await new Promise((resolve) => setTimeout(resolve, 300))
  const t0 = Date.now()
  await sb.close()
  assert.ok(Date.now() - t0 < 5000, `closed in ${Date.now() - t0} ms`)
  assert.equal((await running).status, 'Cancelled')
  // gone, or a zombie waiting for init (its parent, since the helper died) to reap it
  const stateOf = (p: number): string => {
    try { return /State:\s+(\S)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 'gone' } catch { return 'gone' }
  }
  let state = stateOf(pid)
  for (let i = 0; i < 40 && state !== 'gone' && state !== 'Z'; i++) { await new Promise((resolve) => setTimeout(resolve, 50)); state = stateOf(pid) }
  assert.ok(state === 'gone' || state === 'Z', `the runaway host is not running (state ${state})`)
})
