/**
 * Sandbox benchmarks (JSON lines):
 *  {"bench":"metering-overhead","kernel":k,"ratio":R}  metered / unmetered V8 time of `_start`, same module + input
 *  {"bench":"wasm-vs-native","kernel":k,"ratio":R}     unmetered V8 / the same C built natively with gcc -O2
 *  {"bench":"job-start","p50_ms":x}                    request -> first instruction, warm host (trivial module)
 * Medians over several runs. Targets (docs/SANDBOX.md): metering <= 1.25, wasm-vs-native <= 1.6, job-start p50 <= 30 ms.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync, openSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { instrumentModule } from '../src/main/sandbox/instrument.js'
import { runInline } from '../src/main/sandbox/inline.js'
import { WA, type WasmModule } from '../src/main/sandbox/wasm-api.js'
import { createSandbox } from '../src/main/sandbox/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const jobs = join(root, 'assets', 'jobs')
const RUNS = Number(process.env.BENCH_RUNS ?? 7)

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

/** Runs `_start` in this thread; returns ms and a digest of stdout. */
function runDirect (module: WasmModule, input: Uint8Array, metered: boolean): { ms: number, digest: string } {
  const r = runInline(module, input, metered ? 1n << 62n : undefined)
  if (r.exitCode !== 0) throw new Error(`kernel failed: ${r.trap ?? `exit ${r.exitCode}`}`)
  return { ms: r.ms, digest: createHash('sha256').update(r.output).digest('hex') }
}

function emit (o: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}

async function main (): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'mesh-bench-'))
  try {
    for (const k of kernels) {
      const bytes = new Uint8Array(readFileSync(join(jobs, `${k.file}.wasm`)))
      const plain = await WA.compile(bytes)
      const metered = await WA.compile(instrumentModule(bytes, { memoryLimitBytes: 1 << 30 }).bytes)
      // warm-up runs (first-touch memory, tier-up) that also check the outputs agree
      const ref = runDirect(plain, k.input, false)
      const m0 = runDirect(metered, k.input, true)
      if (ref.digest !== m0.digest) throw new Error(`${k.name}: metered output differs`)
      const exe = join(tmp, k.name)
      const cc = spawnSync('gcc', ['-O2', '-o', exe, join(jobs, 'src', `${k.file}.c`)], { encoding: 'utf8' })
      const haveNative = cc.status === 0
      const inputFile = join(tmp, `${k.name}.in`)
      writeFileSync(inputFile, k.input)
      /** Native run time minus the spawn cost of `true` with the same stdio (stdin from a file, like in-memory input). */
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
      if (haveNative && createHash('sha256').update(runNative(exe).stdout).digest('hex') !== ref.digest) throw new Error(`${k.name}: native output differs`)

      // Rounds of back-to-back runs in rotating order; each ratio is the median of per-round ratios,
      // which is robust to background load drifting between rounds.
      const tp: number[] = []
      const tm: number[] = []
      const tn: number[] = []
      const meterRatios: number[] = []
      const nativeRatios: number[] = []
      for (let i = 0; i < RUNS; i++) {
        const steps: Array<() => void> = [
          () => { tp.push(runDirect(plain, k.input, false).ms) },
          () => { tm.push(runDirect(metered, k.input, true).ms) },
          ...(haveNative ? [() => { tn.push(Math.max(0.01, runNative(exe).ms - runNative('true').ms)) }] : [])
        ]
        for (let j = 0; j < steps.length; j++) steps[(i + j) % steps.length]!()
        meterRatios.push(tm[i]! / tp[i]!)
        if (haveNative) nativeRatios.push(tp[i]! / tn[i]!)
      }
      emit({ bench: 'metering-overhead', kernel: k.name, ratio: +median(meterRatios).toFixed(3), metered_ms: +median(tm).toFixed(1), unmetered_ms: +median(tp).toFixed(1) })
      if (haveNative) {
        emit({ bench: 'wasm-vs-native', kernel: k.name, ratio: +median(nativeRatios).toFixed(3), wasm_ms: +median(tp).toFixed(1), native_ms: +median(tn).toFixed(1) })
      } else {
        emit({ bench: 'wasm-vs-native', kernel: k.name, error: `gcc failed: ${cc.stderr || cc.error?.message}` })
      }
    }

    // job start with a warm host: trivial module, request -> first instruction
    const sandbox = createSandbox()
    try {
      const empty = new Uint8Array(readFileSync(join(jobs, 'fuel_empty.wasm')))
      await sandbox.run({ module: empty, maxFuel: 10, timeoutMs: 10000 })
      const starts: number[] = []
      const totals: number[] = []
      for (let i = 0; i < 30; i++) {
        // pace requests so the warm spare worker has been replaced, as in steady operation
        await new Promise((resolve) => setTimeout(resolve, 60))
        const t0 = performance.now()
        const r = await sandbox.run({ module: empty, maxFuel: 10, timeoutMs: 10000 })
        totals.push(performance.now() - t0)
        if (r.start_ms !== undefined) starts.push(r.start_ms)
      }
      emit({ bench: 'job-start', p50_ms: +median(starts).toFixed(2), p50_roundtrip_ms: +median(totals).toFixed(2), runs: starts.length })
    } finally {
      await sandbox.close()
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

await main()
