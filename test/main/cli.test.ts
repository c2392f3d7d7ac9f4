/** `mesh-executor` command line: clear errors (exit 2) for every bad configuration, and a clean start/stop. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { existsSync, openSync, readFileSync, statSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { main } from '../../src/main/cli.js'
import { openStore } from '../../src/main/store/index.js'

interface Run { code: number, stdout: string, stderr: string }

async function run (argv: string[], stopSignal: Promise<void> = Promise.resolve()): Promise<Run> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (d: Buffer) => { out += d.toString() })
  stderr.on('data', (d: Buffer) => { err += d.toString() })
  const code = await main(argv, { stdout, stderr, stdin: new PassThrough(), env: {}, stopSignal })
  return { code, stdout: out, stderr: err }
}

const BIN = fileURLToPath(new URL('../../bin/mesh-executor.js', import.meta.url))
const LOOPBACK = ['--listen', '/ip4/127.0.0.1/tcp/0', '--lan']

test('usage errors exit 2 with a clear message', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
  try {
    const cases: Array<[string[], RegExp]> = [
      [['start', '--bogus'], /^mesh-executor: unknown option --bogus \(see --help\)\n$/],
      [['start', '--data-dir'], /--data-dir needs a value/],
      [['relay', '--relay-data-limit', '-5'], /--relay-data-limit needs a value; for a value that starts with "-" write --relay-data-limit=VALUE/],
      [['relay', 'extra'], /unexpected argument "extra"/],
      [['submit', '--module', '/etc/hostname', '--bootstrap', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWKwSBUa3uXsSeiwbWPTRxEUsMDuVtBQAmVieZwvAAHSQH'], /--module \/etc\/hostname is not a WebAssembly module/],
      // refused before joining the mesh (the bootstrap peer here does not exist), naming the flag
      [['submit', '--module', fileURLToPath(new URL('../../assets/jobs/sha256.wasm', import.meta.url)), '--max-fuel', '0', '--bootstrap', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWKwSBUa3uXsSeiwbWPTRxEUsMDuVtBQAmVieZwvAAHSQH'], /^mesh-executor submit: --max-fuel 0: want a positive integer/],
      [['start', '--listen', 'not-a-multiaddr'], /--listen "not-a-multiaddr" is not a valid multiaddr/],
      [['start', '--bootstrap', '/ip4/127.0.0.1/tcp/4001'], /--bootstrap .* missing \/p2p\/<PeerId>/],
      [['start', '--region', 'EU West'], /--region "EU West"/],
      [['start', '--ui-port', '99999'], /--ui-port 99999/],
      [['start', '--data-dir', dir, '--policy', join(dir, 'missing.json')], /cannot read policy file .*missing\.json/],
      [['frobnicate'], /unknown command "frobnicate"/]
    ]
    for (const [argv, pattern] of cases) {
      const r = await run(argv)
      assert.equal(r.code, 2, argv.join(' '))
      assert.match(r.stderr, pattern)
    }
    await writeFile(join(dir, 'bad.json'), '{ "pricing": ')
    const notJson = await run(['start', '--data-dir', dir, ...LOOPBACK, '--policy', join(dir, 'bad.json')])
    assert.equal(notJson.code, 2)
    assert.match(notJson.stderr, /is not valid JSON/)
    await writeFile(join(dir, 'invalid.json'), JSON.stringify({ pricing: { mode: 'fixed', price: -3 }, maxConcurrentJobs: 'many' }))
    const invalid = await run(['start', '--data-dir', dir, ...LOOPBACK, '--policy', join(dir, 'invalid.json')])
    assert.equal(invalid.code, 2)
    assert.match(invalid.stderr, /invalid policy/)
    assert.match(invalid.stderr, /pricing\.price/)
    assert.match(invalid.stderr, /maxConcurrentJobs/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a data dir in use and a port in use are clear errors; a normal start prints ready and stops', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  const busyPort = (blocker.address() as AddressInfo).port
  // the first instance is another process: the data-dir lock is per process
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dir, ...LOOPBACK, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    let out = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('"event":"ready"')) resolve() })
      child.once('exit', (code) => { reject(new Error(`first instance exited ${String(code)}`)) })
    })
    const ready = JSON.parse(out.split('\n')[0] as string) as Record<string, unknown>
    assert.equal(ready.event, 'ready')
    assert.match(String(ready.did), /^did:key:z6Mk/)
    // what the node runs, as it advertises it (profile 7 runtime ids)
    assert.deepEqual((ready.runtimes as string[])[0], 'wasi-p1-fuel-v1')
    assert.match((ready.runtimes as string[])[1] ?? '', /^wasmtime-\d+\.\d+\.\d+$/)
    // the default price is 0: the ready line says so
    assert.ok((ready.warnings as string[]).some((w) => /price is 0: jobs are run for free/.test(w)), `free-by-default warning: ${JSON.stringify(ready.warnings)}`)
    const second = await run(['start', '--data-dir', dir, ...LOOPBACK])
    assert.equal(second.code, 2)
    assert.match(second.stderr, /in use|locked/i)
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
    assert.match(out, /"event":"daemon:stopped"/)

    const other = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
    try {
      const busy = await run(['start', '--data-dir', other, '--lan', '--listen', `/ip4/127.0.0.1/tcp/${busyPort}`])
      assert.equal(busy.code, 2, busy.stderr)
      assert.match(busy.stderr, /in use/)
    } finally {
      await rm(other, { recursive: true, force: true })
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    blocker.close()
    await rm(dir, { recursive: true, force: true })
  }
})

/** Runs the real CLI process; resolves with its exit code and output. */
async function runProcess (argv: string[], opts: { stdout?: 'pipe' | number } = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)))
  return { code, stdout: out, stderr: err }
}

/** One line on stderr, no stack trace. */
function assertOneLine (r: Run, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit 2 (got ${r.code}; ${r.stderr})`)
  const lines = r.stderr.trim().split('\n')
  assert.ok(lines.length <= 2, `${what}: short message, got ${r.stderr}`)
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`)
  assert.match(r.stderr, pattern, what)
}

test('start-up errors of the data dir and the policy file are one line and exit 2 (real process)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
  try {
    await writeFile(join(dir, 'afile'), 'x')
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'afile'), ...LOOPBACK]), /is not a directory/, 'data dir is a regular file')
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'afile', 'sub'), ...LOOPBACK]), /data directory .*afile\/sub/, 'data dir under a regular file')
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'd'), ...LOOPBACK, '--policy', '/dev/zero']), /is not a regular file/, '--policy /dev/zero')
    await writeFile(join(dir, 'huge.json'), ' '.repeat(1024 * 1024) + '{}')
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'd'), ...LOOPBACK, '--policy', join(dir, 'huge.json')]), /at most 256 KiB/, 'a 1 MiB policy')
    await writeFile(join(dir, 'deep.json'), '{"pricing":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}')
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'd'), ...LOOPBACK, '--policy', join(dir, 'deep.json')]), /invalid policy: nests deeper than 8 levels/, 'a policy nested 100 000 deep')
    await writeFile(join(dir, 'two.json'), '{"maxFuel":-1,"pricing":{"mode":"fixed","price":"x"}}')
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'd'), ...LOOPBACK, '--policy', join(dir, 'two.json')]), /invalid policy: (?=.*\(maxFuel\): must be a whole number)(?=.*; )(?=.*\(pricing\.price\))/, 'two bad fields: one line')
    // an IP address this machine does not have (TEST-NET-1): libp2p's error lists each address with its stack
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'd'), '--lan', '--listen', '/ip4/192.0.2.1/tcp/4001']),
      /^mesh-executor: cannot listen on a --listen address: \/ip4\/192\.0\.2\.1\/tcp\/4001: listen EADDRNOTAVAIL: .*\(this machine has no such IP address; did it change\?\)$/m, 'an address the machine does not have')
    // the same address saved in Settings: the message says where it comes from and how to get past it
    const store = openStore(join(dir, 'd'))
    store.setSetting('listenAddrs', ['/ip4/192.0.2.1/tcp/4001'])
    store.close()
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'd'), '--lan']), /cannot listen on a listen address saved in Settings \(start with --listen ADDRESS to override it, then change it in Settings\): \/ip4\/192\.0\.2\.1\/tcp\/4001: listen EADDRNOTAVAIL/, 'a saved address the machine does not have')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a read-only or full file system is one line and exit 2 (tmpfs; root only)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
  const mnt = (name: string, o: string): boolean => {
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', o, 'tmpfs', join(dir, name)])
    return m.status === 0
  }
  try {
    await mkdir(join(dir, 'ro'))
    await mkdir(join(dir, 'full'))
    if (!mnt('ro', 'ro,size=1m') || !mnt('full', 'size=64k')) { t.skip('cannot mount tmpfs here (not root?)'); return }
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'ro'), ...LOOPBACK]), /read-only file system/, 'read-only data dir')
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'ro', 'x'), ...LOOPBACK]), /cannot be created/, 'data dir to create on a read-only fs')
    await writeFile(join(dir, 'full', 'pad'), Buffer.alloc(60 * 1024))
    assertOneLine(await runProcess(['start', '--data-dir', join(dir, 'full', 'x'), ...LOOPBACK]), /no space left/, 'full disk')
  } finally {
    spawnSync('umount', [join(dir, 'ro')])
    spawnSync('umount', [join(dir, 'full')])
    await rm(dir, { recursive: true, force: true })
  }
})

test('the daemon outlives a broken stdout: EPIPE (reader gone) and ENOSPC (/dev/full)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
  try {
    // EPIPE: read the ready line, then close our end of the pipe; the daemon keeps serving
    const child = spawn(process.execPath, [BIN, 'start', '--data-dir', join(dir, 'a'), ...LOOPBACK, '--json', '--ui-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    t.after(() => { child.kill('SIGKILL') })
    const readyLine = await new Promise<string>((resolve) => {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const line = out.split('\n').find((l) => l.includes('"event":"ready"'))
        if (line !== undefined) resolve(line)
      })
    })
    const ready = JSON.parse(readyLine) as { ui: string }
    child.stdout.destroy()
    // make it write: toggling auto-bid in the dashboard API emits runtime:changed on stdout
    const url = new URL(ready.ui)
    for (let i = 0; i < 40 && !/stdout failed/.test(err); i++) {
      await fetch(`${url.origin}/api/node.setAutoBid`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${url.searchParams.get('token') ?? ''}` }, body: JSON.stringify({ enabled: i % 2 === 0 }) })
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.match(err, /stdout failed \(EPIPE\); carrying on without it/)
    const res = await fetch(`${url.origin}/api/node.status`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${url.searchParams.get('token') ?? ''}` }, body: '{}' })
    assert.equal(res.status, 200, 'the daemon still answers after its stdout broke')
    assert.equal(child.exitCode, null, 'still running')
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    assert.equal(await exited, 0)

    // ENOSPC: stdout is /dev/full from the start
    const full = openSync('/dev/full', 'w')
    const c2 = spawn(process.execPath, [BIN, 'start', '--data-dir', join(dir, 'b'), ...LOOPBACK], { stdio: ['ignore', full, 'pipe'] })
    t.after(() => { c2.kill('SIGKILL') })
    let err2 = ''
    c2.stderr?.on('data', (d: Buffer) => { err2 += d.toString() })
    const deadline = Date.now() + 20_000
    while (!/stdout failed \(ENOSPC\)/.test(err2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    assert.match(err2, /stdout failed \(ENOSPC\); carrying on without it/)
    await new Promise((r) => setTimeout(r, 500))
    assert.equal(c2.exitCode, null, 'still running with a full stdout')
    const exited2 = new Promise<number | null>((resolve) => c2.once('exit', resolve))
    c2.kill('SIGTERM')
    assert.equal(await exited2, 0)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('--version, and --help for every command, without starting anything', async () => {
  const v = await run(['--version'])
  assert.equal(v.code, 0)
  assert.match(v.stdout, /^mesh-executor \d+\.\d+\.\d+\n$/)
  for (const cmd of ['start', 'identity', 'dashboard', 'submit', 'receipt', 'relay', 'service']) {
    const h = await run([cmd, '--help'])
    assert.equal(h.code, 0, `${cmd} --help`)
    assert.match(h.stdout, new RegExp(`^usage: mesh-executor ${cmd}`), `${cmd} --help prints its own usage`)
  }
  const g = await run(['--help'])
  assert.match(g.stdout, /dashboard .*\n.*identity/s)
})

test('identity says when it creates a key, and --no-create refuses to', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
  try {
    const none = await run(['identity', '--data-dir', dir, '--no-create'])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /no key in .*identity\.json/)
    const first = await run(['identity', '--data-dir', dir])
    assert.equal(first.code, 0)
    assert.match(first.stderr, /created a new key in .*identity\.json/)
    const again = await run(['identity', '--data-dir', dir, '--json'])
    const j = JSON.parse(again.stdout) as { created: boolean, did: string }
    assert.equal(j.created, false)
    assert.equal(again.stderr, '')
    assert.ok(first.stdout.includes(j.did))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('dashboard prints the running daemon\'s address with a token that stays the same across restarts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const none = await run(['dashboard', '--data-dir', dir])
  assert.equal(none.code, 1)
  assert.match(none.stderr, /is not a node's data directory \(no identity\.json\): pass the --data-dir the daemon was started with/)
  const urls: string[] = []
  for (let round = 0; round < 2; round++) {
    let stop: () => void = () => {}
    const stopped = new Promise<void>((resolve) => { stop = resolve })
    const daemon = run(['start', '--data-dir', dir, ...LOOPBACK, '--json', '--ui-port', '0'], stopped)
    try {
      let d: Run | undefined
      for (let i = 0; i < 100; i++) {
        d = await run(['dashboard', '--data-dir', dir, '--json'])
        if (d.code === 0) break
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      assert.equal(d?.code, 0, d?.stderr)
      const { url } = JSON.parse(d?.stdout ?? '{}') as { url: string }
      const res = await fetch(url, { redirect: 'manual' })
      assert.equal(res.status, 303, 'the printed URL gets in')
      urls.push(new URL(url).searchParams.get('token') ?? '')
    } finally {
      stop()
      assert.equal((await daemon).code, 0)
    }
  }
  assert.equal(urls[0], urls[1], 'same token after a restart: a bookmark keeps working')
  assert.equal(statSync(join(dir, 'ui-token')).mode & 0o777, 0o600)
  const stopped = await run(['dashboard', '--data-dir', dir])
  assert.equal(stopped.code, 1, 'stopped: no dashboard')
  assert.match(stopped.stderr, /no dashboard is running for .*--ui-port/)
})

test('service install writes a systemd user unit that verifies; uninstall removes it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
  try {
    const units = join(dir, 'units')
    const r = await run(['service', 'install', '--unit-dir', units, '--data-dir', join(dir, 'data dir'), '--ui-port', '8788', '--', '--region', 'eu-west'])
    assert.equal(r.code, 0, r.stderr)
    const file = join(units, 'mesh-executor.service')
    const text = readFileSync(file, 'utf8')
    assert.match(text, /^ExecStart=\/\S+ \/\S+\/bin\/mesh-executor\.js start --data-dir ".*\/data dir" --ui-port 8788 --grace 30 --region eu-west$/m)
    assert.match(text, /^Restart=on-failure$/m)
    assert.match(text, /^RestartPreventExitStatus=2$/m)
    assert.match(text, /^WantedBy=default\.target$/m)
    const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' })
    if (verify.error === undefined) assert.equal(verify.status, 0, `systemd-analyze verify: ${verify.stderr}`)
    assert.equal((await run(['service', 'install', '--ui-port', 'x'])).code, 2)
    const u = await run(['service', 'uninstall', '--unit-dir', units])
    assert.equal(u.code, 0)
    assert.equal(existsSync(file), false)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
