/**
 * Behaviour of the Wasmtime sandbox through its app-facing client: real jobs, interactive mode,
 * exact fuel (wire profile section 7), determinism, every failure code, cancellation, host crashes.
 * Hostile modules of issue 12: hostile.test.ts; isolation, cache and availability: host.test.ts.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSandbox, type SandboxResult } from '../../../src/main/sandbox/index.js'
import { padded } from './wasm-gen.js'
import { FUEL, MiB, assertFailed, assertOk, enc, healthCheck, load, pseudoRandom, text } from './helpers.js'

const cacheDir = mkdtempSync(join(tmpdir(), 'mesh-sandbox-test-'))
const sandbox = createSandbox({ progressIntervalMs: 5, cacheDir })
after(async () => {
  await sandbox.close()
  rmSync(cacheDir, { recursive: true, force: true })
})

test('the sandbox runs on Wasmtime and advertises the profile runtime id and the engine version', () => {
  assert.ok(sandbox.available(), sandbox.unavailableReason())
  const ids = sandbox.runtimeIds()
  assert.equal(ids[0], 'wasi-p1-fuel-v1')
  assert.match(ids[1] ?? '', /^wasmtime-\d+\.\d+\.\d+$/)
  assert.equal(ids.length, 2)
  assert.equal(sandbox.unavailableReason(), undefined)
})

test('sha256 job matches node:crypto on 4 MiB of input, with progress reports', async () => {
  const input = pseudoRandom(4 * MiB, 7)
  const progress: bigint[] = []
  const r = await sandbox.run({ module: load('sha256'), input, maxFuel: FUEL, timeoutMs: 20_000, onProgress: (f) => progress.push(f) })
  assertOk(r)
  assert.equal(text(r.output), createHash('sha256').update(input).digest('hex') + '\n')
  assert.ok(r.peak_memory_bytes >= 65536)
  assert.ok(r.wall_ms > 0)
  assert.ok(progress.length > 0, 'progress is sampled while the job runs')
  progress.reduce((prev, f) => { assert.ok(f > prev && f <= r.fuel_used); return f }, 0n)
})

test('wordcount job matches a JS count', async () => {
  const words = ['alpha', 'beta', 'gamma\t', 'delta\n', '  ', 'epsilon\r\n', 'z']
  let s = ''
  for (let i = 0; i < 20000; i++) s += words[(i * 7) % words.length] + (i % 13 === 0 ? '\n' : ' ')
  const input = enc(s)
  const r = await sandbox.run({ module: load('wordcount'), input, maxFuel: FUEL, timeoutMs: 10_000 })
  assertOk(r)
  const lines = s.split('\n').length - 1
  const wc = s.split(/[ \n\t\r\v\f]+/).filter((w) => w.length > 0).length
  assert.equal(text(r.output), `${lines} ${wc} ${input.length}\n`)
})

test('prime sieve job matches a JS sieve', async () => {
  const n = 200_000
  const comp = new Uint8Array(n + 1)
  let count = 0
  let last = 0
  for (let i = 2; i <= n; i++) {
    if (comp[i] === 0) { count++; last = i; for (let j = i * i; j <= n; j += i) comp[j] = 1 }
  }
  const r = await sandbox.run({ module: load('sieve'), input: enc(String(n)), maxFuel: FUEL, timeoutMs: 10_000 })
  assertOk(r)
  assert.equal(text(r.output), `${count} ${last}\n`)
})

test('mandelbrot job produces the same PGM as a JS rendering', async () => {
  const w = 96
  const h = 64
  const maxit = 300
  const img = new Uint8Array(w * h)
  for (let y = 0; y < h; y++) {
    const ci = -1.5 + 3.0 * y / h
    for (let x = 0; x < w; x++) {
      const cr = -2.0 + 3.0 * x / w
      let zr = 0
      let zi = 0
      let i = 0
      while (i < maxit) {
        const zr2 = zr * zr
        const zi2 = zi * zi
        if (zr2 + zi2 > 4.0) break
        zi = 2.0 * zr * zi + ci
        zr = zr2 - zi2 + cr
        i++
      }
      img[y * w + x] = i === maxit ? 0 : 255 - Math.floor((i * 255) / maxit)
    }
  }
  const header = enc(`P5\n${w} ${h}\n255\n`)
  const want = new Uint8Array(header.length + img.length)
  want.set(header)
  want.set(img, header.length)
  const r = await sandbox.run({ module: load('mandelbrot'), input: enc(`${w} ${h} ${maxit}`), maxFuel: FUEL, timeoutMs: 10_000 })
  assertOk(r)
  assert.deepEqual(r.output, want)
})

test('interactive calculator: stdin fed incrementally, stdout streamed per line, back-pressure both ways', async () => {
  const h = sandbox.runInteractive({ module: load('calc'), maxFuel: FUEL, timeoutMs: 30_000 })
  const lines: string[] = []
  let buf = ''
  let waiting: { want: number, resolve: () => void } | undefined
  h.onStdout((c) => {
    buf += text(c)
    let i: number
    while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1) }
    if (waiting !== undefined && lines.length >= waiting.want) waiting.resolve()
  })
  const lineCount = (n: number): Promise<void> => new Promise((resolve) => {
    if (lines.length >= n) resolve()
    else waiting = { want: n, resolve }
  })
  // each answer arrives before the next question is sent
  await h.write(enc('1 + 2 * 3\n'))
  await lineCount(1)
  assert.deepEqual(lines, ['= 7'])
  await h.write(enc('(10 - 4) / 0\n'))
  await lineCount(2)
  assert.equal(lines[1], 'error: division by zero')
  // a burst larger than the in-flight window exercises stdin back-pressure (write() waits for the
  // guest to consume); its ~40 000 answer lines exercise stdout back-pressure (the guest blocks
  // while the pipe to the app is full)
  const burst: string[] = []
  for (let i = 0; i < 40000; i++) burst.push(`${i} * 3 - (${i} % 7)`)
  const payload = enc(burst.join('\n') + '\n')
  let waited = 0
  for (let off = 0; off < payload.length; off += 32 * 1024) {
    const w = h.write(payload.subarray(off, off + 32 * 1024))
    let done = false
    void w.then(() => { done = true })
    await Promise.resolve()
    if (!done) waited++
    await w
  }
  assert.ok(waited > 0, 'write() applied back-pressure at least once')
  h.end()
  const r = await h.result
  assertOk(r)
  assert.equal(lines.length, 2 + 40000 + 1)
  for (let i = 0; i < 40000; i += 997) assert.equal(lines[2 + i], `= ${i * 3 - (i % 7)}`)
  assert.equal(lines.at(-1), 'bye')
  assert.equal(text(r.output).split('\n').length - 1, lines.length)
})

test('determinism: same module + input give identical fuel and output across runs and processes (compiled and cached)', async () => {
  const input = pseudoRandom(300_000, 99)
  const cases: Array<[string, Uint8Array]> = [['sha256', input], ['sieve', enc('150000')], ['mandelbrot', enc('40 30 200')]]
  const first: SandboxResult[] = []
  for (const [name, inp] of cases) first.push(await sandbox.run({ module: load(name), input: inp, maxFuel: FUEL, timeoutMs: 10_000 }))
  const fresh = createSandbox({ warmProcesses: 0 }) // no cache: compiles every time
  try {
    for (let i = 0; i < cases.length; i++) {
      const [name, inp] = cases[i]!
      const runs = [
        await sandbox.run({ module: load(name), input: inp, maxFuel: FUEL, timeoutMs: 10_000 }),
        await sandbox.run({ module: load(name), input: inp, maxFuel: FUEL, timeoutMs: 10_000 }),
        await fresh.run({ module: load(name), input: inp, maxFuel: FUEL, timeoutMs: 10_000 })
      ]
      const pids = new Set([first[i]!, ...runs].map((r) => r.host?.pid))
      assert.equal(pids.size, 4, 'every run is its own process')
      assert.equal(runs[0]!.host?.cache_hit, true)
      assert.equal(runs[2]!.host?.cache_hit, false)
      for (const r of runs) {
        assertOk(r)
        assert.equal(r.fuel_used, first[i]!.fuel_used, `${name} fuel`)
        assert.deepEqual(r.output, first[i]!.output, `${name} output`)
      }
    }
  } finally {
    await fresh.close()
  }
  // fuel exhaustion on a real program is deterministic too and reports exactly max_fuel
  const a = await sandbox.run({ module: load('sieve'), input: enc('150000'), maxFuel: 1_000_000, timeoutMs: 10_000 })
  assertFailed(a, 'FuelExhausted')
  assert.equal(a.fuel_used, 1_000_000n)
})

test('exact fuel on hand-counted WAT modules (profile 7: entries 1, nop/drop/block/loop/else/end/unreachable/return 0)', async () => {
  const exact: Array<[string, bigint]> = [
    ['fuel_empty', 1n], ['fuel_basic', 167n], ['fuel_control', 31n], ['fuel_features', 26n], ['fuel_overshoot', 301n]
  ]
  for (const [name, fuel] of exact) {
    const ok = await sandbox.run({ module: load(name), maxFuel: fuel, timeoutMs: 10_000 })
    assertOk(ok)
    assert.equal(ok.fuel_used, fuel, name)
    const more = await sandbox.run({ module: load(name), maxFuel: fuel * 1000n, timeoutMs: 10_000 })
    assert.equal(more.fuel_used, fuel, `${name} with a large budget: ${more.status} ${more.failure_reason ?? ""} ${more.detail ?? ""}`)
    const short = await sandbox.run({ module: load(name), maxFuel: fuel - 1n, timeoutMs: 10_000 })
    assertFailed(short, 'FuelExhausted')
    assert.equal(short.fuel_used, fuel - 1n, `${name} one short`)
  }
  const basic = await sandbox.run({ module: load('fuel_basic'), maxFuel: 167, timeoutMs: 10_000 })
  assert.equal(text(basic.output), 'hello\n')
  // every budget below the exact count fails on fuel_control
  for (let f = 0n; f < 31n; f += 3n) assertFailed(await sandbox.run({ module: load('fuel_control'), maxFuel: f, timeoutMs: 10_000 }), 'FuelExhausted')
  // a trap reports the fuel charged up to it
  const trap = await sandbox.run({ module: load('fuel_trap'), maxFuel: 1000, timeoutMs: 10_000 })
  assertFailed(trap, 'Trap')
  assert.equal(trap.fuel_used, 4n)
  assert.match(trap.detail ?? '', /unreachable/)
  const spin = await sandbox.run({ module: load('fuel_spin'), maxFuel: 5_000_000n, timeoutMs: 10_000 })
  assertFailed(spin, 'FuelExhausted')
  assert.equal(spin.fuel_used, 5_000_000n)
})

test('overshoot: a straight-line run that crosses the budget at the very end of the program is FuelExhausted, not success', async () => {
  // fuel_overshoot: entry check passes with 300 of 300, then 300 straight-line instructions end the program
  for (const max of [300n, 200n, 2n, 1n]) {
    const r = await sandbox.run({ module: load('fuel_overshoot'), maxFuel: max, timeoutMs: 10_000 })
    assertFailed(r, 'FuelExhausted')
    assert.equal(r.fuel_used, max)
  }
  const zero = await sandbox.run({ module: load('fuel_overshoot'), maxFuel: 0, timeoutMs: 10_000 })
  assertFailed(zero, 'FuelExhausted')
  assert.equal(zero.fuel_used, 0n)
})

test('proc_exit: status 0 is success, status n is Trap with exit_code n; exact fuel either way', async () => {
  const ok = await sandbox.run({ module: load('proc_exit'), input: enc('0'), maxFuel: 1000, timeoutMs: 10_000 })
  assertOk(ok)
  assert.equal(ok.fuel_used, 17n)
  const three = await sandbox.run({ module: load('proc_exit'), input: enc('3'), maxFuel: 1000, timeoutMs: 10_000 })
  assertFailed(three, 'Trap')
  assert.equal(three.exit_code, 3)
  assert.equal(three.fuel_used, 17n)
  assert.match(three.detail ?? '', /exited with status 3/)
  // exiting 0 after using more than max_fuel (the exit call is past the budget) is FuelExhausted
  const over = await sandbox.run({ module: load('proc_exit'), input: enc('0'), maxFuel: 16, timeoutMs: 10_000 })
  assertFailed(over, 'FuelExhausted')
  assert.equal(over.fuel_used, 16n)
})

test('hostile: infinite loop ends FuelExhausted under a fuel limit and Timeout under a time limit, with the fuel charged so far', async () => {
  const f = await sandbox.run({ module: load('hostile_loop'), maxFuel: 20_000_000, timeoutMs: 10_000 })
  assertFailed(f, 'FuelExhausted')
  assert.equal(f.fuel_used, 20_000_000n)
  const t0 = performance.now()
  const progress: bigint[] = []
  const t = await sandbox.run({ module: load('hostile_loop'), maxFuel: 1n << 60n, timeoutMs: 300, onProgress: (p) => progress.push(p) })
  const took = performance.now() - t0
  assertFailed(t, 'Timeout')
  assert.ok(took >= 290 && took < 3000, `timeout took ${took} ms`)
  assert.ok(t.fuel_used > 0n, 'Timeout reports the fuel charged so far')
  assert.ok(progress.length >= 5, `progress moved during a pure compute loop (${progress.length} samples)`)
  progress.reduce((prev, p) => { assert.ok(p > prev, 'progress samples strictly increase'); return p }, 0n)
  assert.ok(t.fuel_used >= progress.at(-1)!)
  await healthCheck(sandbox)
})

test('progress moves during fuel_spin (a loop without calls) and strictly increases', async () => {
  const progress: bigint[] = []
  const r = await sandbox.run({ module: load('fuel_spin'), maxFuel: 1_000_000_000n, timeoutMs: 20_000, onProgress: (p) => progress.push(p) })
  assertFailed(r, 'FuelExhausted')
  assert.ok(progress.length >= 3, `${progress.length} samples`)
  progress.reduce((prev, p) => { assert.ok(p > prev); return p }, 0n)
  assert.ok(progress.at(-1)! <= 1_000_000_000n)
})

test('hostile: memory bomb ends MemoryLimit at the cap', async () => {
  const stderr: Uint8Array[] = []
  const r = await sandbox.run({
    module: load('hostile_membomb'), maxFuel: FUEL, timeoutMs: 10_000, memoryLimitBytes: 48 * MiB, onStderr: (c) => stderr.push(c)
  })
  assertFailed(r, 'MemoryLimit')
  assert.ok(r.peak_memory_bytes <= 48 * MiB && r.peak_memory_bytes > 40 * MiB, `peak ${r.peak_memory_bytes}`)
  assert.match(text(Buffer.concat(stderr)), /malloc failed after \d+ MiB/)
  assert.ok((r.host?.peak_rss_bytes ?? 0) < 48 * MiB + 64 * MiB, `host rss ${r.host?.peak_rss_bytes}`)
  // an initial memory above the cap is refused before running
  const tiny = await sandbox.run({ module: load('sha256'), input: enc('x'), maxFuel: FUEL, timeoutMs: 10_000, memoryLimitBytes: 65536 })
  assertFailed(tiny, 'MemoryLimit')
  assert.equal(tiny.fuel_used, 0n)
  await healthCheck(sandbox)
})

test('hostile: deep recursion traps', async () => {
  const r = await sandbox.run({ module: load('hostile_recursion'), maxFuel: FUEL, timeoutMs: 10_000 })
  assertFailed(r, 'Trap')
  assert.ok(r.fuel_used > 0n && r.fuel_used < FUEL)
  await healthCheck(sandbox)
})

test('hostile: stdout flood ends OutputLimit with the output truncated at the limit', async () => {
  const r = await sandbox.run({ module: load('hostile_flood'), maxFuel: FUEL, timeoutMs: 10_000, outputLimitBytes: 256 * 1024 })
  assertFailed(r, 'OutputLimit')
  assert.equal(r.output_bytes, 256 * 1024)
  assert.equal(r.output.length, r.output_bytes)
  assert.match(text(r.output.subarray(0, 20)), /^flood line 0 /)
  await healthCheck(sandbox)
})

test('stderr goes to onStderr, capped at stderrLimitBytes without failing the job', async () => {
  const sb = createSandbox({ stderrLimitBytes: 10, warmProcesses: 0 })
  try {
    const stderr: Uint8Array[] = []
    const r = await sb.run({ module: load('hostile_membomb'), maxFuel: FUEL, timeoutMs: 10_000, memoryLimitBytes: 4 * MiB, onStderr: (c) => stderr.push(c) })
    assertFailed(r, 'MemoryLimit')
    assert.equal(text(Buffer.concat(stderr)), 'malloc fai')
  } finally {
    await sb.close()
  }
})

test('hostile: /etc/passwd cannot be opened (no preopens, path_open is denied); the program exits 1 -> Trap', async () => {
  const r = await sandbox.run({ module: load('hostile_passwd'), maxFuel: FUEL, timeoutMs: 10_000 })
  assertFailed(r, 'Trap')
  assert.equal(r.exit_code, 1)
  const out = text(r.output)
  assert.match(out, /^fopen: denied$/m)
  // EBADF: no descriptor is a directory (stdio only, no preopens)
  for (let fd = 0; fd < 8; fd++) assert.match(out, new RegExp(`^path_open\\(${fd}\\): errno 8$`, 'm'))
  assert.doesNotMatch(out, /root:/)
  await healthCheck(sandbox)
})

test('hostile: unknown host import, oversized module and garbage are InvalidModule with fuel 0', async () => {
  const imp = await sandbox.run({ module: load('hostile_import'), maxFuel: FUEL, timeoutMs: 10_000 })
  assertFailed(imp, 'InvalidModule')
  assert.match(imp.detail ?? '', /env\.read_owner_files/)
  assert.equal(imp.fuel_used, 0n)
  // a real module padded with a 17 MiB custom section
  const over = await sandbox.run({ module: padded(load('sha256'), 17 * MiB), maxFuel: FUEL, timeoutMs: 10_000 })
  assertFailed(over, 'InvalidModule')
  assert.match(over.detail ?? '', /over the \d+-byte limit/)
  // the limit is the sandbox's maxModuleBytes: under a larger one the same module is valid
  const sb = createSandbox({ maxModuleBytes: 64 * MiB, warmProcesses: 0 })
  try {
    const r = await sb.run({ module: padded(load('sha256'), 17 * MiB), input: enc('abc'), maxFuel: FUEL, timeoutMs: 10_000 })
    assertOk(r)
  } finally {
    await sb.close()
  }
  const garbage = await sandbox.run({ module: enc('not wasm at all'), maxFuel: FUEL, timeoutMs: 10_000 })
  assertFailed(garbage, 'InvalidModule')
  assert.equal(garbage.fuel_used, 0n)
  await healthCheck(sandbox)
})

test('cancellation via AbortSignal ends the job Cancelled with the fuel charged so far', async () => {
  const ac = new AbortController()
  const p = sandbox.run({ module: load('hostile_loop'), maxFuel: 1n << 60n, timeoutMs: 30_000, signal: ac.signal })
  setTimeout(() => ac.abort(), 150)
  const t0 = performance.now()
  const r = await p
  assert.equal(r.status, 'Cancelled')
  assert.equal(r.failure_reason, undefined)
  assert.ok(r.fuel_used > 0n, 'Cancelled reports the fuel charged so far')
  assert.ok(performance.now() - t0 < 2000)
  const pre = await sandbox.run({ module: load('sha256'), maxFuel: FUEL, timeoutMs: 1000, signal: AbortSignal.abort() })
  assert.equal(pre.status, 'Cancelled')
  // an interactive job blocked reading stdin is cancelled too
  const ac2 = new AbortController()
  const h = sandbox.runInteractive({ module: load('calc'), maxFuel: FUEL, timeoutMs: 30_000, signal: ac2.signal })
  setTimeout(() => ac2.abort(), 100)
  assert.equal((await h.result).status, 'Cancelled')
  await healthCheck(sandbox)
})

test('Timeout also ends an interactive job waiting for stdin', async () => {
  const t0 = performance.now()
  const h = sandbox.runInteractive({ module: load('calc'), maxFuel: FUEL, timeoutMs: 300 })
  const r = await h.result
  assertFailed(r, 'Timeout')
  assert.ok(performance.now() - t0 < 3000)
})

test('a host process killed mid-job fails that job with InternalError; the next job runs normally', async () => {
  const p = sandbox.run({ module: load('hostile_loop'), maxFuel: 1n << 60n, timeoutMs: 30_000 })
  let pid: number | undefined
  for (let i = 0; i < 200 && pid === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    pid = sandbox.jobPids()[0]
  }
  assert.ok(pid !== undefined)
  await new Promise((resolve) => setTimeout(resolve, 100))
  process.kill(pid, 'SIGKILL')
  const r = await p
  assertFailed(r, 'InternalError')
  assert.match(r.detail ?? '', /died/)
  await healthCheck(sandbox)
})

test('bad job parameters are a clear SandboxError', async () => {
  await assert.rejects(sandbox.run({ module: load('sha256'), maxFuel: -1, timeoutMs: 1000 }), { name: 'SandboxError', code: 'BadJob' })
  await assert.rejects(sandbox.run({ module: load('sha256'), maxFuel: 1.5, timeoutMs: 1000 }), { name: 'SandboxError', code: 'BadJob' })
  await assert.rejects(sandbox.run({ module: load('sha256'), maxFuel: 10, timeoutMs: 0 }), { name: 'SandboxError', code: 'BadJob' })
  await assert.rejects(sandbox.run({ module: load('sha256'), maxFuel: 10, timeoutMs: 1000, memoryLimitBytes: 1.5 }), { name: 'SandboxError', code: 'BadJob' })
  await assert.rejects(sandbox.run({ module: load('sha256'), maxFuel: 10, timeoutMs: 1000, outputLimitBytes: 0.5 }), { name: 'SandboxError', code: 'BadJob' })
})

test('close() cancels running jobs, kills their host processes and refuses new jobs', async () => {
  const sb = createSandbox()
  const warm = await sb.run({ module: load('fuel_empty'), maxFuel: 10, timeoutMs: 10_000 })
  assert.equal(warm.status, 'CompletedSuccessfully')
  const running = sb.run({ module: load('hostile_loop'), maxFuel: 1n << 60n, timeoutMs: 30_000 })
  await new Promise((resolve) => setTimeout(resolve, 100))
  const pid = sb.jobPids()[0]
  assert.ok(pid !== undefined)
  await sb.close()
  const r = await running
  assert.equal(r.status, 'Cancelled')
  assert.deepEqual(sb.jobPids(), [])
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' })
  await assert.rejects(sb.run({ module: load('fuel_empty'), maxFuel: 10, timeoutMs: 1000 }), { name: 'SandboxError', code: 'Closed' })
})

test('runInteractive with bad parameters rejects its result promise', async () => {
  const h = sandbox.runInteractive({ module: load('calc'), maxFuel: -5, timeoutMs: 1000 })
  await assert.rejects(h.result, { name: 'SandboxError', code: 'BadJob' })
})
