/**
 * Frames between the app and a sandbox host process (src/main/sandbox/host, Rust): over the host's
 * stdin (app -> host) and stdout (host -> app). Frame = u32 LE length of what follows, u8 type,
 * payload. The host's stderr is only its own diagnostics.
 */

import type { HostDiagnostics } from './types.js'
// app -> host
export const T_RUN = 1
export const T_STDIN = 2
export const T_STDIN_END = 3
export const T_CANCEL = 4
// host -> app
export const T_HELLO = 10
export const T_STARTED = 11
export const T_STDOUT = 12
export const T_STDERR = 13
export const T_STDIN_ACK = 14
export const T_PROGRESS = 15
export const T_RESULT = 16

export const FLAG_INTERACTIVE = 1
export const FLAG_PROBE = 2

/** Exit status of a host that ran out of its address-space budget (job cap + fixed overhead). */
export const EXIT_OUT_OF_MEMORY = 86

export function frame (type: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length)
  out.writeUInt32LE(payload.length + 1, 0)
  out[4] = type
  out.set(payload, 5)
  return out
}

export interface RunRequest {
  maxFuel: bigint
  timeoutMs: number
  memoryLimitBytes: number
  outputLimitBytes: number
  stderrLimitBytes: number
  maxModuleBytes: number
  progressIntervalMs: number
  flags: number
  cacheDir: string
  cacheSecret: Uint8Array
  module: Uint8Array
  input: Uint8Array
}

export function encodeRun (r: RunRequest): Buffer {
  const dir = Buffer.from(r.cacheDir, 'utf8')
  const size = 6 * 8 + 2 * 4 + 4 * 4 + dir.length + r.cacheSecret.length + r.module.length + r.input.length
  const b = Buffer.allocUnsafe(size)
  let o = 0
  const u64 = (v: bigint | number): void => { b.writeBigUInt64LE(BigInt(v), o); o += 8 }
  const u32 = (v: number): void => { b.writeUInt32LE(v, o); o += 4 }
  const blob = (v: Uint8Array): void => { u32(v.length); b.set(v, o); o += v.length }
  u64(r.maxFuel)
  u64(Math.ceil(r.timeoutMs))
  u64(r.memoryLimitBytes)
  u64(r.outputLimitBytes)
  u64(r.stderrLimitBytes)
  u64(r.maxModuleBytes)
  u32(r.progressIntervalMs)
  u32(r.flags)
  blob(dir)
  blob(r.cacheSecret)
  blob(r.module)
  blob(r.input)
  return frame(T_RUN, b)
}

/** Incremental frame parser for the host's stdout. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0)
  constructor (private readonly onFrame: (type: number, payload: Buffer) => void) {}

  push (chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    let off = 0
    while (this.buf.length - off >= 4) {
      const len = this.buf.readUInt32LE(off)
      if (this.buf.length - off - 4 < len) break
      const type = this.buf[off + 4] as number
      const payload = this.buf.subarray(off + 5, off + 4 + len)
      off += 4 + len
      this.onFrame(type, payload)
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off)
  }
}

/** The RESULT frame's JSON (fuel as a decimal string: it may exceed 2^53). */
export interface HostResultJson {
  status: 'CompletedSuccessfully' | 'Failed' | 'Cancelled'
  failure_reason?: string
  detail?: string
  fuel_used: string
  wall_us: number
  peak_memory_bytes: number
  output_bytes: number
  exit_code?: number
  host: HostDiagnostics
}
