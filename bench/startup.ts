/**
 * {"bench":"start-to-ready",…}: wall time from spawning the compiled CLI (`node bin/mesh-executor.js
 * start --json`, as installed) to its {"event":"ready"} line, with the dashboard on. `first_ms`: a
 * fresh data dir (creates the key and the database); `p50_ms`/`p90_ms`: restarts on the same data dir.
 * Builds dist/ first. Target: p50 ≤ 1000 ms.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'mesh-executor.js')
const RUNS = Number(process.env.BENCH_RUNS ?? 9)

async function startOnce (dataDir: string): Promise<number> {
  const t0 = performance.now()
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--lan', '--json', '--ui-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const ms = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => { if (l.includes('"event":"ready"')) resolve(performance.now() - t0) })
    child.once('exit', (code) => { reject(new Error(`exited ${String(code)} before ready`)) })
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
  return ms
}

const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] })
if (built.status !== 0) process.exit(1)
const dir = await mkdtemp(join(tmpdir(), 'bench-startup-'))
try {
  const first = await startOnce(dir)
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) times.push(await startOnce(dir))
  times.sort((a, b) => a - b)
  const pct = (p: number): number => Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))] as number)
  process.stdout.write(JSON.stringify({ bench: 'start-to-ready', runs: RUNS, first_ms: Math.round(first), p50_ms: pct(0.5), p90_ms: pct(0.9), min_ms: Math.round(times[0] as number) }) + '\n')
} finally {
  await rm(dir, { recursive: true, force: true })
}
