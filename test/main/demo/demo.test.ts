/**
 * `mesh-executor demo --once` (what `npm run demo -- --once` runs) as a child process: three executor processes and an originator on 127.0.0.1.
 * The run must exit 0 by itself, its log must show every step of the market, the dashboard must
 * answer while it runs, and the temp dir must be gone afterwards.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

test('mesh-executor demo --once: the whole market, then exit 0 and no temp dir left', { timeout: 120_000 }, async (t) => {
  const child = spawn(process.execPath, ['bin/mesh-executor.js', 'demo', '--once'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' }
  })
  let exited = false
  const exit = new Promise<number | null>((resolve) => { child.on('exit', (code) => { exited = true; resolve(code) }) })
  t.after(async () => {
    if (exited) return
    child.kill('SIGTERM') // the demo stops its executors and removes its temp dir
    const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
    await exit
    clearTimeout(timer)
  })

  let out = ''
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c })
  // the dashboard of the first executor must answer while the demo runs
  let dashboardChecked: Promise<{ status: number, body: string }> | undefined
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c
    const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\/\?token=([\w-]+)\s/.exec(out)
    if (m?.[1] !== undefined && m[2] !== undefined && dashboardChecked === undefined) {
      // scripts send the printed token as a bearer token (a browser gets a cookie instead)
      dashboardChecked = fetch(`${m[1]}/`, { headers: { authorization: `Bearer ${m[2]}` } })
        .then(async (r) => ({ status: r.status, body: await r.text() }), (e: unknown) => ({ status: 0, body: String(e) }))
    }
  })
  const code = await exit
  const log = out
  assert.equal(code, 0, `demo exit code\n${log}\n${err}`)

  // the temp dir it announced is gone
  const dir = /temp dir (\S+)/.exec(log)?.[1]
  assert.ok(dir !== undefined && dir.includes('mesh-demo-'), log)
  assert.equal(existsSync(dir), false, `${dir} removed`)

  // three executors with their regions, the dashboard address
  assert.match(log, /\[alpha\]\s+ready in eu-west/)
  assert.match(log, /\[beta\]\s+ready in eu-west/)
  assert.match(log, /\[gamma\]\s+ready in us-east/)
  assert.match(log, /dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=/)
  // the executors stop right after a --once run: the summary does not send anyone to a dead dashboard
  assert.doesNotMatch(log, /dashboard of alpha/)
  assert.ok(dashboardChecked !== undefined, 'dashboard URL seen while running')
  const dash = await dashboardChecked
  assert.equal(dash.status, 200)
  assert.match(dash.body, /<html/i)

  // bids, selection, assignment, statuses
  for (const name of ['alpha', 'beta', 'gamma']) {
    assert.match(log, new RegExp(`\\[${name}\\]\\s+bids \\d+ on [0-9a-f]{8}`), `${name} bid`)
    assert.match(log, new RegExp(`bid from ${name}: price \\d+`), `originator got ${name}'s bid`)
  }
  assert.match(log, /winner: (alpha|beta|gamma)\s+ranking: /)
  assert.match(log, /assigned [0-9a-f]{8} to (alpha|beta|gamma) \(attempt 1, price \d+\)/)
  assert.match(log, /status from (alpha|beta|gamma): Running/)
  assert.ok((log.match(/status from (alpha|beta|gamma): Completed/g) ?? []).length >= 5, 'Completed statuses')

  // receipts with CIDs that verified, and the right outputs
  const verified = [...log.matchAll(/receipt (bafyrei[a-z2-7]{50,}) verified;/g)].map((m) => m[1])
  assert.equal(verified.length, 5, `five completed jobs with verified receipts\n${log}`)
  assert.equal(new Set(verified).size, 5)
  for (const cid of verified) assert.match(log, new RegExp(`finished [0-9a-f]{8}: CompletedSuccessfully, fuel \\d+, \\d+ ms, receipt ${cid}`), 'the executor reported the same receipt')
  assert.match(log, /output: "9592 99991\\n"/)
  assert.match(log, /job output: "= 42\\n"/)
  assert.match(log, /region: job requires us-east, we are eu-west/)
  assert.match(log, /interactive: interactive jobs not allowed/)

  // the hostile job
  assert.match(log, /finished [0-9a-f]{8}: Failed FuelExhausted/)
  assert.match(log, /executor reported FuelExhausted; receipt bafyrei[a-z2-7]+ verified/)

  // the job nobody takes, with every executor's reasons
  assert.match(log, /NoBids: no executor bid on/)
  assert.match(log, /why not alpha: price: job max_price 2 < our price 5/)
  assert.match(log, /why not beta: price: job max_price 2 < our price 3/)
  assert.match(log, /why not gamma: price: job max_price 2 < our floor 8/)

  // earnings per executor, consistent with what the originator verified
  for (const name of ['alpha', 'beta', 'gamma']) assert.match(log, new RegExp(`earnings ${name}\\s+\\d+ tokens`))
  const total = /total (\d+) tokens; the originator's verified receipts add up to (\d+) ✓/.exec(log)
  assert.ok(total !== null, 'earnings total matches the originator')
  assert.equal(total[1], total[2])
  assert.ok(Number(total[1]) > 0)
  assert.match(log, /7 job\(s\) submitted, 7 went as expected/)
  assert.match(log, /every step went as expected/)
  assert.match(log, /stopped 3 executor\(s\), removed /)
})

test('mesh-executor demo: bad flags are one line, exit 2; --help', async () => {
  const run = async (args: string[]): Promise<{ code: number | null, out: string, err: string }> => await new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/mesh-executor.js', 'demo', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
    child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c })
    child.on('exit', (code) => { resolve({ code, out, err }) })
  })
  for (const args of [['--interval', 'soon'], ['--bidding-window', '10'], ['--nope'], ['extra']]) {
    const r = await run(args)
    assert.equal(r.code, 2, args.join(' '))
    assert.equal(r.err.trim().split('\n').length, 1, r.err)
    assert.match(r.err, /^mesh-executor: /)
  }
  const help = await run(['--help'])
  assert.equal(help.code, 0)
  assert.match(help.out, /usage: mesh-executor demo/)
})

test('mesh-executor demo killed with -9: its executor processes notice and stop by themselves', { timeout: 120_000 }, async () => {
  const { execFileSync } = await import('node:child_process')
  const { rm } = await import('node:fs/promises')
  const child = spawn(process.execPath, ['bin/mesh-executor.js', 'demo'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  const pidsOf = (dir: string): number[] => {
    try { return execFileSync('pgrep', ['-f', '--', `--data-dir ${dir}/`], { encoding: 'utf8' }).split('\n').filter((l) => l !== '').map(Number) } catch { return [] }
  }
  let dir: string | undefined
  try {
    let out = ''
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => { reject(new Error(`demo exited early (${String(code)}):\n${out}`)) })
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c
        dir ??= /temp dir (\S+?);/.exec(out)?.[1]
        // the first job is under way: all three executors are up
        if (/── job 1:/.test(out)) resolve()
      })
    })
    assert.ok(dir !== undefined, out)
    assert.equal(pidsOf(dir).length, 3, 'three executor processes')
    child.kill('SIGKILL')
    const deadline = Date.now() + 20_000
    while (pidsOf(dir).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250))
    assert.deepEqual(pidsOf(dir), [], 'no executor outlives the demo')
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    if (dir !== undefined) {
      for (const pid of pidsOf(dir)) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } }
      // a process killed with -9 cannot clean up after itself: its temp dir is removed here
      await rm(dir, { recursive: true, force: true })
    }
  }
})
