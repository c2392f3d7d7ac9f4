/**
 * The sandbox's public types (re-exported by index.ts): the job, its result, the interactive handle,
 * the options and the `Sandbox` itself. Kept apart so the modules that implement them can share
 * them without importing index.ts (no import cycles).
 */
import type { FailureReason } from '../../shared/protocol/types.js'
import type { Logger } from '../log/index.js'

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
  /** Spawn host processes from a helper process, off this event loop (default true; spawner.ts). */
  spawner?: boolean
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
