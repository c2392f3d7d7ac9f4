/**
 * Building a job's `SandboxResult`: from the host's RESULT frame, from the way a host process ended
 * without one, or for a job refused before any host saw it. Every failure carries a `detail` a
 * seller can act on (docs/SANDBOX.md, "Limits and failure codes").
 */
import type { FailureReason } from '../../shared/protocol/types.js'
import { EXIT_OUT_OF_MEMORY, type HostResultJson } from './protocol.js'
import type { SandboxResult } from './types.js'

/** Why the app itself killed a host, if it did. */
export type KilledFor = 'watchdog' | 'cancel' | 'close'

/** How a host process ended (the fields of its `HostProcess` record). */
export interface HostExit {
  exitCode: number | null
  exitSignal: NodeJS.Signals | null
  stderrTail: string
}

/** A job that failed (or was cancelled) without a host result: nothing ran, or no result came. */
export function failedResult (reason: FailureReason, detail: string, fuel = 0n): SandboxResult {
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

/** The host's RESULT JSON as a `SandboxResult`, with the stdout the app collected. */
export function resultFromHost (h: HostResultJson, output: Uint8Array, startMs: number | undefined): SandboxResult {
  return {
    status: h.status,
    ...(h.failure_reason === undefined ? {} : { failure_reason: h.failure_reason as FailureReason }),
    ...(h.detail === undefined ? {} : { detail: h.detail }),
    fuel_used: BigInt(h.fuel_used),
    wall_ms: h.wall_us / 1000,
    peak_memory_bytes: h.peak_memory_bytes,
    output_bytes: h.output_bytes,
    output,
    ...(h.exit_code === undefined ? {} : { exit_code: h.exit_code }),
    ...(startMs === undefined ? {} : { start_ms: startMs }),
    host: h.host
  }
}

/**
 * A host that ended before its RESULT: cancelled (we killed it for a CANCEL it did not honour),
 * out of address space (its allocator failed: the job needed more than its cap), overstayed the
 * watchdog, or died for a reason of its own (the tail of its stderr says which).
 */
export function exitResult (exit: HostExit, killedFor: KilledFor | undefined, lastFuel: bigint, graceMs: number): SandboxResult {
  const how = exit.exitSignal ?? `exit ${exit.exitCode ?? '?'}`
  const tail = exit.stderrTail.trim() === '' ? '' : `: ${exit.stderrTail.trim().split('\n').slice(-3).join(' | ')}`
  if (killedFor === 'close' || killedFor === 'cancel') return failedResult('Cancelled', killedFor === 'close' ? 'sandbox closed' : 'cancelled', lastFuel)
  if (exit.exitCode === EXIT_OUT_OF_MEMORY) {
    return failedResult('MemoryLimit', 'the job needed more memory than its cap plus the sandbox host\'s fixed overhead (host allocation failed)', lastFuel)
  }
  if (killedFor === 'watchdog') return failedResult('InternalError', `sandbox host did not finish within timeout + ${graceMs} ms and was killed`, lastFuel)
  return failedResult('InternalError', `sandbox host died (${how})${tail}`, lastFuel)
}

export function concat (chunks: Uint8Array[]): Uint8Array {
  let total = 0
  for (const c of chunks) total += c.length
  const out = new Uint8Array(total)
  let off = 0
  for (const c of chunks) { out.set(c, off); off += c.length }
  return out
}
