/**
 * Can the job's blocks cross the path to its originator? When our only connection to it is a relay
 * that limits the data of each relayed connection, a module + input larger than that limit can never
 * be fetched (the fetch fails RelayLimited), so a bid would win a job we cannot run. The sizes come
 * from two keys the profile does not define (`wasm_size`, `input_size` in job_params, kept by the
 * decoder, profile 2); an announcement without them passes.
 */
import type { JobAnnouncementV1 } from '../../../shared/protocol/index.js'
import { fail, pass, type RuleDef } from './rule.js'

/** The byte sizes the announcement declares for its blocks, or undefined when it declares none. */
export interface DeclaredSizes { module?: number, input?: number, total: number }

/** A non-negative safe integer (number or bigint), else undefined: anything else is ignored. */
function size (v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined
  if (typeof v === 'bigint') return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined
  return undefined
}

export function declaredSizes (a: JobAnnouncementV1): DeclaredSizes | undefined {
  const jp = a.job_params as unknown as Record<string, unknown>
  const module = size(jp.wasm_size)
  const input = size(jp.input_size)
  if (module === undefined && input === undefined) return undefined
  const total = (module ?? 0) + (input ?? 0)
  return { ...(module !== undefined ? { module } : {}), ...(input !== undefined ? { input } : {}), total }
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const

/** 131072 → "128 KiB", 12582912 → "12 MiB", 4194320 → "4.0 MiB", 900 → "900 B". */
export function formatBytes (n: number | bigint): string {
  let v = Number(n)
  if (v < 1024) return `${v} B`
  let i = -1
  while (i < UNITS.length - 1 && v >= 1024) { v /= 1024; i++ }
  return `${Number.isInteger(v) ? String(v) : v.toFixed(1)} ${UNITS[i] ?? 'B'}`
}

function describe (s: DeclaredSizes): string {
  const parts = [s.module !== undefined ? `module ${formatBytes(s.module)}` : undefined, s.input !== undefined ? `input ${formatBytes(s.input)}` : undefined]
  return `${formatBytes(s.total)} (${parts.filter((p) => p !== undefined).join(' + ')})`
}

export const relay: RuleDef<'relay'> = {
  id: 'relay',
  evaluate: ({ a, ctx }) => {
    const sizes = declaredSizes(a)
    if (sizes === undefined) return pass('job declares no block sizes (wasm_size, input_size); not checked')
    const path = ctx.path
    const blocks = describe(sizes)
    if (path === undefined) return pass(`path to the originator not looked up; the job's blocks are ${blocks}`)
    if (path === 'direct') return pass(`direct connection to the originator; the job's blocks are ${blocks}`)
    if (path.bytes === undefined) return pass(`the only path to the originator is a relay with no data limit; the job's blocks are ${blocks}`)
    if (BigInt(sizes.total) > path.bytes) return fail(`the only path to the originator is a relay allowing ${formatBytes(path.bytes)}; the job's blocks are ${blocks}`)
    return pass(`the only path to the originator is a relay allowing ${formatBytes(path.bytes)}, enough for the job's blocks: ${blocks}`)
  }
}
