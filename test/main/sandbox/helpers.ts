/** Shared helpers of the sandbox tests. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Sandbox, SandboxResult } from '../../../src/main/sandbox/index.js'

export const jobsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'assets', 'jobs')
export const load = (name: string): Uint8Array => new Uint8Array(readFileSync(join(jobsDir, `${name}.wasm`)))
export const text = (b: Uint8Array): string => new TextDecoder().decode(b)
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const MiB = 1024 * 1024
export const FUEL = 10_000_000_000n

export function pseudoRandom (n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed | 1
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff }
  return out
}

export function assertOk (r: SandboxResult): void {
  assert.equal(r.status, 'CompletedSuccessfully', `${r.failure_reason ?? ''} ${r.detail ?? ''}`)
  assert.equal(r.failure_reason, undefined)
  assert.equal(r.exit_code, 0)
  assert.ok(r.fuel_used > 0n)
  assert.equal(r.output_bytes, r.output.length)
}

export function assertFailed (r: SandboxResult, reason: string): void {
  assert.equal(r.status, 'Failed', `expected Failed/${reason}, got ${r.status} ${r.failure_reason ?? ''} ${r.detail ?? ''}`)
  assert.equal(r.failure_reason, reason, r.detail)
}

/** A small healthy job: sha256("abc"). */
export async function healthCheck (sandbox: Sandbox): Promise<number> {
  const t0 = performance.now()
  const r = await sandbox.run({ module: load('sha256'), input: enc('abc'), maxFuel: FUEL, timeoutMs: 20_000 })
  assertOk(r)
  assert.equal(text(r.output), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n')
  return performance.now() - t0
}

function vmHwm (pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? undefined : Number(m[1]) * 1024
  } catch {
    return undefined
  }
}

/**
 * Samples the peak RSS (VmHWM) of every host process running a job of `sandbox` until stop().
 * Linux only (elsewhere it reports 0). Complements the host's own report, which a process that
 * dies (e.g. out of its address-space budget while compiling) cannot send.
 */
export function watchPeakRss (sandbox: Sandbox, everyMs = 10): { stop: () => number } {
  let peak = 0
  const timer = setInterval(() => {
    for (const pid of sandbox.jobPids()) peak = Math.max(peak, vmHwm(pid) ?? 0)
  }, everyMs)
  return {
    stop () {
      clearInterval(timer)
      for (const pid of sandbox.jobPids()) peak = Math.max(peak, vmHwm(pid) ?? 0)
      return peak
    }
  }
}
