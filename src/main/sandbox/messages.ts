/**
 * Messages between the app (index.ts), the sandbox host process (host.ts) and job workers (worker.ts).
 * App <-> host travel over the child-process IPC channel with `advanced` serialization.
 */
import type { WasmModule } from './wasm-api.js'
import type { SandboxResult } from './index.js'

// ---- host -> worker
export interface WorkerStart {
  type: 'start'
  module: WasmModule
  maxFuel: bigint
  /** Initial stdin bytes. */
  input: Uint8Array
  /** True when `input` is all of stdin (batch mode). */
  inputEnded: boolean
  interactive: boolean
  /** Int32Array control words for interactive stdin: [bytesAvailable, eof, _, generation]. */
  stdinCtrl: SharedArrayBuffer
  stdinData: SharedArrayBuffer
  /** BigInt64Array[1]: remaining fuel as last synced at a WASI call. */
  progress: SharedArrayBuffer
  outputLimitBytes: number
  stderrLimitBytes: number
}

export type WorkerOutcome =
  | { kind: 'exit', code: number }
  | { kind: 'trap', message: string }
  | { kind: 'fuel' }
  | { kind: 'output-limit', message: string }
  | { kind: 'internal', message: string }

// ---- worker -> host
export type WorkerMessage =
  | { type: 'started', at: number }
  | { type: 'stdout', data: Uint8Array }
  | { type: 'stderr', data: Uint8Array }
  | { type: 'stdin-taken', bytes: number }
  | {
    type: 'done'
    outcome: WorkerOutcome
    fuelRemaining: bigint
    memhit: boolean
    peakMemoryBytes: number
    outputBytes: number
    /** Batch-mode stdout (interactive mode streams it instead). */
    output: Uint8Array
  }

// ---- app -> host
export interface HostRunRequest {
  type: 'run'
  id: number
  module: Uint8Array
  input: Uint8Array
  interactive: boolean
  maxFuel: bigint
  timeoutMs: number
  memoryLimitBytes: number
  outputLimitBytes: number
  stderrLimitBytes: number
  maxModuleBytes: number
  progressIntervalMs: number
}

export type AppToHost =
  | HostRunRequest
  | { type: 'stdin', id: number, data: Uint8Array }
  | { type: 'stdin-end', id: number }
  | { type: 'cancel', id: number }

/** What the host reports for a job: the app-facing result, with when `_start` was called instead of start_ms. */
export type HostResult = Omit<SandboxResult, 'start_ms'> & {
  /** High-resolution epoch ms (performance.timeOrigin + now) just before `_start` was called. */
  started_at?: number
}

// ---- host -> app
export type HostToApp =
  | { type: 'ready' }
  | { type: 'stdout', id: number, data: Uint8Array }
  | { type: 'stderr', id: number, data: Uint8Array }
  | { type: 'stdin-ack', id: number, bytes: number }
  | { type: 'progress', id: number, fuel: bigint }
  | { type: 'result', id: number, result: HostResult }
