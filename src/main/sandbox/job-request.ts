/**
 * From a `SandboxJob` to what the host is asked to do: the job's parameters checked (a bad one is
 * the caller's bug, so it throws `BadJob` instead of becoming a receipt), the refusals that need no
 * host process, and the RUN request with the sandbox's settings and defaults filled in.
 */
import { SandboxError } from './errors.js'
import type { ModuleCache } from './module-cache.js'
import { FLAG_INTERACTIVE, FLAG_PROBE, type RunRequest } from './protocol.js'
import { failedResult } from './results.js'
import type { SandboxJob, SandboxOptions, SandboxResult } from './types.js'

export const DEFAULT_MAX_MODULE_BYTES = 16 * 1024 * 1024
const DEFAULT_MEMORY = 256 * 1024 * 1024
const DEFAULT_OUTPUT = 16 * 1024 * 1024

/** The sandbox-wide settings every RUN request carries. */
export interface JobSettings {
  maxModuleBytes: number
  stderrLimitBytes: number
  progressIntervalMs: number
}

/** A job's checked limits. */
export interface JobLimits {
  maxFuel: bigint
  memoryLimitBytes: number
  outputLimitBytes: number
}

export function jobSettings (opts: SandboxOptions): JobSettings {
  return {
    maxModuleBytes: opts.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES,
    stderrLimitBytes: opts.stderrLimitBytes ?? 64 * 1024,
    progressIntervalMs: opts.progressIntervalMs ?? 250
  }
}

/** Throws `SandboxError('BadJob')` for a parameter no job could have; returns the limits to send. */
export function checkJob (job: SandboxJob): JobLimits {
  if (!(job.module instanceof Uint8Array)) throw new SandboxError('BadJob', 'job.module must be a Uint8Array')
  const maxFuel = toFuel(job.maxFuel)
  if (!Number.isFinite(job.timeoutMs) || job.timeoutMs <= 0) throw new SandboxError('BadJob', `timeoutMs must be positive, got ${job.timeoutMs}`)
  const memoryLimitBytes = job.memoryLimitBytes ?? DEFAULT_MEMORY
  const outputLimitBytes = job.outputLimitBytes ?? DEFAULT_OUTPUT
  // whole bytes: a fraction would only fail later, while encoding the RUN frame, with a process already taken
  if (!Number.isSafeInteger(memoryLimitBytes) || memoryLimitBytes <= 0) throw new SandboxError('BadJob', `memoryLimitBytes must be a positive whole number, got ${memoryLimitBytes}`)
  if (!Number.isSafeInteger(outputLimitBytes) || outputLimitBytes < 0) throw new SandboxError('BadJob', `outputLimitBytes must be a whole number ≥ 0, got ${outputLimitBytes}`)
  return { maxFuel, memoryLimitBytes, outputLimitBytes }
}

function toFuel (v: bigint | number): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new SandboxError('BadJob', `maxFuel must be a non-negative integer, got ${v}`)
    v = BigInt(v)
  }
  if (v < 0n || v > 0x7fffffffffffffffn) throw new SandboxError('BadJob', `maxFuel out of range: ${v}`)
  return v
}

/** The result of a job that ends before a host process is taken for it (already cancelled, module too big). */
export function refuseBeforeStart (job: SandboxJob, maxModuleBytes: number): SandboxResult | undefined {
  if (job.signal?.aborted === true) return failedResult('Cancelled', 'cancelled before start')
  if (job.module.length > maxModuleBytes) {
    return failedResult('InvalidModule', `module is ${job.module.length} bytes, over the ${maxModuleBytes}-byte limit`)
  }
  return undefined
}

/** The RUN request for a checked job (encoded only when it is sent). */
export function runRequest (job: SandboxJob, interactive: boolean, limits: JobLimits, settings: JobSettings, cache: ModuleCache | undefined): RunRequest {
  return {
    maxFuel: limits.maxFuel,
    timeoutMs: job.timeoutMs,
    memoryLimitBytes: limits.memoryLimitBytes,
    outputLimitBytes: limits.outputLimitBytes,
    stderrLimitBytes: settings.stderrLimitBytes,
    maxModuleBytes: settings.maxModuleBytes,
    // no listener, no PROGRESS frames
    progressIntervalMs: job.onProgress === undefined ? 0 : settings.progressIntervalMs,
    flags: (interactive ? FLAG_INTERACTIVE : 0) | (job.probeSandbox === true ? FLAG_PROBE : 0),
    cacheDir: cache?.dir ?? '',
    cacheSecret: cache?.secret ?? new Uint8Array(0),
    module: job.module,
    input: job.input ?? new Uint8Array(0)
  }
}
