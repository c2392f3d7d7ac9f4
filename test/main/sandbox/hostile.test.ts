/**
 * The hostile inputs of issue 12 that broke the V8 engine, each against the Wasmtime host: the right
 * failure code, quickly, with the host process's memory bounded (job cap + fixed overhead), and an
 * unrelated job running concurrently completing correctly.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createSandbox, type SandboxJob, type SandboxResult } from '../../../src/main/sandbox/index.js'
import { bigTables, buildModule, manyFunctions, manyLocals, nestedBlocks } from './wasm-gen.js'
import { FUEL, MiB, assertFailed, assertOk, enc, healthCheck, load, text, watchPeakRss } from './helpers.js'

const sandbox = createSandbox({ warmProcesses: 3 })
after(() => sandbox.close())

/** Fixed overhead of a host process beyond the job's linear memory (engine, compiled code, buffers). */
const OVERHEAD = 96 * MiB
const CAP = 64 * MiB

interface Observed { r: SandboxResult, ms: number, peakRss: number, concurrentMs: number }

/** Runs `job` while a normal job runs beside it; checks the normal job and returns both measurements. */
async function hostile (job: Omit<SandboxJob, 'maxFuel' | 'timeoutMs'> & Partial<SandboxJob>): Promise<Observed> {
  const watch = watchPeakRss(sandbox)
  const t0 = performance.now()
  const run = sandbox.run({ maxFuel: FUEL, timeoutMs: 20_000, memoryLimitBytes: CAP, ...job }).then((r) => ({ r, ms: performance.now() - t0 }))
  const concurrentMs = await healthCheck(sandbox)
  const { r, ms } = await run
  const peakRss = Math.max(watch.stop(), r.host?.peak_rss_bytes ?? 0)
  if (process.env.MESH_SANDBOX_TEST_REPORT !== undefined) {
    console.log(JSON.stringify({ code: r.failure_reason ?? r.status, ms: Math.round(ms), peak_rss_mib: +(peakRss / MiB).toFixed(1), concurrent_ms: Math.round(concurrentMs), detail: r.detail }))
  }
  assert.ok(concurrentMs < 5000, `the concurrent job took ${concurrentMs} ms`)
  return { r, ms, peakRss, concurrentMs }
}

function assertBounded (o: Observed, cap = CAP): void {
  if (process.platform !== 'linux') return
  assert.ok(o.peakRss > 0, 'peak RSS was measured')
  assert.ok(o.peakRss < cap + OVERHEAD, `host peak RSS ${(o.peakRss / MiB).toFixed(1)} MiB is over cap + overhead`)
}

test('100 tables of 10 M externref entries (a 654-byte module): InvalidModule at once (no GC types), host unharmed', async () => {
  const m = bigTables(100, 10_000_000, 0x6f)
  assert.equal(m.length, 654)
  const o = await hostile({ module: m })
  assertFailed(o.r, 'InvalidModule')
  assert.equal(o.r.fuel_used, 0n)
  assert.ok(o.ms < 2000)
  assertBounded(o)
})

test('100 funcref tables of 10 M entries: MemoryLimit (table count); one such table: MemoryLimit (element cap)', async () => {
  const many = await hostile({ module: bigTables(100, 10_000_000, 0x70) })
  assertFailed(many.r, 'MemoryLimit')
  assert.match(many.r.detail ?? '', /100 tables/)
  assertBounded(many)
  const one = await hostile({ module: bigTables(1, 10_000_000, 0x70) })
  assertFailed(one.r, 'MemoryLimit')
  assert.match(one.r.detail ?? '', /table/)
  assert.ok(one.ms < 2000)
  assertBounded(one)
})

test('fd_write with 16 000 iovecs aliasing one 1 MiB buffer: OutputLimit at the cap, host memory bounded', async () => {
  const o = await hostile({ module: load('hostile_iovec_alias'), outputLimitBytes: 8 * MiB })
  assertFailed(o.r, 'OutputLimit')
  assert.equal(o.r.output_bytes, 8 * MiB)
  assert.equal(o.r.output.length, 8 * MiB)
  assert.ok(o.r.output.every((b) => b === 0x78), 'only the aliased buffer\'s bytes')
  assert.ok(o.ms < 5000)
  // the job's own memory is 20 pages; the output (8 MiB) streams out instead of accumulating
  assertBounded(o, 32 * MiB)
})

test('fd_write and fd_read with 2^31-1 iovecs: the guest gets an errno at once (ENOMEM), no host allocation', async () => {
  const o = await hostile({ module: load('hostile_iovec_count') })
  assertOk(o.r)
  assert.equal(text(o.r.output), 'fd_write48\nfd_read 48\n')
  assert.ok(o.ms < 2000)
  assertBounded(o, 16 * MiB)
})

test('999 999 functions (7 MB): InvalidModule before compiling (over the 100 000-function limit), concurrent job unaffected', async () => {
  const m = manyFunctions(999_999)
  assert.ok(m.length > 6.9e6 && m.length < 16 * MiB)
  const o = await hostile({ module: m })
  assertFailed(o.r, 'InvalidModule')
  assert.match(o.r.detail ?? '', /999999 functions/)
  assert.equal(o.r.fuel_used, 0n)
  assert.ok(o.ms < 3000, `${o.ms} ms`)
  assertBounded(o)
})

test('compile time counts toward the timeout: 60 000 functions with a 1 s timeout end Timeout, concurrent job unaffected', async () => {
  const o = await hostile({ module: manyFunctions(60_000), timeoutMs: 1000 })
  assertFailed(o.r, 'Timeout')
  assert.equal(o.r.fuel_used, 0n)
  assert.ok(o.ms >= 990 && o.ms < 4000, `${o.ms} ms`)
  assertBounded(o, CAP + 512 * MiB) // compiling may use its budget (cap + compile overhead)
})

test('50 000 locals: a valid module (the parser limit), it runs; 50 001 locals: InvalidModule', async () => {
  const ok = await hostile({ module: manyLocals(50_000) })
  assertOk(ok.r)
  assert.equal(ok.r.fuel_used, 2n) // entry + local.get (drop free)
  assertBounded(ok)
  const over = await hostile({ module: manyLocals(50_001) })
  assertFailed(over.r, 'InvalidModule')
  assert.match(over.r.detail ?? '', /too many locals/)
})

test('1 M nested blocks: MemoryLimit (compiling needs more than its memory budget), never InternalError; 100 000 nest and run', async () => {
  const deep = await hostile({ module: nestedBlocks(1_000_000) })
  assertFailed(deep.r, 'MemoryLimit')
  assert.ok(deep.ms < 15_000, `${deep.ms} ms`)
  assertBounded(deep, CAP + 800 * MiB) // the compile budget: cap + 768 MiB of address space
  const ok = await hostile({ module: nestedBlocks(100_000) })
  assertOk(ok.r)
  assert.equal(ok.r.fuel_used, 1n) // blocks and ends are free
})

test('negative / out-of-bounds pointers and lengths in WASI calls: a trap (WASI rule) or an errno, never a silent success', async () => {
  const cases: Array<[string, 'Trap' | 'errno']> = [
    ['iovec array pointer negative', 'Trap'],
    ['iovec buffer pointer negative', 'Trap'],
    ['iovec length -1', 'errno'],
    ['nwritten pointer negative', 'Trap'],
    ['fd_read into a negative buffer', 'Trap'],
    ['random_get into a negative buffer', 'Trap'],
    ['clock_time_get result past the end of memory', 'Trap'],
    ['args_get with negative pointers', 'Trap'],
    ['iovec length past the end of memory', 'errno']
  ]
  for (let i = 0; i < cases.length; i++) {
    const [what, want] = cases[i]!
    const o = await hostile({ module: load('hostile_badptr'), input: enc(`${i}abcdefghijklmnopqrstuvwxyz`) })
    if (want === 'Trap') {
      assertFailed(o.r, 'Trap')
      assert.match(o.r.detail ?? '', /out of bounds/i, what)
    } else {
      assertOk(o.r)
      assert.match(text(o.r.output), /^errno (\d\d)\n$/, what)
      assert.notEqual(text(o.r.output), 'errno 00\n', `${what}: the call must fail`)
    }
    assertBounded(o, 16 * MiB)
  }
  const control = await sandbox.run({ module: load('hostile_badptr'), input: enc('9'), maxFuel: FUEL, timeoutMs: 10_000 })
  assertOk(control)
  assert.equal(text(control.output), 'ok\nerrno 00\n')
})

test('a loop of 64 MiB memory.fill (1 fuel each under the profile) still ends Timeout on time', async () => {
  const o = await hostile({ module: load('hostile_bulk'), timeoutMs: 300, maxFuel: 1n << 60n, memoryLimitBytes: 80 * MiB })
  assertFailed(o.r, 'Timeout')
  assert.ok(o.ms >= 290 && o.ms < 1500, `${o.ms} ms`)
  assertBounded(o, 80 * MiB)
})

test('the existing hostile modules end with their codes while a normal job runs beside each, memory bounded', async () => {
  const loop = await hostile({ module: load('hostile_loop'), timeoutMs: 400, maxFuel: 1n << 60n })
  assertFailed(loop.r, 'Timeout')
  assertBounded(loop)
  const bomb = await hostile({ module: load('hostile_membomb'), memoryLimitBytes: 48 * MiB })
  assertFailed(bomb.r, 'MemoryLimit')
  assertBounded(bomb, 48 * MiB)
  const rec = await hostile({ module: load('hostile_recursion') })
  assertFailed(rec.r, 'Trap')
  assertBounded(rec)
  const flood = await hostile({ module: load('hostile_flood'), outputLimitBytes: MiB })
  assertFailed(flood.r, 'OutputLimit')
  assertBounded(flood)
  const passwd = await hostile({ module: load('hostile_passwd') })
  assertFailed(passwd.r, 'Trap')
  assertBounded(passwd)
  const imp = await hostile({ module: load('hostile_import') })
  assertFailed(imp.r, 'InvalidModule')
})

test('proposals the profile does not need are InvalidModule: shared memory, memory64, multi-memory, threads, exceptions', async () => {
  // (module (memory 1 1 shared)) etc., hand-encoded
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  const memSection = (limits: number[]): number[] => [0x05, limits.length + 1, 0x01, ...limits]
  const cases: Array<[string, number[]]> = [
    ['shared memory', [...header, ...memSection([0x03, 0x01, 0x01])]],
    ['memory64', [...header, ...memSection([0x04, 0x01])]],
    ['multi-memory', [...header, 0x05, 0x05, 0x02, 0x00, 0x01, 0x00, 0x01]],
    // a tag section (exceptions)
    ['exceptions', [...header, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x0d, 0x03, 0x01, 0x00, 0x00]]
  ]
  for (const [what, bytes] of cases) {
    const r = await sandbox.run({ module: new Uint8Array(bytes), maxFuel: FUEL, timeoutMs: 10_000 })
    assertFailed(r, 'InvalidModule')
    assert.ok((r.detail ?? '').length > 0, what)
  }
  // atomics (threads proposal) in a function body: i32.const 0, i32.atomic.load, drop
  const atomics = buildModule({ functions: 1, body: () => [0x00, 0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a, 0x0b] })
  assertFailed(await sandbox.run({ module: atomics, maxFuel: FUEL, timeoutMs: 10_000 }), 'InvalidModule')
  // a start section (a WASI command starts at _start): section 8, function 0
  const withStart = buildModule({ functions: 1, body: () => [0x00, 0x0b], start: 0 })
  const st = await sandbox.run({ module: withStart, maxFuel: FUEL, timeoutMs: 10_000 })
  assertFailed(st, 'InvalidModule')
  assert.match(st.detail ?? '', /start section/)
  // a component is not a job module
  const component = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00])
  const c = await sandbox.run({ module: component, maxFuel: FUEL, timeoutMs: 10_000 })
  assertFailed(c, 'InvalidModule')
  assert.match(c.detail ?? '', /component/)
})
