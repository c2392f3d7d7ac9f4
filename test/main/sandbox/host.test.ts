/**
 * The host process itself: OS confinement (seccomp + rlimits, checked by a test hook), the
 * compiled-module cache, process-per-job isolation, and a missing host binary.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, statSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { createSandbox, resolveHostBinary } from '../../../src/main/sandbox/index.js'
import { FUEL, assertFailed, assertOk, enc, healthCheck, load, text } from './helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'mesh-sandbox-host-test-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

test('seccomp: after sandboxing, opening a file, a socket, exec, fork and executable memory are refused (EPERM)', { skip: process.platform !== 'linux' }, async () => {
  const sb = createSandbox({ testHooks: true, warmProcesses: 0 })
  try {
    const r = await sb.run({ module: load('sha256'), input: enc('abc'), maxFuel: FUEL, timeoutMs: 10_000, probeSandbox: true })
    assertOk(r) // the job itself still runs normally after the probe
    assert.equal(text(r.output), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n')
    assert.equal(r.host?.seccomp, true)
    const probe = r.host?.probe
    assert.ok(probe !== undefined, 'the probe ran')
    const EPERM = 1
    assert.deepEqual(probe, { open_errno: EPERM, openat_errno: EPERM, socket_errno: EPERM, execve_errno: EPERM, clone_errno: EPERM, mmap_exec_errno: EPERM })
  } finally {
    await sb.close()
  }
  // the hook is not honoured by a host started without --test-hooks
  const plain = createSandbox({ warmProcesses: 0 })
  try {
    const r = await plain.run({ module: load('fuel_empty'), maxFuel: 10, timeoutMs: 10_000, probeSandbox: true })
    assertOk(r)
    assert.equal(r.host?.probe, undefined)
    assert.equal(r.host?.seccomp, true)
  } finally {
    await plain.close()
  }
})

test('compiled-module cache: a second run loads the module instead of compiling it; corrupted or foreign files are never used', async () => {
  const dir = join(tmp, 'cache-a')
  const sb = createSandbox({ cacheDir: dir, warmProcesses: 1 })
  try {
    const first = await sb.run({ module: load('sieve'), input: enc('1000'), maxFuel: FUEL, timeoutMs: 10_000 })
    assertOk(first)
    assert.equal(first.host?.cache_hit, false)
    assert.ok((first.host?.compile_us ?? 0) > 0)
    const files = readdirSync(dir).filter((f) => f.endsWith('.cwasm'))
    assert.equal(files.length, 1)
    assert.match(files[0]!, /^[0-9a-f]{64}-wasmtime-\d+\.\d+\.\d+-[0-9a-f]{16}\.cwasm$/)
    const second = await sb.run({ module: load('sieve'), input: enc('1000'), maxFuel: FUEL, timeoutMs: 10_000 })
    assertOk(second)
    assert.equal(second.host?.cache_hit, true)
    assert.equal(second.host?.compile_us, 0, 'a warm start compiles nothing')
    assert.equal(second.fuel_used, first.fuel_used)
    assert.deepEqual(second.output, first.output)
    assert.ok((second.start_ms ?? 99) < 50, `warm start ${second.start_ms} ms`)

    // corrupt one byte of the compiled code: the HMAC check fails, the module is recompiled and the file rewritten
    const file = join(dir, files[0]!)
    const bytes = readFileSync(file)
    bytes[bytes.length - 100] = (bytes[bytes.length - 100]! ^ 0xff)
    writeFileSync(file, bytes)
    const corrupted = await sb.run({ module: load('sieve'), input: enc('1000'), maxFuel: FUEL, timeoutMs: 10_000 })
    assertOk(corrupted)
    assert.equal(corrupted.host?.cache_hit, false)
    assert.equal(corrupted.host?.cache_rejected, true)
    assert.deepEqual(corrupted.output, first.output)
    const healed = await sb.run({ module: load('sieve'), input: enc('1000'), maxFuel: FUEL, timeoutMs: 10_000 })
    assert.equal(healed.host?.cache_hit, true)

    // a file written for another cache directory (another secret) under the same name is refused
    const other = join(tmp, 'cache-b')
    const sb2 = createSandbox({ cacheDir: other, warmProcesses: 0 })
    try {
      assertOk(await sb2.run({ module: load('sieve'), input: enc('1000'), maxFuel: FUEL, timeoutMs: 10_000 }))
    } finally {
      await sb2.close()
    }
    copyFileSync(join(other, files[0]!), file)
    const foreign = await sb.run({ module: load('sieve'), input: enc('1000'), maxFuel: FUEL, timeoutMs: 10_000 })
    assertOk(foreign)
    assert.equal(foreign.host?.cache_rejected, true)
    assert.equal(foreign.host?.cache_hit, false)
    // a truncated / garbage file too
    writeFileSync(file, 'MXCWASM1 not really')
    const garbage = await sb.run({ module: load('sieve'), input: enc('1000'), maxFuel: FUEL, timeoutMs: 10_000 })
    assertOk(garbage)
    assert.equal(garbage.host?.cache_rejected, true)
    // the secret is private to the owner
    if (process.platform !== 'win32') assert.equal(statSync(join(dir, '.key')).mode & 0o077, 0)
  } finally {
    await sb.close()
  }
})

test('compiled-module cache: concurrent writers of the same key are safe, and the oldest files are evicted past the size cap', async () => {
  const dir = join(tmp, 'cache-c')
  const sb = createSandbox({ cacheDir: dir, warmProcesses: 4, cacheMaxBytes: 1 })
  try {
    const runs = await Promise.all([0, 1, 2, 3].map(() => sb.run({ module: load('wordcount'), input: enc('a b'), maxFuel: FUEL, timeoutMs: 20_000 })))
    for (const r of runs) { assertOk(r); assert.equal(text(r.output), '0 2 3\n') }
    assert.ok(readdirSync(dir).every((f) => !f.endsWith('.tmp')), 'no temporary files left behind')
    // with a 1-byte cap every file is evicted by the sweep after a compile
    const older = join(dir, 'x.cwasm')
    writeFileSync(older, 'old')
    utimesSync(older, new Date(0), new Date(0))
    assertOk(await sb.run({ module: load('calc'), input: enc('1+1\n'), maxFuel: FUEL, timeoutMs: 20_000 }))
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.cwasm')), [])
  } finally {
    await sb.close()
  }
})

test('every job runs in its own process; concurrent jobs run in parallel and do not share state', async () => {
  const sb = createSandbox({ warmProcesses: 2 })
  try {
    const t0 = performance.now()
    const [loop, a, b] = await Promise.all([
      sb.run({ module: load('hostile_loop'), maxFuel: 1n << 60n, timeoutMs: 500 }),
      sb.run({ module: load('sha256'), input: enc('abc'), maxFuel: FUEL, timeoutMs: 10_000 }),
      sb.run({ module: load('wordcount'), input: enc('x y z'), maxFuel: FUEL, timeoutMs: 10_000 })
    ])
    assertFailed(loop, 'Timeout')
    assertOk(a)
    assertOk(b)
    assert.equal(new Set([loop.host?.pid, a.host?.pid, b.host?.pid]).size, 3)
    assert.ok(performance.now() - t0 < 3000)
    await healthCheck(sb)
  } finally {
    await sb.close()
  }
})

test('missing host binary: no runtime ids, a clear reason, run() refuses with SandboxError Unavailable', async () => {
  const missing = join(tmp, 'no-such-dir', 'mesh-sandbox-host')
  const sb = createSandbox({ hostBinary: missing })
  assert.deepEqual(sb.runtimeIds(), [])
  assert.equal(sb.available(), false)
  assert.match(sb.unavailableReason() ?? '', /sandbox host not built/)
  assert.match(sb.unavailableReason() ?? '', /cargo build --release --locked/)
  await assert.rejects(sb.run({ module: load('sha256'), maxFuel: 10, timeoutMs: 1000 }), { name: 'SandboxError', code: 'Unavailable' })
  await assert.rejects(sb.runInteractive({ module: load('calc'), maxFuel: 10, timeoutMs: 1000 }).result, { name: 'SandboxError', code: 'Unavailable' })
  await sb.close()
  // the MESH_SANDBOX_HOST override, in a child process (the variable is read when the sandbox is created)
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    "import { createSandbox } from './src/main/sandbox/index.ts'; const s = createSandbox(); console.log(JSON.stringify({ ids: s.runtimeIds(), reason: s.unavailableReason() }))"
  ], { env: { ...process.env, MESH_SANDBOX_HOST: missing }, encoding: 'utf8' })
  assert.equal(child.status, 0, child.stderr)
  const out = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { ids: string[], reason: string }
  assert.deepEqual(out.ids, [])
  assert.match(out.reason, new RegExp(missing.replace(/[/.]/g, '\\$&')))
  // a path that exists but is not the host
  const bogus = join(tmp, 'bogus-host')
  writeFileSync(bogus, '#!/bin/sh\nexit 3\n', { mode: 0o755 })
  const sb3 = createSandbox({ hostBinary: bogus })
  assert.deepEqual(sb3.runtimeIds(), [])
  assert.match(sb3.unavailableReason() ?? '', /does not run/)
  await sb3.close()
})

test('the host binary is resolved from the cargo build output in a dev checkout', () => {
  const r = resolveHostBinary()
  assert.match(r.path, /host[/\\]target[/\\]release[/\\]mesh-sandbox-host(\.exe)?$/)
  const v = spawnSync(r.path, ['--version'], { encoding: 'utf8' })
  assert.match(v.stdout, /^mesh-sandbox-host \S+ wasmtime \d+\.\d+\.\d+$/m)
})
