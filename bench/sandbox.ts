/**
 * Sandbox benchmarks (JSON lines), all on the Wasmtime host (src/main/sandbox/host):
 *  {"bench":"metering-overhead","kernel":k,"ratio":R}  `_start` time with fuel on (as jobs run) / fuel off (epoch checks instead,
 *                                                      so timeouts still work), same engine, module, input;
 *                                                      `vs_raw`: as jobs run / no fuel and no epoch checks at all
 *  {"bench":"wasm-vs-native","kernel":k,"ratio":R}     `_start` time (fuel on, as jobs run) / the same C built natively with gcc -O2;
 *                                                      also `unmetered_ratio` (epochs instead of fuel) and `raw_ratio` (neither)
 *  {"bench":"job-start","p50_ms":x}                    run() -> first instruction, warm process pool + compiled-module cache
 *  {"bench":"cold-compile","module":m,"compile_ms":x}  compiling each sample module (no cache), and loading it from the cache
 * Ratios are medians of per-round ratios over BENCH_RUNS (default 7) interleaved rounds.
 * Targets (docs/SANDBOX.md): metering <= 1.25, wasm-vs-native <= 1.5, job-start p50 <= 5 ms.
 */
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync, openSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createSandbox, type Sandbox } from '../src/main/sandbox/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const jobs = join(root, 'assets', 'jobs')
const RUNS = Number(process.env.BENCH_RUNS ?? 7)
const FUEL = 1n << 62n

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2
}

function randomBytes (n: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = 0x12345678
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff }
  return out
}

interface Kernel { name: string, file: string, input: Uint8Array }
const kernels: Kernel[] = [
  { name: 'sieve', file: 'sieve', input: new TextEncoder().encode('30000000') },
  { name: 'sha256', file: 'sha256', input: randomBytes(48 * 1024 * 1024) },
  { name: 'mandelbrot', file: 'mandelbrot', input: new TextEncoder().encode('800 800 1000') }
]

function emit (o: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}

/** Runs the module; returns the time of `_start` (host-measured) and a digest of stdout. */
async function runWasm (sb: Sandbox, module: Uint8Array, input: Uint8Array): Promise<{ ms: number, digest: string }> {
  const r = await sb.run({ module, input, maxFuel: FUEL, timeoutMs: 600_000, memoryLimitBytes: 1 << 30, outputLimitBytes: 64 << 20 })
  if (r.status !== 'CompletedSuccessfully') throw new Error(`kernel failed: ${r.failure_reason ?? ''} ${r.detail ?? ''}`)
  return { ms: (r.host?.run_us ?? 0) / 1000, digest: createHash('sha256').update(r.output).digest('hex') }
}

async function main (): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'mesh-bench-'))
  const cacheDir = join(tmp, 'cache')
  const metered = createSandbox({ cacheDir, warmProcesses: 1 })
  const plain = createSandbox({ cacheDir, warmProcesses: 1, metering: false })
  const raw = createSandbox({ cacheDir, warmProcesses: 1, metering: false, epochs: false })
  if (!metered.available()) throw new Error(metered.unavailableReason())
  try {
    for (const k of kernels) {
      const bytes = new Uint8Array(readFileSync(join(jobs, `${k.file}.wasm`)))
      // warm-up runs (compile into the cache, first-touch) that also check the outputs agree
      const m0 = await runWasm(metered, bytes, k.input)
      const p0 = await runWasm(plain, bytes, k.input)
      const r0 = await runWasm(raw, bytes, k.input)
      if (m0.digest !== p0.digest || m0.digest !== r0.digest) throw new Error(`${k.name}: metered output differs`)
      const exe = join(tmp, k.name)
      const cc = spawnSync('gcc', ['-O2', '-o', exe, join(jobs, 'src', `${k.file}.c`)], { encoding: 'utf8' })
      const haveNative = cc.status === 0
      const inputFile = join(tmp, `${k.name}.in`)
      writeFileSync(inputFile, k.input)
      /** Native run time (stdin from a file, like in-memory input). */
      const runNative = (cmd: string): { ms: number, stdout: Buffer } => {
        const fd = openSync(inputFile, 'r')
        try {
          const t0 = performance.now()
          const r = spawnSync(cmd, [], { stdio: [fd, 'pipe', 'inherit'], maxBuffer: 1 << 30 })
          const ms = performance.now() - t0
          if (r.status !== 0) throw new Error(`${cmd} failed`)
          return { ms, stdout: r.stdout }
        } finally {
          closeSync(fd)
        }
      }
      if (haveNative && createHash('sha256').update(runNative(exe).stdout).digest('hex') !== m0.digest) throw new Error(`${k.name}: native output differs`)

      // Rounds of back-to-back runs in rotating order; each ratio is the median of per-round ratios,
      // which is robust to background load drifting between rounds.
      const tp: number[] = []
      const tm: number[] = []
      const tn: number[] = []
      const tr: number[] = []
      const meterRatios: number[] = []
      const rawRatios: number[] = []
      const rawNativeRatios: number[] = []
      const nativeRatios: number[] = []
      const plainNativeRatios: number[] = []
      for (let i = 0; i < RUNS; i++) {
        const steps: Array<() => Promise<void>> = [
          async () => { tp.push((await runWasm(plain, bytes, k.input)).ms) },
          async () => { tm.push((await runWasm(metered, bytes, k.input)).ms) },
          async () => { tr.push((await runWasm(raw, bytes, k.input)).ms) },
          ...(haveNative ? [async () => { tn.push(Math.max(0.01, runNative(exe).ms - runNative('true').ms)) }] : [])
        ]
        for (let j = 0; j < steps.length; j++) await steps[(i + j) % steps.length]!()
        meterRatios.push(tm[i]! / tp[i]!)
        rawRatios.push(tm[i]! / tr[i]!)
        if (haveNative) {
          nativeRatios.push(tm[i]! / tn[i]!)
          plainNativeRatios.push(tp[i]! / tn[i]!)
          rawNativeRatios.push(tr[i]! / tn[i]!)
        }
      }
      emit({ bench: 'metering-overhead', kernel: k.name, ratio: +median(meterRatios).toFixed(3), vs_raw: +median(rawRatios).toFixed(3), metered_ms: +median(tm).toFixed(1), unmetered_ms: +median(tp).toFixed(1), raw_ms: +median(tr).toFixed(1) })
      if (haveNative) {
        emit({ bench: 'wasm-vs-native', kernel: k.name, ratio: +median(nativeRatios).toFixed(3), unmetered_ratio: +median(plainNativeRatios).toFixed(3), raw_ratio: +median(rawNativeRatios).toFixed(3), wasm_ms: +median(tm).toFixed(1), native_ms: +median(tn).toFixed(1) })
      } else {
        emit({ bench: 'wasm-vs-native', kernel: k.name, error: `gcc failed: ${cc.stderr || cc.error?.message}` })
      }
    }

    // job start, warm pool + cache: trivial module, run() -> first instruction
    const empty = new Uint8Array(readFileSync(join(jobs, 'fuel_empty.wasm')))
    await metered.run({ module: empty, maxFuel: 10, timeoutMs: 10_000 })
    const starts: number[] = []
    const totals: number[] = []
    for (let i = 0; i < 30; i++) {
      // pace requests so the warm process has been replaced, as in steady operation
      await new Promise((resolve) => setTimeout(resolve, 60))
      const t0 = performance.now()
      const r = await metered.run({ module: empty, maxFuel: 10, timeoutMs: 10_000 })
      totals.push(performance.now() - t0)
      if (r.start_ms !== undefined && r.host?.cache_hit === true) starts.push(r.start_ms)
    }
    emit({ bench: 'job-start', p50_ms: +median(starts).toFixed(2), p50_roundtrip_ms: +median(totals).toFixed(2), runs: starts.length })

    // cold compile of every sample program (no cache), and the warm load from the cache
    const samples = readdirSync(join(jobs, 'src')).filter((f) => f.endsWith('.c') && !f.startsWith('hostile_')).map((f) => f.slice(0, -2)).sort()
    const nocache = createSandbox({ warmProcesses: 1 })
    try {
      for (const name of samples) {
        const bytes = new Uint8Array(readFileSync(join(jobs, `${name}.wasm`)))
        const compile: number[] = []
        const load: number[] = []
        for (let i = 0; i < 3; i++) {
          const c = await nocache.run({ module: bytes, maxFuel: 0, timeoutMs: 60_000 })
          compile.push((c.host?.compile_us ?? 0) / 1000)
          const w = await metered.run({ module: bytes, maxFuel: 0, timeoutMs: 60_000 })
          if (w.host?.cache_hit === true) load.push((w.host.module_us) / 1000)
        }
        emit({ bench: 'cold-compile', module: name, bytes: bytes.length, compile_ms: +median(compile).toFixed(1), cache_load_ms: +median(load).toFixed(2) })
      }
    } finally {
      await nocache.close()
    }
  } finally {
    await metered.close()
    await plain.close()
    await raw.close()
    rmSync(tmp, { recursive: true, force: true })
  }
}

await main()
