/**
 * Sandboxed, fuel-metered WebAssembly job runner (app side).
 *
 * Every job runs in its own `mesh-sandbox-host` process (Rust, Wasmtime; src/main/sandbox/host),
 * taken from a small pool of pre-started processes that have built their engine and wait for one
 * job. The process compiles (or loads from the compiled-module cache), confines itself (rlimits,
 * seccomp on Linux), runs the job and exits, so a hostile module cannot affect any other job.
 * This client keeps the `run(job)` / `runInteractive(job)` contract. See docs/SANDBOX.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, statSync, unlinkSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FailureReason } from '../../shared/protocol/types.js'
import { noLogger, type Logger } from '../log/index.js'
import { SandboxError } from './errors.js'
import {
  EXIT_OUT_OF_MEMORY, FLAG_INTERACTIVE, FLAG_PROBE, FrameReader, T_CANCEL, T_HELLO, T_PROGRESS, T_RESULT,
  T_STARTED, T_STDERR, T_STDIN, T_STDIN_ACK, T_STDIN_END, T_STDOUT, encodeRun, frame, type HostResultJson
} from './protocol.js'

export { SandboxError } from './errors.js'

/** The execution model's runtime id (wire profile section 7); the receipt's `runtime`. */
export const RUNTIME_ID = 'wasi-p1-fuel-v1'
export const DEFAULT_MAX_MODULE_BYTES = 16 * 1024 * 1024
export const HOST_BINARY_NAME = process.platform === 'win32' ? 'mesh-sandbox-host.exe' : 'mesh-sandbox-host'

export type SandboxStatus = 'CompletedSuccessfully' | 'Failed' | 'Cancelled'

/** What the host process reports about itself (diagnostics, tests). */
export interface HostDiagnostics {
  pid: number
  /** the compiled module came from the on-disk cache (no compilation) */
  cache_hit: boolean
  /** a cache file existed for the key but failed verification and was not used */
  cache_rejected: boolean
  compile_us: number
  /** time to obtain the compiled module: compile, or load from the cache */
  module_us: number
  /** time spent running `_start` */
  run_us: number
  /** peak resident memory of the host process (getrusage) */
  peak_rss_bytes: number
  /** the seccomp filter was applied (Linux) */
  seccomp: boolean
  /** test hook results (`probeSandbox`): errno of each attempt made after sandboxing, 0 = it worked */
  probe?: Record<string, number>
}

export interface SandboxResult {
  status: SandboxStatus
  failure_reason?: FailureReason
  /** Human-readable explanation of a failure. */
  detail?: string
  fuel_used: bigint
  wall_ms: number
  peak_memory_bytes: number
  output_bytes: number
  output: Uint8Array
  /** proc_exit code (0 when `_start` returned normally); absent when the job trapped or was stopped. */
  exit_code?: number
  /** ms from run()/runInteractive() to the job's first instruction (absent if it never started). */
  start_ms?: number
  /** Absent when no host process reported (e.g. refused before starting one). */
  host?: HostDiagnostics
}

export interface SandboxJob {
  module: Uint8Array
  /** stdin (batch mode); in interactive mode, initial stdin bytes. */
  input?: Uint8Array
  maxFuel: bigint | number
  timeoutMs: number
  /** Linear memory cap (default 256 MiB). */
  memoryLimitBytes?: number
  /** stdout cap (default 16 MiB). */
  outputLimitBytes?: number
  signal?: AbortSignal
  /** stderr chunks (capped at `stderrLimitBytes` of the sandbox, default 64 KiB). */
  onStderr?: (chunk: Uint8Array) => void
  /** Fuel charged so far, sampled every `progressIntervalMs` while the job runs (also in pure compute loops). */
  onProgress?: (fuelSoFar: bigint) => void
  /** Test hook (needs `createSandbox({ testHooks: true })`): after sandboxing, the host tries to open a file, a socket, … and reports the errnos in `host.probe`. */
  probeSandbox?: boolean
}

export interface InteractiveHandle {
  /** Queues stdin bytes; resolves once the in-flight stdin is under the high-water mark (back-pressure). */
  write (chunk: Uint8Array): Promise<void>
  /** Closes stdin (the job then reads end-of-file). */
  end (): void
  /** Registers a stdout listener; chunks already emitted are replayed to it first. */
  onStdout (cb: (chunk: Uint8Array) => void): void
  result: Promise<SandboxResult>
}

export interface SandboxOptions {
  /** Where the sandbox logs its own diagnostics (host stderr, cache problems); default: nowhere. */
  log?: Logger
  maxModuleBytes?: number
  stderrLimitBytes?: number
  /** Interval of onProgress samples (default 250 ms). */
  progressIntervalMs?: number
  /** Extra slack after `timeoutMs` before the app kills an unresponsive host (default 5000 ms). */
  watchdogGraceMs?: number
  /** In-flight interactive stdin bytes before write() waits (default 256 KiB). */
  stdinHighWaterBytes?: number
  /** Directory of the compiled-module cache (the daemon uses `<dataDir>/wasm-cache`); none = no disk cache. */
  cacheDir?: string
  /** Evict the oldest cache files beyond this size (default 512 MiB). */
  cacheMaxBytes?: number
  /** Host processes kept started and waiting for a job (default 2). */
  warmProcesses?: number
  /** Path of the mesh-sandbox-host binary (default: $MESH_SANDBOX_HOST, the packaged app's resources, or the cargo build output). */
  hostBinary?: string
  /** Bench only: run without fuel metering (fuel_used is 0, max_fuel is not enforced). */
  metering?: boolean
  /** Bench only: no epoch checks in compiled code (timeouts then end a job only through the host's last-resort path, without progress). */
  epochs?: boolean
  /** Tests only: let jobs use `probeSandbox`. */
  testHooks?: boolean
}

export interface Sandbox {
  run (job: SandboxJob): Promise<SandboxResult>
  runInteractive (job: SandboxJob): InteractiveHandle
  /** Runtime ids to advertise: `wasi-p1-fuel-v1` and `wasmtime-<version>`; empty when the host binary is unavailable. */
  runtimeIds (): string[]
  available (): boolean
  /** Why no runtime is available (binary not built, not runnable); undefined when available. */
  unavailableReason (): string | undefined
  /** pids of the host processes running jobs right now (diagnostics, tests). */
  jobPids (): number[]
  close (): Promise<void>
}

const DEFAULT_MEMORY = 256 * 1024 * 1024
const DEFAULT_OUTPUT = 16 * 1024 * 1024
const CANCEL_KILL_MS = 2000

/** Where the host binary is: explicit option, env override, packaged resources, dev build output. */
export function resolveHostBinary (explicit?: string): { path: string, tried: string[] } {
  if (explicit !== undefined) return { path: explicit, tried: [explicit] }
  const env = process.env.MESH_SANDBOX_HOST
  if (env !== undefined && env !== '') return { path: env, tried: [env] }
  const tried: string[] = []
  const resources = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath
  if (resources !== undefined) tried.push(join(resources, 'sandbox-host', HOST_BINARY_NAME))
  // src/main/sandbox/index.ts (tsx) or dist/main/electron/main.js (bundled, run from the repo)
  tried.push(fileURLToPath(new URL(`./host/target/release/${HOST_BINARY_NAME}`, import.meta.url)))
  tried.push(fileURLToPath(new URL(`../../../src/main/sandbox/host/target/release/${HOST_BINARY_NAME}`, import.meta.url)))
  const found = tried.find((p) => existsSync(p))
  return { path: found ?? tried.at(-2) ?? '', tried }
}

function toFuel (v: bigint | number): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new SandboxError('BadJob', `maxFuel must be a non-negative integer, got ${v}`)
    v = BigInt(v)
  }
  if (v < 0n || v > 0x7fffffffffffffffn) throw new SandboxError('BadJob', `maxFuel out of range: ${v}`)
  return v
}

function failedResult (reason: FailureReason, detail: string, fuel = 0n): SandboxResult {
  const cancelled = reason === 'Cancelled'
  return {
    status: cancelled ? 'Cancelled' : 'Failed',
    ...(cancelled ? {} : { failure_reason: reason }),
    detail,
    fuel_used: fuel,
    wall_ms: 0,
    peak_memory_bytes: 0,
    output_bytes: 0,
    output: new Uint8Array(0)
  }
}

function concat (chunks: Uint8Array[]): Uint8Array {
  let total = 0
  for (const c of chunks) total += c.length
  const out = new Uint8Array(total)
  let off = 0
  for (const c of chunks) { out.set(c, off); off += c.length }
  return out
}

/** One host process: spawned warm, then given exactly one job. */
interface HostProcess {
  child: ChildProcess
  hello: boolean
  exited: boolean
  exitCode: number | null
  exitSignal: NodeJS.Signals | null
  stderrTail: string
  onFrame?: (type: number, payload: Buffer) => void
  onExit?: () => void
}

function readCacheSecret (dir: string): Uint8Array {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, '.key')
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const k = readFileSync(file)
      if (k.length === 32) return new Uint8Array(k)
      unlinkSync(file) // wrong size: a foreign or damaged key; start over (old files then fail their HMAC)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    try {
      writeFileSync(file, randomBytes(32), { flag: 'wx', mode: 0o600 })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
  }
  throw new Error(`cannot create the cache key in ${dir}`)
}

export function createSandbox (opts: SandboxOptions = {}): Sandbox {
  const maxModuleBytes = opts.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES
  const log = (opts.log ?? noLogger).child({ sub: 'sandbox' })
  const stderrLimitBytes = opts.stderrLimitBytes ?? 64 * 1024
  const progressIntervalMs = opts.progressIntervalMs ?? 250
  const grace = opts.watchdogGraceMs ?? 5000
  const highWater = opts.stdinHighWaterBytes ?? 256 * 1024
  const warmCount = Math.max(0, opts.warmProcesses ?? 2)
  const cacheMaxBytes = opts.cacheMaxBytes ?? 512 * 1024 * 1024
  const binary = resolveHostBinary(opts.hostBinary)
  const hostArgs = [
    '--serve',
    ...(opts.metering === false ? ['--no-fuel'] : []),
    ...(opts.epochs === false ? ['--no-epochs'] : []),
    ...(opts.testHooks === true ? ['--test-hooks'] : [])
  ]
  let closed = false
  let probed: { version?: string, reason?: string } | undefined
  let cache: { dir: string, secret: Uint8Array } | undefined
  if (opts.cacheDir !== undefined) {
    try {
      cache = { dir: opts.cacheDir, secret: readCacheSecret(opts.cacheDir) }
    } catch (e) {
      // no disk cache then (jobs still run, compiling every time)
      log.warn({ err: e }, 'compiled-module cache disabled (jobs compile every time)')
      if (process.env.MESH_SANDBOX_DEBUG !== undefined) console.error(`sandbox cache disabled: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  const spares: HostProcess[] = []
  const running = new Set<HostProcess>()
  const finishers = new Set<(r: SandboxResult) => void>()

  function probe (): { version?: string, reason?: string } {
    if (probed !== undefined) return probed
    const hint = 'It is built by the install step (`npm install` runs `cargo build --release --locked` in src/main/sandbox/host); ' +
      'if cargo was not available then, install Rust (https://rustup.rs) and run `npm run build:sandbox-host`.'
    if (!existsSync(binary.path)) {
      probed = { reason: `sandbox host not built: ${binary.tried.join(' or ')} does not exist. ${hint}` }
      return probed
    }
    const r = spawnSync(binary.path, ['--version'], { encoding: 'utf8', timeout: 15_000 })
    const m = /wasmtime (\S+)/.exec(r.stdout ?? '')
    if (r.status !== 0 || m === null) {
      probed = { reason: `sandbox host ${binary.path} does not run (${r.error?.message ?? `exit ${r.status ?? r.signal}`}). ${hint}` }
    } else {
      probed = { version: m[1] }
    }
    return probed
  }

  function spawnHost (): HostProcess {
    const child = spawn(binary.path, hostArgs, { stdio: ['pipe', 'pipe', 'pipe'] })
    const hp: HostProcess = { child, hello: false, exited: false, exitCode: null, exitSignal: null, stderrTail: '' }
    const reader = new FrameReader((type, payload) => {
      if (type === T_HELLO) { hp.hello = true; return }
      hp.onFrame?.(type, payload)
    })
    child.stdout?.on('data', (c: Buffer) => reader.push(c))
    child.stderr?.on('data', (c: Buffer) => {
      if (process.env.MESH_SANDBOX_DEBUG !== undefined) process.stderr.write(c)
      log.debug({ pid: child.pid }, `host: ${c.toString('utf8').trimEnd().slice(0, 2000)}`)
      hp.stderrTail = (hp.stderrTail + c.toString('utf8')).slice(-2000)
    })
    child.stdin?.on('error', () => { /* the host exited; its exit is handled below */ })
    const exited = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (hp.exited) return
      hp.exited = true
      hp.exitCode = code
      hp.exitSignal = signal
      const i = spares.indexOf(hp)
      if (i >= 0) spares.splice(i, 1)
      hp.onExit?.()
    }
    child.on('error', (e) => {
      hp.stderrTail += `\n${e.message}`
      if (child.pid === undefined) exited(null, null) // could not be started at all
    })
    child.on('close', exited)
    setRef(hp, false) // a waiting spare does not keep the app alive
    return hp
  }

  function setRef (hp: HostProcess, on: boolean): void {
    const handles = [hp.child, hp.child.stdin, hp.child.stdout, hp.child.stderr] as Array<{ ref?: () => void, unref?: () => void } | null>
    for (const h of handles) {
      if (on) h?.ref?.()
      else h?.unref?.()
    }
  }

  function refill (): void {
    if (closed) return
    while (spares.length < warmCount) spares.push(spawnHost())
  }

  function take (): HostProcess {
    const hp = spares.find((s) => s.hello && !s.exited) ?? spares.find((s) => !s.exited) ?? spawnHost()
    const i = spares.indexOf(hp)
    if (i >= 0) spares.splice(i, 1)
    setRef(hp, true)
    return hp
  }

  let sweeping: NodeJS.Timeout | undefined
  function sweepCache (): void {
    if (cache === undefined || sweeping !== undefined || closed) return
    const dir = cache.dir
    sweeping = setTimeout(() => {
      try {
        const now = Date.now()
        const files = readdirSync(dir).flatMap((name) => {
          try {
            const st = statSync(join(dir, name))
            return st.isFile() ? [{ name, size: st.size, mtime: st.mtimeMs }] : []
          } catch { return [] }
        })
        // temporary files of writers that died
        for (const f of files) if (f.name.endsWith('.tmp') && now - f.mtime > 10 * 60_000) { try { unlinkSync(join(dir, f.name)) } catch (err) { log.debug({ err, file: f.name }, 'cache sweep: temp file already gone') } }
        const entries = files.filter((f) => f.name.endsWith('.cwasm')).sort((a, b) => a.mtime - b.mtime)
        let total = entries.reduce((s, f) => s + f.size, 0)
        for (const f of entries) {
          if (total <= cacheMaxBytes) break
          try { unlinkSync(join(dir, f.name)) } catch (err) { log.debug({ err, file: f.name }, 'cache sweep: file already gone') }
          total -= f.size
        }
      } catch (err) {
        // the directory went away (e.g. a test's data dir was removed): nothing to sweep
        log.debug({ err }, 'cache sweep skipped')
      } finally {
        sweeping = undefined
      }
    }, 50)
    sweeping.unref()
  }

  interface Started {
    hp: HostProcess
    result: Promise<SandboxResult>
  }

  function start (job: SandboxJob, interactive: boolean, hooks: { onStdout?: (c: Uint8Array) => void, onAck?: (n: number) => void }): Started | Promise<SandboxResult> {
    const requestedAt = process.hrtime.bigint()
    if (closed) throw new SandboxError('Closed', 'sandbox is closed')
    if (!(job.module instanceof Uint8Array)) throw new SandboxError('BadJob', 'job.module must be a Uint8Array')
    const maxFuel = toFuel(job.maxFuel)
    if (!Number.isFinite(job.timeoutMs) || job.timeoutMs <= 0) throw new SandboxError('BadJob', `timeoutMs must be positive, got ${job.timeoutMs}`)
    const memoryLimitBytes = job.memoryLimitBytes ?? DEFAULT_MEMORY
    const outputLimitBytes = job.outputLimitBytes ?? DEFAULT_OUTPUT
    if (!(memoryLimitBytes > 0) || !(outputLimitBytes >= 0)) throw new SandboxError('BadJob', 'memory/output limits must be positive')
    const p = probe()
    if (p.reason !== undefined) throw new SandboxError('Unavailable', p.reason)
    if (job.signal?.aborted === true) return Promise.resolve(failedResult('Cancelled', 'cancelled before start'))
    if (job.module.length > maxModuleBytes) {
      return Promise.resolve(failedResult('InvalidModule', `module is ${job.module.length} bytes, over the ${maxModuleBytes}-byte limit`))
    }
    const hp = take()
    running.add(hp)
    setTimeout(refill, 20).unref()
    const stdout: Uint8Array[] = []
    let lastFuel = 0n
    let startMs: number | undefined
    let hostResult: HostResultJson | undefined
    let killedFor: 'watchdog' | 'cancel' | 'close' | undefined
    const result = new Promise<SandboxResult>((resolve) => {
      let settled = false
      const finish = (r: SandboxResult): void => {
        if (settled) return
        settled = true
        clearTimeout(watchdog)
        clearTimeout(cancelKill)
        job.signal?.removeEventListener('abort', onAbort)
        running.delete(hp)
        finishers.delete(finish)
        if (!hp.exited) hp.child.kill('SIGKILL')
        resolve(r)
      }
      finishers.add(finish)
      let cancelKill: NodeJS.Timeout | undefined
      const onAbort = (): void => {
        hp.child.stdin?.write(frame(T_CANCEL))
        cancelKill = setTimeout(() => { killedFor = 'cancel'; hp.child.kill('SIGKILL') }, CANCEL_KILL_MS)
        cancelKill.unref()
      }
      const watchdog = setTimeout(() => {
        // the host did not end the job at its own deadline: it is wedged
        killedFor = 'watchdog'
        hp.child.kill('SIGKILL')
      }, job.timeoutMs + grace)
      job.signal?.addEventListener('abort', onAbort, { once: true })
      hp.onFrame = (type, payload) => {
        switch (type) {
          case T_STARTED: {
            const at = payload.readBigUInt64LE(0)
            startMs = process.platform === 'linux' ? Math.max(0, Number(at - requestedAt) / 1e6) : Number(process.hrtime.bigint() - requestedAt) / 1e6
            refill()
            break
          }
          case T_STDOUT: {
            const c = new Uint8Array(payload)
            stdout.push(c)
            hooks.onStdout?.(c)
            break
          }
          case T_STDERR: job.onStderr?.(new Uint8Array(payload)); break
          case T_STDIN_ACK: hooks.onAck?.(Number(payload.readBigUInt64LE(0))); break
          case T_PROGRESS: {
            lastFuel = payload.readBigUInt64LE(0)
            job.onProgress?.(lastFuel)
            break
          }
          case T_RESULT: {
            hostResult = JSON.parse(payload.toString('utf8')) as HostResultJson
            const h = hostResult
            const r: SandboxResult = {
              status: h.status,
              ...(h.failure_reason === undefined ? {} : { failure_reason: h.failure_reason as FailureReason }),
              ...(h.detail === undefined ? {} : { detail: h.detail }),
              fuel_used: BigInt(h.fuel_used),
              wall_ms: h.wall_us / 1000,
              peak_memory_bytes: h.peak_memory_bytes,
              output_bytes: h.output_bytes,
              output: concat(stdout),
              ...(h.exit_code === undefined ? {} : { exit_code: h.exit_code }),
              ...(startMs === undefined ? {} : { start_ms: startMs }),
              host: h.host
            }
            if (!h.host.cache_hit && h.host.compile_us > 0) sweepCache()
            finish(r)
            break
          }
        }
      }
      hp.onExit = () => {
        if (hostResult !== undefined) return
        const how = hp.exitSignal ?? `exit ${hp.exitCode ?? '?'}`
        const tail = hp.stderrTail.trim() === '' ? '' : `: ${hp.stderrTail.trim().split('\n').slice(-3).join(' | ')}`
        if (killedFor === 'close' || killedFor === 'cancel') finish(failedResult('Cancelled', killedFor === 'close' ? 'sandbox closed' : 'cancelled', lastFuel))
        else if (hp.exitCode === EXIT_OUT_OF_MEMORY) {
          finish(failedResult('MemoryLimit', 'the job needed more memory than its cap plus the sandbox host\'s fixed overhead (host allocation failed)', lastFuel))
        } else if (killedFor === 'watchdog') {
          finish(failedResult('InternalError', `sandbox host did not finish within timeout + ${grace} ms and was killed`, lastFuel))
        } else finish(failedResult('InternalError', `sandbox host died (${how})${tail}`, lastFuel))
      }
      if (hp.exited) { hp.onExit(); return }
      const flags = (interactive ? FLAG_INTERACTIVE : 0) | (job.probeSandbox === true ? FLAG_PROBE : 0)
      hp.child.stdin?.write(encodeRun({
        maxFuel,
        timeoutMs: job.timeoutMs,
        memoryLimitBytes,
        outputLimitBytes,
        stderrLimitBytes,
        maxModuleBytes,
        progressIntervalMs: job.onProgress === undefined ? 0 : progressIntervalMs,
        flags,
        cacheDir: cache?.dir ?? '',
        cacheSecret: cache?.secret ?? new Uint8Array(0),
        module: job.module,
        input: job.input ?? new Uint8Array(0)
      }))
    })
    return { hp, result }
  }

  return {
    async run (job) {
      const s = start(job, false, {})
      return s instanceof Promise ? await s : await s.result
    },

    runInteractive (job) {
      const chunks: Uint8Array[] = []
      let listener: ((c: Uint8Array) => void) | undefined
      let inflight = 0
      let waiters: Array<() => void> = []
      const release = (): void => {
        if (inflight >= highWater) return
        const w = waiters
        waiters = []
        for (const f of w) f()
      }
      let started: Started | Promise<SandboxResult>
      try {
        started = start(job, true, {
          onStdout: (c) => { chunks.push(c); listener?.(c) },
          onAck: (bytes) => { inflight -= bytes; release() }
        })
      } catch (e) {
        started = Promise.reject(e)
      }
      const hp = started instanceof Promise ? undefined : started.hp
      const result = (started instanceof Promise ? started : started.result).then((r) => {
        inflight = 0
        release()
        return r
      })
      let ended = false
      let finished = false
      result.then(() => { finished = true }, () => { finished = true })
      return {
        write (chunk) {
          if (ended) return Promise.reject(new SandboxError('BadJob', 'write after end()'))
          if (finished || chunk.length === 0 || hp === undefined) return Promise.resolve()
          inflight += chunk.length
          hp.child.stdin?.write(frame(T_STDIN, chunk))
          if (inflight < highWater) return Promise.resolve()
          return new Promise<void>((resolve) => { waiters.push(resolve) })
        },
        end () {
          if (ended) return
          ended = true
          hp?.child.stdin?.write(frame(T_STDIN_END))
        },
        onStdout (cb) {
          for (const c of chunks) cb(c)
          listener = cb
        },
        result
      }
    },

    runtimeIds () {
      const p = probe()
      return p.version === undefined ? [] : [RUNTIME_ID, `wasmtime-${p.version}`]
    },

    available () {
      return probe().version !== undefined
    },

    unavailableReason () {
      return probe().reason
    },

    jobPids () {
      return [...running].flatMap((hp) => hp.child.pid === undefined || hp.exited ? [] : [hp.child.pid])
    },

    async close () {
      closed = true
      clearTimeout(sweeping)
      const all = [...spares.splice(0), ...running]
      for (const f of [...finishers]) f(failedResult('Cancelled', 'sandbox closed'))
      await Promise.all(all.map(async (hp) => {
        if (hp.exited) return
        setRef(hp, true) // keep the event loop alive until it is gone
        await new Promise<void>((resolve) => {
          hp.child.once('close', () => resolve())
          hp.child.kill('SIGKILL')
        })
      }))
    }
  }
}
