import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHash } from 'node:crypto'
import { createSandbox, type SandboxResult } from '../../../src/main/sandbox/index.js'
import { Writer } from '../../../src/main/sandbox/wasm-binary.js'

const jobs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'assets', 'jobs')
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(join(jobs, `${name}.wasm`)))
const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const MiB = 1024 * 1024

const sandbox = createSandbox({ progressIntervalMs: 5 })
after(() => sandbox.close())

const FUEL = 10_000_000_000n

function pseudoRandom (n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed | 1
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff }
  return out
}

function assertOk (r: SandboxResult): void {
  assert.equal(r.status, 'CompletedSuccessfully', `${r.failure_reason ?? ''} ${r.detail ?? ''}`)
  assert.equal(r.failure_reason, undefined)
  assert.equal(r.exit_code, 0)
  assert.ok(r.fuel_used > 0n)
  assert.equal(r.output_bytes, r.output.length)
}

/** A healthy job after a hostile one proves the host survived. */
async function healthCheck (): Promise<void> {
  const r = await sandbox.run({ module: load('sha256'), input: enc('abc'), maxFuel: FUEL, timeoutMs: 10_000 })
  assertOk(r)
  assert.equal(text(r.output), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n')
}

test('sha256 job matches node:crypto on 4 MiB of input, with progress reports', async () => {
  const input = pseudoRandom(4 * MiB, 7)
  const progress: bigint[] = []
  const r = await sandbox.run({ module: load('sha256'), input, maxFuel: FUEL, timeoutMs: 20_000, onProgress: (f) => progress.push(f) })
  assertOk(r)
  assert.equal(text(r.output), createHash('sha256').update(input).digest('hex') + '\n')
  assert.ok(r.peak_memory_bytes >= 65536)
  assert.ok(r.wall_ms > 0)
  assert.ok(progress.length > 0, 'progress is sampled while the job reads its input')
  progress.reduce((prev, f) => { assert.ok(f >= prev && f <= r.fuel_used); return f }, 0n)
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

test('interactive calculator: stdin fed incrementally, stdout streamed per line, back-pressure', async () => {
  const h = sandbox.runInteractive({ module: load('calc'), maxFuel: FUEL, timeoutMs: 20_000 })
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
  // a burst larger than the in-flight window exercises back-pressure
  const burst: string[] = []
  for (let i = 0; i < 40000; i++) burst.push(`${i} * 3 - (${i} % 7)`)
  const payload = enc(burst.join('\n') + '\n')
  for (let off = 0; off < payload.length; off += 32 * 1024) await h.write(payload.subarray(off, off + 32 * 1024))
  h.end()
  const r = await h.result
  assertOk(r)
  assert.equal(lines.length, 2 + 40000 + 1)
  for (let i = 0; i < 40000; i += 997) assert.equal(lines[2 + i], `= ${i * 3 - (i % 7)}`)
  assert.equal(lines.at(-1), 'bye')
  assert.equal(text(r.output).split('\n').length - 1, lines.length)
})

test('determinism: same module + input give identical fuel and output across runs and fresh host processes', async () => {
  const input = pseudoRandom(300_000, 99)
  const cases: Array<[string, Uint8Array]> = [['sha256', input], ['sieve', enc('150000')], ['mandelbrot', enc('40 30 200')]]
  const first: SandboxResult[] = []
  for (const [name, inp] of cases) first.push(await sandbox.run({ module: load(name), input: inp, maxFuel: FUEL, timeoutMs: 10_000 }))
  const fresh = createSandbox()
  try {
    for (let i = 0; i < cases.length; i++) {
      const [name, inp] = cases[i]!
      const again = await sandbox.run({ module: load(name), input: inp, maxFuel: FUEL, timeoutMs: 10_000 })
      const other = await fresh.run({ module: load(name), input: inp, maxFuel: FUEL, timeoutMs: 10_000 })
      for (const r of [again, other]) {
        assertOk(r)
        assert.equal(r.fuel_used, first[i]!.fuel_used, `${name} fuel`)
        assert.deepEqual(r.output, first[i]!.output, `${name} output`)
      }
    }
    assert.notEqual(fresh.hostPid(), sandbox.hostPid())
  } finally {
    await fresh.close()
  }
  // fuel exhaustion on a real program is deterministic too and reports exactly max_fuel
  const a = await sandbox.run({ module: load('sieve'), input: enc('150000'), maxFuel: 1_000_000, timeoutMs: 10_000 })
  assert.equal(a.failure_reason, 'FuelExhausted')
  assert.equal(a.fuel_used, 1_000_000n)
})

test('exact fuel on WAT modules through the sandbox', async () => {
  const basic = await sandbox.run({ module: load('fuel_basic'), maxFuel: 167, timeoutMs: 10_000 })
  assertOk(basic)
  assert.equal(basic.fuel_used, 167n)
  assert.equal(text(basic.output), 'hello\n')
  const short = await sandbox.run({ module: load('fuel_basic'), maxFuel: 166, timeoutMs: 10_000 })
  assert.equal(short.status, 'Failed')
  assert.equal(short.failure_reason, 'FuelExhausted')
  assert.equal(short.fuel_used, 166n)
  const control = await sandbox.run({ module: load('fuel_control'), maxFuel: 1000, timeoutMs: 10_000 })
  assertOk(control)
  assert.equal(control.fuel_used, 35n)
  const trap = await sandbox.run({ module: load('fuel_trap'), maxFuel: 1000, timeoutMs: 10_000 })
  assert.equal(trap.failure_reason, 'Trap')
  assert.equal(trap.fuel_used, 4n)
  const spin = await sandbox.run({ module: load('fuel_spin'), maxFuel: 5_000_000n, timeoutMs: 10_000 })
  assert.equal(spin.failure_reason, 'FuelExhausted')
  assert.equal(spin.fuel_used, 5_000_000n)
})

test('hostile: infinite loop ends FuelExhausted under a fuel limit and Timeout under a time limit', async () => {
  const pid = sandbox.hostPid()
  const f = await sandbox.run({ module: load('hostile_loop'), maxFuel: 20_000_000, timeoutMs: 10_000 })
  assert.equal(f.status, 'Failed')
  assert.equal(f.failure_reason, 'FuelExhausted')
  assert.equal(f.fuel_used, 20_000_000n)
  const t0 = performance.now()
  const t = await sandbox.run({ module: load('hostile_loop'), maxFuel: 1n << 60n, timeoutMs: 300 })
  const took = performance.now() - t0
  assert.equal(t.status, 'Failed')
  assert.equal(t.failure_reason, 'Timeout')
  assert.ok(took >= 290 && took < 3000, `timeout took ${took} ms`)
  assert.equal(sandbox.hostPid(), pid)
  await healthCheck()
})

test('hostile: memory bomb ends MemoryLimit at the cap', async () => {
  const stderr: Uint8Array[] = []
  const r = await sandbox.run({
    module: load('hostile_membomb'), maxFuel: FUEL, timeoutMs: 10_000, memoryLimitBytes: 48 * MiB, onStderr: (c) => stderr.push(c)
  })
  assert.equal(r.status, 'Failed')
  assert.equal(r.failure_reason, 'MemoryLimit')
  assert.ok(r.peak_memory_bytes <= 48 * MiB && r.peak_memory_bytes > 40 * MiB, `peak ${r.peak_memory_bytes}`)
  assert.match(text(Buffer.concat(stderr)), /malloc failed after \d+ MiB/)
  // an initial memory above the cap is refused before running
  const tiny = await sandbox.run({ module: load('sha256'), input: enc('x'), maxFuel: FUEL, timeoutMs: 10_000, memoryLimitBytes: 65536 })
  assert.equal(tiny.failure_reason, 'MemoryLimit')
  await healthCheck()
})

test('hostile: deep recursion traps (stack overflow)', async () => {
  const r = await sandbox.run({ module: load('hostile_recursion'), maxFuel: FUEL, timeoutMs: 10_000 })
  assert.equal(r.status, 'Failed')
  assert.equal(r.failure_reason, 'Trap')
  assert.ok(r.fuel_used > 0n && r.fuel_used < FUEL)
  await healthCheck()
})

test('hostile: stdout flood ends OutputLimit with the output truncated at the limit', async () => {
  const r = await sandbox.run({ module: load('hostile_flood'), maxFuel: FUEL, timeoutMs: 10_000, outputLimitBytes: 256 * 1024 })
  assert.equal(r.status, 'Failed')
  assert.equal(r.failure_reason, 'OutputLimit')
  assert.ok(r.output_bytes <= 256 * 1024)
  assert.equal(r.output.length, r.output_bytes)
  assert.match(text(r.output.subarray(0, 20)), /^flood line 0 /)
  await healthCheck()
})

test('hostile: /etc/passwd cannot be opened (no preopens, path_open is denied); the program exits 1 -> Trap', async () => {
  const r = await sandbox.run({ module: load('hostile_passwd'), maxFuel: FUEL, timeoutMs: 10_000 })
  assert.equal(r.status, 'Failed')
  assert.equal(r.failure_reason, 'Trap')
  assert.equal(r.exit_code, 1)
  const out = text(r.output)
  assert.match(out, /^fopen: denied$/m)
  for (let fd = 0; fd < 8; fd++) assert.match(out, new RegExp(`^path_open\\(${fd}\\): errno 76$`, 'm'))
  assert.doesNotMatch(out, /root:/)
  await healthCheck()
})

test('hostile: unknown host import and oversized module are InvalidModule', async () => {
  const imp = await sandbox.run({ module: load('hostile_import'), maxFuel: FUEL, timeoutMs: 10_000 })
  assert.equal(imp.status, 'Failed')
  assert.equal(imp.failure_reason, 'InvalidModule')
  assert.match(imp.detail ?? '', /env\.read_owner_files/)
  assert.equal(imp.fuel_used, 0n)
  // a real module padded with a 17 MiB custom section
  const base = load('sha256')
  const pad = new Writer().name('padding').bytes(new Uint8Array(17 * MiB)).toBytes()
  const big = new Writer().bytes(base).byte(0).u32(pad.length).bytes(pad).toBytes()
  const over = await sandbox.run({ module: big, maxFuel: FUEL, timeoutMs: 10_000 })
  assert.equal(over.failure_reason, 'InvalidModule')
  assert.match(over.detail ?? '', /over the \d+-byte limit/)
  const garbage = await sandbox.run({ module: enc('not wasm at all'), maxFuel: FUEL, timeoutMs: 10_000 })
  assert.equal(garbage.failure_reason, 'InvalidModule')
  await healthCheck()
})

test('cancellation via AbortSignal ends the job Cancelled', async () => {
  const ac = new AbortController()
  const p = sandbox.run({ module: load('hostile_loop'), maxFuel: 1n << 60n, timeoutMs: 30_000, signal: ac.signal })
  setTimeout(() => ac.abort(), 100)
  const r = await p
  assert.equal(r.status, 'Cancelled')
  assert.equal(r.failure_reason, undefined)
  const pre = await sandbox.run({ module: load('sha256'), maxFuel: FUEL, timeoutMs: 1000, signal: AbortSignal.abort() })
  assert.equal(pre.status, 'Cancelled')
  await healthCheck()
})

test('a crashed host fails its job with InternalError and the next job runs on a new host', async () => {
  const p = sandbox.run({ module: load('hostile_loop'), maxFuel: 1n << 60n, timeoutMs: 30_000 })
  // wait until the job is running (the host process exists), then kill the host
  await healthCheck()
  const pid = sandbox.hostPid()
  assert.ok(pid !== undefined)
  process.kill(pid, 'SIGKILL')
  const r = await p
  assert.equal(r.status, 'Failed')
  assert.equal(r.failure_reason, 'InternalError')
  await healthCheck()
  assert.notEqual(sandbox.hostPid(), pid)
})

test('bad job parameters are a clear SandboxError', async () => {
  await assert.rejects(sandbox.run({ module: load('sha256'), maxFuel: -1, timeoutMs: 1000 }), { name: 'SandboxError', code: 'BadJob' })
  await assert.rejects(sandbox.run({ module: load('sha256'), maxFuel: 1.5, timeoutMs: 1000 }), { name: 'SandboxError', code: 'BadJob' })
  await assert.rejects(sandbox.run({ module: load('sha256'), maxFuel: 10, timeoutMs: 0 }), { name: 'SandboxError', code: 'BadJob' })
})

test('close() cancels running jobs, kills the host and refuses new jobs', async () => {
  const sb = createSandbox()
  const warm = await sb.run({ module: load('fuel_empty'), maxFuel: 10, timeoutMs: 10_000 })
  assert.equal(warm.status, 'CompletedSuccessfully')
  const pid = sb.hostPid()
  assert.ok(pid !== undefined)
  const running = sb.run({ module: load('hostile_loop'), maxFuel: 1n << 60n, timeoutMs: 30_000 })
  await sb.close()
  const r = await running
  assert.equal(r.status, 'Cancelled')
  assert.equal(sb.hostPid(), undefined)
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' })
  await assert.rejects(sb.run({ module: load('fuel_empty'), maxFuel: 10, timeoutMs: 1000 }), { name: 'SandboxError', code: 'Closed' })
})

test('runInteractive with bad parameters rejects its result promise', async () => {
  const h = sandbox.runInteractive({ module: load('calc'), maxFuel: -5, timeoutMs: 1000 })
  await assert.rejects(h.result, { name: 'SandboxError', code: 'BadJob' })
})
