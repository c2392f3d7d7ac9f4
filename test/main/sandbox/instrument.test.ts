import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHash } from 'node:crypto'
import { instrumentModule, inspectModule, countInstructions, FUEL_EXPORT } from '../../../src/main/sandbox/instrument.js'
import { checkModule } from '../../../src/main/sandbox/check.js'
import { runInline } from '../../../src/main/sandbox/inline.js'
import { WA, type WasmModule } from '../../../src/main/sandbox/wasm-api.js'
import { Writer } from '../../../src/main/sandbox/wasm-binary.js'

const jobs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'assets', 'jobs')
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(join(jobs, `${name}.wasm`)))
const MiB = 1024 * 1024

function metered (name: string, memoryLimitBytes = 64 * MiB): WasmModule {
  return new WA.Module(instrumentModule(load(name), { memoryLimitBytes }).bytes)
}

// --- tiny module assembler for negative cases
function section (id: number, body: Writer): Uint8Array {
  const b = body.toBytes()
  return new Writer().byte(id).u32(b.length).bytes(b).toBytes()
}
interface ModSpec {
  imports?: Array<{ module: string, name: string, params: number[], results: number[] }>
  exportStart?: boolean
  exportMemory?: boolean
  memory?: { min: number, max?: number }
  start?: boolean
}
function assemble (spec: ModSpec): Uint8Array {
  const imports = spec.imports ?? []
  const types = new Writer().u32(imports.length + 1)
  for (const i of imports) types.byte(0x60).u32(i.params.length).bytes(i.params).u32(i.results.length).bytes(i.results)
  types.byte(0x60).u32(0).u32(0)
  const imp = new Writer().u32(imports.length)
  imports.forEach((i, k) => imp.name(i.module).name(i.name).byte(0).u32(k))
  const funcIdx = imports.length
  const parts = [Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0), section(1, types)]
  if (imports.length > 0) parts.push(section(2, imp))
  parts.push(section(3, new Writer().u32(1).u32(imports.length)))
  if (spec.memory !== undefined) {
    const m = new Writer().u32(1)
    if (spec.memory.max === undefined) m.byte(0).u32(spec.memory.min)
    else m.byte(1).u32(spec.memory.min).u32(spec.memory.max)
    parts.push(section(5, m))
  }
  const exps: Array<[string, number, number]> = []
  if (spec.exportStart !== false) exps.push(['_start', 0, funcIdx])
  if (spec.exportMemory !== false && spec.memory !== undefined) exps.push(['memory', 2, 0])
  const ex = new Writer().u32(exps.length)
  for (const [n, k, i] of exps) ex.name(n).byte(k).u32(i)
  parts.push(section(7, ex))
  if (spec.start === true) parts.push(section(8, new Writer().u32(funcIdx)))
  const body = Uint8Array.of(0x00, 0x0b)
  parts.push(section(10, new Writer().u32(1).u32(body.length).bytes(body)))
  const w = new Writer()
  for (const p of parts) w.bytes(p)
  return w.toBytes()
}

test('every committed job module passes the checks (except the hostile import) and instruments to a valid module', () => {
  const names = readdirSync(jobs).filter((f) => f.endsWith('.wasm')).map((f) => f.slice(0, -5))
  assert.ok(names.length >= 16, `expected the job modules, found ${names.join(',')}`)
  for (const name of names) {
    const bytes = load(name)
    if (name === 'hostile_import') {
      assert.throws(() => checkModule(bytes), { name: 'InvalidModuleError', message: /env\.read_owner_files/ })
      continue
    }
    checkModule(bytes)
    const out = instrumentModule(bytes, { memoryLimitBytes: 64 * MiB })
    assert.ok(WA.validate(out.bytes), `${name}: instrumented module must validate`)
    assert.ok(inspectModule(out.bytes).exports.some((e) => e.name === FUEL_EXPORT))
  }
})

test('fuel is exact on hand-written WAT: fuel_basic = 167, with a WASI call costing only its call', () => {
  const mod = metered('fuel_basic')
  const r = runInline(mod, new Uint8Array(0), 1000n)
  assert.equal(r.exitCode, 0)
  assert.equal(r.fuelUsed, 167n)
  assert.equal(new TextDecoder().decode(r.output), 'hello\n')
  // exactly enough fuel succeeds; one less is FuelExhausted (charged at the entry of the last run)
  const exact = runInline(mod, new Uint8Array(0), 167n)
  assert.equal(exact.exitCode, 0)
  assert.equal(exact.fuelUsed, 167n)
  const short = runInline(mod, new Uint8Array(0), 166n)
  assert.equal(short.fuelExhausted, true)
  assert.equal(short.fuelUsed, 166n)
  assert.match(short.trap ?? '', /unreachable/)
  // the first run (two stores, four consts, the fd_write call) costs 11: with 10 nothing is written,
  // with 11 the write happens and the next run exhausts the budget
  const early = runInline(mod, new Uint8Array(0), 10n)
  assert.equal(early.fuelExhausted, true)
  assert.equal(early.output.length, 0)
  const write = runInline(mod, new Uint8Array(0), 11n)
  assert.equal(write.fuelExhausted, true)
  assert.equal(new TextDecoder().decode(write.output), 'hello\n')
  // static count of the module's instructions: $add 3 + _start (6 + 6 + 2 + 3 + 4 + 4 + 1) = 29
  assert.equal(countInstructions(load('fuel_basic')), 29)
})

test('fuel is exact through br_table, return, if/else, select and memory.grow (fuel_control = 35)', () => {
  const r = runInline(metered('fuel_control'), new Uint8Array(0), 1000n)
  assert.equal(r.exitCode, 0)
  assert.equal(r.fuelUsed, 35n)
  assert.equal(r.memhit, true, 'the grow past the declared max fails and is flagged')
  for (let f = 0n; f < 35n; f++) {
    const s = runInline(metered('fuel_control'), new Uint8Array(0), f)
    assert.equal(s.fuelExhausted, true, `fuel ${f} must not be enough`)
  }
})

test('fuel is exact with multi-value, block params, tail calls, sign-ext, bulk memory, SIMD, sat-trunc (fuel_features = 26)', () => {
  const mod = metered('fuel_features')
  const r = runInline(mod, new Uint8Array(0), 26n)
  assert.equal(r.exitCode, 0)
  assert.equal(r.fuelUsed, 26n)
  assert.equal(runInline(mod, new Uint8Array(0), 25n).fuelExhausted, true)
})

test('a trap reports the fuel charged so far (fuel_trap = 4) and a spin loop exhausts exactly max_fuel', () => {
  const r = runInline(metered('fuel_trap'), new Uint8Array(0), 1000n)
  assert.equal(r.exitCode, undefined)
  assert.equal(r.fuelExhausted, false)
  assert.equal(r.fuelUsed, 4n)
  const spin = runInline(metered('fuel_spin'), new Uint8Array(0), 123456n)
  assert.equal(spin.fuelExhausted, true)
  assert.equal(spin.fuelUsed, 123456n)
})

test('metered C kernels give the same output as unmetered ones, with deterministic fuel', () => {
  const input = new Uint8Array(200_000).map((_, i) => (i * 31 + (i >> 7)) & 0xff)
  const plain = runInline(new WA.Module(load('sha256')), input)
  const a = runInline(metered('sha256'), input, 1n << 40n)
  const b = runInline(metered('sha256'), input, 1n << 40n)
  const want = createHash('sha256').update(input).digest('hex') + '\n'
  assert.equal(new TextDecoder().decode(plain.output), want)
  assert.equal(new TextDecoder().decode(a.output), want)
  assert.equal(a.fuelUsed, b.fuelUsed)
  assert.ok((a.fuelUsed ?? 0n) > 1_000_000n)
})

test('the memory cap rewrites the declared maximum; an initial memory above the cap is MemoryLimit', () => {
  const mod = assemble({ memory: { min: 2 } })
  const capped = instrumentModule(mod, { memoryLimitBytes: 5 * 65536 + 100 })
  assert.deepEqual(inspectModule(capped.bytes).memories[0], { flags: 1, min: 2, max: 5 })
  const lower = instrumentModule(assemble({ memory: { min: 1, max: 3 } }), { memoryLimitBytes: 64 * MiB })
  assert.deepEqual(inspectModule(lower.bytes).memories[0], { flags: 1, min: 1, max: 3 })
  assert.throws(() => instrumentModule(mod, { memoryLimitBytes: 65536 }), { name: 'MemoryLimitError', code: 'MemoryLimit' })
})

test('module checks reject bad modules with InvalidModule', () => {
  const ok = assemble({ memory: { min: 1 }, imports: [{ module: 'wasi_snapshot_preview1', name: 'fd_write', params: [0x7f, 0x7f, 0x7f, 0x7f], results: [0x7f] }] })
  checkModule(ok)
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['garbage', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), /not a valid WebAssembly/],
    ['unknown module', assemble({ memory: { min: 1 }, imports: [{ module: 'env', name: 'fd_write', params: [], results: [] }] }), /env\.fd_write is not allowed/],
    ['unknown wasi fn', assemble({ memory: { min: 1 }, imports: [{ module: 'wasi_snapshot_preview1', name: 'fd_exfiltrate', params: [], results: [] }] }), /not in the WASI allowlist/],
    ['wrong signature', assemble({ memory: { min: 1 }, imports: [{ module: 'wasi_snapshot_preview1', name: 'fd_write', params: [0x7e], results: [] }] }), /signature/],
    ['no _start', assemble({ memory: { min: 1 }, exportStart: false }), /_start/],
    ['no memory export', assemble({ memory: { min: 1 }, exportMemory: false }), /memory/],
    ['no memory', assemble({}), /memory/]
  ]
  for (const [what, bytes, re] of cases) {
    assert.throws(() => checkModule(bytes), (e: Error & { code?: string }) => {
      assert.equal(e.name, 'InvalidModuleError', what)
      assert.equal(e.code, 'InvalidModule')
      assert.match(e.message, re, what)
      return true
    })
  }
  assert.throws(() => checkModule(ok, { maxModuleBytes: 10 }), { name: 'InvalidModuleError', message: /over the 10-byte limit/ })
  assert.throws(() => instrumentModule(assemble({ memory: { min: 1 }, start: true }), { memoryLimitBytes: MiB }), { name: 'InvalidModuleError', message: /start section/ })
})
