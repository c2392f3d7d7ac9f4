/**
 * Sandboxed, fuel-metered WebAssembly job runner (app side).
 *
 * `createSandbox()` forks one isolated sandbox host process (kept warm, restarted when it dies). The host
 * checks and instruments modules and runs every job in its own worker_thread. See docs/SANDBOX.md.
 */
import { fork, type ChildProcess } from 'node:child_process'
import type { FailureReason } from '../../shared/protocol/types.js'
import { SandboxError } from './errors.js'
import { DEFAULT_MAX_MODULE_BYTES } from './check.js'
import type { AppToHost, HostResult, HostToApp } from './messages.js'

export { SandboxError, InvalidModuleError, MemoryLimitError } from './errors.js'
export { checkModule, WASI_ALLOWLIST, DEFAULT_MAX_MODULE_BYTES } from './check.js'
export { instrumentModule, inspectModule, FUEL_EXPORT, MEMHIT_EXPORT } from './instrument.js'

export type SandboxStatus = 'CompletedSuccessfully' | 'Failed' | 'Cancelled'

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
  /** Fuel charged so far, sampled periodically (synced at each WASI call). */
  onProgress?: (fuelSoFar: bigint) => void
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
  maxModuleBytes?: number
  stderrLimitBytes?: number
  /** Interval of onProgress samples (default 250 ms). */
  progressIntervalMs?: number
  /** Extra slack after `timeoutMs` before the app kills an unresponsive host (default 5000 ms). */
  watchdogGraceMs?: number
  /** In-flight interactive stdin bytes before write() waits (default 256 KiB). */
  stdinHighWaterBytes?: number
}

export interface Sandbox {
  run (job: SandboxJob): Promise<SandboxResult>
  runInteractive (job: SandboxJob): InteractiveHandle
  /** pid of the current host process, if running (diagnostics). */
  hostPid (): number | undefined
  close (): Promise<void>
}

const DEFAULT_MEMORY = 256 * 1024 * 1024
const DEFAULT_OUTPUT = 16 * 1024 * 1024

interface Pending {
  job: SandboxJob
  interactive: boolean
  requestedAt: number
  resolve: (r: SandboxResult) => void
  onStdout?: (chunk: Uint8Array) => void
  onAck?: (bytes: number) => void
  host: ChildProcess
  cleanup: () => void
}

function hostEntry (): { path: string, execArgv: string[] } {
  const isTs = import.meta.url.endsWith('.ts')
  const path = new URL(`./host${isTs ? '.ts' : '.js'}`, import.meta.url).pathname
  const execArgv = isTs ? ['--import', import.meta.resolve('tsx')] : []
  return { path, execArgv: [...execArgv, '--max-old-space-size=512'] }
}

function toFuel (v: bigint | number): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new SandboxError('BadJob', `maxFuel must be a non-negative integer, got ${v}`)
    v = BigInt(v)
  }
  if (v < 0n || v > 0x7fffffffffffffffn) throw new SandboxError('BadJob', `maxFuel out of range: ${v}`)
  return v
}

function failedResult (reason: FailureReason, detail: string, status: SandboxStatus = 'Failed'): SandboxResult {
  return {
    status,
    ...(status === 'Cancelled' ? {} : { failure_reason: reason }),
    detail,
    fuel_used: 0n,
    wall_ms: 0,
    peak_memory_bytes: 0,
    output_bytes: 0,
    output: new Uint8Array(0)
  }
}

export function createSandbox (opts: SandboxOptions = {}): Sandbox {
  const maxModuleBytes = opts.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES
  const stderrLimitBytes = opts.stderrLimitBytes ?? 64 * 1024
  const progressIntervalMs = opts.progressIntervalMs ?? 250
  const grace = opts.watchdogGraceMs ?? 5000
  const highWater = opts.stdinHighWaterBytes ?? 256 * 1024
  let host: ChildProcess | undefined
  let hostReady: Promise<ChildProcess> | undefined
  let closed = false
  let nextId = 1
  const pending = new Map<number, Pending>()

  function startHost (): Promise<ChildProcess> {
    const { path, execArgv } = hostEntry()
    const child = fork(path, [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', process.env.MESH_SANDBOX_DEBUG === undefined ? 'ignore' : 'inherit', 'ipc']
    })
    host = child
    const ready = new Promise<ChildProcess>((resolve, reject) => {
      const onMsg = (m: HostToApp): void => {
        if (m.type === 'ready') { child.off('message', onMsg); resolve(child) }
      }
      child.on('message', onMsg)
      child.once('exit', (code, sig) => reject(new SandboxError('InternalError', `sandbox host exited during start (${code ?? sig})`)))
    })
    child.on('message', (m: HostToApp) => onHostMessage(child, m))
    child.once('exit', (code, signal) => {
      if (host === child) { host = undefined; hostReady = undefined }
      for (const [id, p] of pending) {
        if (p.host !== child) continue
        pending.delete(id)
        p.cleanup()
        p.resolve(failedResult('InternalError', `sandbox host died (${code ?? signal})`))
      }
    })
    child.on('error', () => { /* exit follows */ })
    return ready
  }

  function ensureHost (): Promise<ChildProcess> {
    if (hostReady === undefined) {
      hostReady = startHost()
      hostReady.catch(() => { hostReady = undefined })
    }
    return hostReady
  }

  function onHostMessage (child: ChildProcess, m: HostToApp): void {
    if (m.type === 'ready') return
    const p = pending.get(m.id)
    if (p === undefined || p.host !== child) return
    switch (m.type) {
      case 'stdout': p.onStdout?.(m.data); break
      case 'stderr': p.job.onStderr?.(m.data); break
      case 'stdin-ack': p.onAck?.(m.bytes); break
      case 'progress': p.job.onProgress?.(m.fuel); break
      case 'result': {
        pending.delete(m.id)
        p.cleanup()
        const { started_at: startedAt, ...r }: HostResult = m.result
        p.resolve({
          ...r,
          output: new Uint8Array(r.output),
          ...(startedAt === undefined ? {} : { start_ms: Math.max(0, startedAt - p.requestedAt) })
        })
        break
      }
    }
  }

  function post (child: ChildProcess, m: AppToHost): void {
    if (child.connected) child.send(m)
  }

  async function start (job: SandboxJob, interactive: boolean, hooks: Pick<Pending, 'onStdout' | 'onAck'>, onId?: (id: number, child: ChildProcess) => void): Promise<SandboxResult> {
    const requestedAt = performance.timeOrigin + performance.now()
    if (closed) throw new SandboxError('Closed', 'sandbox is closed')
    if (!(job.module instanceof Uint8Array)) throw new SandboxError('BadJob', 'job.module must be a Uint8Array')
    const maxFuel = toFuel(job.maxFuel)
    if (!Number.isFinite(job.timeoutMs) || job.timeoutMs <= 0) throw new SandboxError('BadJob', `timeoutMs must be positive, got ${job.timeoutMs}`)
    const memoryLimitBytes = job.memoryLimitBytes ?? DEFAULT_MEMORY
    const outputLimitBytes = job.outputLimitBytes ?? DEFAULT_OUTPUT
    if (!(memoryLimitBytes > 0) || !(outputLimitBytes >= 0)) throw new SandboxError('BadJob', 'memory/output limits must be positive')
    if (job.signal?.aborted === true) return failedResult('Cancelled', 'cancelled before start', 'Cancelled')
    if (job.module.length > maxModuleBytes) {
      return failedResult('InvalidModule', `module is ${job.module.length} bytes, over the ${maxModuleBytes}-byte limit`)
    }
    let child: ChildProcess
    try {
      child = await ensureHost()
    } catch (e) {
      return failedResult(closed ? 'Cancelled' : 'InternalError', e instanceof Error ? e.message : String(e), closed ? 'Cancelled' : 'Failed')
    }
    if (closed) return failedResult('Cancelled', 'sandbox closed', 'Cancelled')
    const id = nextId++
    return await new Promise<SandboxResult>((resolve) => {
      const onAbort = (): void => post(child, { type: 'cancel', id })
      const watchdog = setTimeout(() => {
        // The host did not answer in time: it is wedged. Kill it; the exit handler fails the job.
        child.kill('SIGKILL')
      }, job.timeoutMs + grace)
      const cleanup = (): void => {
        clearTimeout(watchdog)
        job.signal?.removeEventListener('abort', onAbort)
      }
      const done = (r: SandboxResult): void => resolve(r)
      pending.set(id, { job, interactive, requestedAt, resolve: done, host: child, cleanup, ...hooks })
      job.signal?.addEventListener('abort', onAbort, { once: true })
      post(child, {
        type: 'run',
        id,
        module: job.module,
        input: job.input ?? new Uint8Array(0),
        interactive,
        maxFuel,
        timeoutMs: job.timeoutMs,
        memoryLimitBytes,
        outputLimitBytes,
        stderrLimitBytes,
        maxModuleBytes,
        progressIntervalMs: job.onProgress === undefined ? 0 : progressIntervalMs
      })
      onId?.(id, child)
    })
  }

  return {
    run (job) {
      return start(job, false, {})
    },

    runInteractive (job) {
      const chunks: Uint8Array[] = []
      let listener: ((c: Uint8Array) => void) | undefined
      let target: { id: number, child: ChildProcess } | undefined
      const queued: AppToHost[] = []
      let inflight = 0
      let waiters: Array<() => void> = []
      const release = (): void => {
        if (inflight >= highWater) return
        const w = waiters
        waiters = []
        for (const f of w) f()
      }
      const send = (m: AppToHost): void => {
        if (target === undefined) queued.push(m)
        else post(target.child, { ...m, id: target.id })
      }
      const result = start(job, true, {
        onStdout: (c) => { chunks.push(c); listener?.(c) },
        onAck: (bytes) => { inflight -= bytes; release() }
      }, (id, child) => {
        target = { id, child }
        for (const m of queued.splice(0)) post(child, { ...m, id } as AppToHost)
      }).then((r) => {
        inflight = 0
        release()
        let total = 0
        for (const c of chunks) total += c.length
        const output = new Uint8Array(total)
        let off = 0
        for (const c of chunks) { output.set(c, off); off += c.length }
        return { ...r, output }
      })
      let ended = false
      let finished = false
      result.then(() => { finished = true }, () => { finished = true })
      return {
        write (chunk) {
          if (ended) return Promise.reject(new SandboxError('BadJob', 'write after end()'))
          if (finished || chunk.length === 0) return Promise.resolve()
          inflight += chunk.length
          send({ type: 'stdin', id: 0, data: chunk })
          if (inflight < highWater) return Promise.resolve()
          return new Promise<void>((resolve) => { waiters.push(resolve) })
        },
        end () {
          if (ended) return
          ended = true
          send({ type: 'stdin-end', id: 0 })
        },
        onStdout (cb) {
          for (const c of chunks) cb(c)
          listener = cb
        },
        result
      }
    },

    hostPid () {
      return host?.pid
    },

    async close () {
      closed = true
      for (const [id, p] of pending) {
        pending.delete(id)
        p.cleanup()
        p.resolve(failedResult('Cancelled', 'sandbox closed', 'Cancelled'))
      }
      const child = host
      host = undefined
      hostReady = undefined
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGKILL')
      })
    }
  }
}
