/**
 * Sandboxed, fuel-metered WebAssembly job runner (app side).
 *
 * Every job runs in its own `mesh-sandbox-host` process (Rust, Wasmtime; src/main/sandbox/host),
 * taken from a small pool of pre-started processes that have built their engine and wait for one
 * job. The process compiles (or loads from the compiled-module cache), confines itself (rlimits,
 * seccomp on Linux), runs the job and exits, so a hostile module cannot affect any other job.
 * This client keeps the `run(job)` / `runInteractive(job)` contract. See docs/SANDBOX.md.
 *
 * This file composes the parts: host-binary.ts (find and probe the binary), host-pool.ts (the
 * processes), spawner.ts (their spawning, off this event loop), job-request.ts (checks and the RUN
 * request), host-job.ts (one job's exchange with its process), results.ts, module-cache.ts and
 * interactive.ts.
 */
import { noLogger } from '../log/index.js'
import { SandboxError } from './errors.js'
import { probeHostBinary, resolveHostBinary, type HostProbe } from './host-binary.js'
import { runOnHost, type JobHooks, type JobRunEnv, type Started } from './host-job.js'
import { createHostPool, hostArgs, killHost } from './host-pool.js'
import { startInteractive } from './interactive.js'
import { startSpawner } from './spawner.js'
import { checkJob, jobSettings, refuseBeforeStart, runRequest } from './job-request.js'
import { createCacheSweeper, openModuleCache, DEFAULT_CACHE_MAX_BYTES } from './module-cache.js'
import { failedResult } from './results.js'
import type { Sandbox, SandboxJob, SandboxOptions, SandboxResult } from './types.js'

export { SandboxError } from './errors.js'
export { HOST_BINARY_NAME, resolveHostBinary } from './host-binary.js'
export { DEFAULT_MAX_MODULE_BYTES } from './job-request.js'
export type {
  HostDiagnostics, InteractiveHandle, Sandbox, SandboxJob, SandboxOptions, SandboxResult, SandboxStatus
} from './types.js'

/** The execution model's runtime id (wire profile section 7); the receipt's `runtime`. */
export const RUNTIME_ID = 'wasi-p1-fuel-v1'

export function createSandbox (opts: SandboxOptions = {}): Sandbox {
  const log = (opts.log ?? noLogger).child({ sub: 'sandbox' })
  const settings = jobSettings(opts)
  const highWater = opts.stdinHighWaterBytes ?? 256 * 1024
  const binary = resolveHostBinary(opts.hostBinary)
  const cache = openModuleCache(opts.cacheDir, log)
  const sweeper = createCacheSweeper(cache, opts.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES, log)
  const spawner = opts.spawner === false ? undefined : startSpawner(log)
  const pool = createHostPool({ binaryPath: binary.path, args: hostArgs(opts), warmCount: Math.max(0, opts.warmProcesses ?? 2), log, spawner })
  const env: JobRunEnv = {
    graceMs: opts.watchdogGraceMs ?? 5000,
    running: new Map(),
    onStarted: pool.refill,
    onCompiled: sweeper.sweep
  }
  let closed = false
  let probed: HostProbe | undefined
  const probe = (): HostProbe => (probed ??= probeHostBinary(binary))

  /** Throws for a closed sandbox, a bad job or no binary; a promise when no host process is needed. */
  function start (job: SandboxJob, interactive: boolean, hooks: JobHooks): Started | Promise<SandboxResult> {
    const requestedAt = process.hrtime.bigint()
    if (closed) throw new SandboxError('Closed', 'sandbox is closed')
    const limits = checkJob(job)
    const p = probe()
    if (p.reason !== undefined) throw new SandboxError('Unavailable', p.reason)
    const refused = refuseBeforeStart(job, settings.maxModuleBytes)
    if (refused !== undefined) return Promise.resolve(refused)
    const hp = pool.take()
    setTimeout(pool.refill, 20).unref()
    const request = runRequest(job, interactive, limits, settings, cache)
    return { hp, result: runOnHost(hp, { job, hooks, request, requestedAt }, env) }
  }

  return {
    async run (job) {
      const s = start(job, false, {})
      return s instanceof Promise ? await s : await s.result
    },

    runInteractive (job) {
      return startInteractive((hooks) => start(job, true, hooks), highWater)
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
      return [...env.running.keys()].flatMap((hp) => hp.child.pid === undefined || hp.exited ? [] : [hp.child.pid])
    },

    async close () {
      closed = true
      sweeper.close()
      const all = [...pool.close(), ...env.running.keys()]
      for (const finish of [...env.running.values()]) finish(failedResult('Cancelled', 'sandbox closed'))
      await Promise.all(all.map(killHost))
      spawner?.close()
    }
  }
}
