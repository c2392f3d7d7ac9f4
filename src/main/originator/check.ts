/** Checks a job description given to submit() and turns it into wire values (profile 6.2). */
import { QOS_PROFILES } from '../../shared/protocol/index.js'
import type { ExecutionPolicy, QosProfile } from '../../shared/protocol/index.js'
import { isValidRegion } from '../mesh/index.js'
import { InvalidJobError } from './errors.js'
import type { SubmitJob } from './types.js'

export function toBig (v: bigint | number | undefined, what: string): bigint | undefined {
  if (v === undefined) return undefined
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new InvalidJobError(`${what} must be a non-negative integer, got ${v}`)
  const b = BigInt(v)
  if (b < 0n || b > 0xffffffffffffffffn) throw new InvalidJobError(`${what} must be a non-negative integer below 2^64, got ${b}`)
  return b
}

/** Encodes a uint for the wire: a number when safe, else a bigint. */
export function wireUint (b: bigint): number | bigint {
  return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
}

export function errText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export interface CheckedJob {
  maxFuel: bigint
  maxPrice?: bigint
  windowMs: number
  policy: ExecutionPolicy
  qos: QosProfile
  description: string
}

export function checkJob (job: SubmitJob): CheckedJob {
  if (job === null || typeof job !== 'object') throw new InvalidJobError('job description required')
  if (!(job.module instanceof Uint8Array) || job.module.byteLength === 0) throw new InvalidJobError('job.module must be non-empty bytes (a .wasm file)')
  if (job.input !== undefined && !(job.input instanceof Uint8Array)) throw new InvalidJobError('job.input must be bytes')
  if (job.interactive === true && job.input !== undefined) throw new InvalidJobError('an interactive job takes its stdin from the stream, not from job.input')
  const maxFuel = toBig(job.maxFuel, 'maxFuel')
  if (maxFuel === undefined || maxFuel === 0n) throw new InvalidJobError('maxFuel must be a positive integer')
  if (!Number.isSafeInteger(job.timeoutSeconds) || job.timeoutSeconds <= 0) throw new InvalidJobError(`timeoutSeconds must be a positive integer, got ${job.timeoutSeconds}`)
  const windowMs = job.biddingWindowMs ?? 30_000
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) throw new InvalidJobError(`biddingWindowMs must be a positive integer, got ${windowMs}`)
  if (job.region !== undefined && !isValidRegion(job.region)) throw new InvalidJobError(`invalid region "${job.region}": expected 1-63 characters of [a-z0-9-]`)
  const weight = (w: number | undefined, dflt: number, what: string): number => {
    const v = w ?? dflt
    if (!Number.isSafeInteger(v) || v < 0 || v > 1000) throw new InvalidJobError(`${what} must be an integer 0–1000 (per mille), got ${v}`)
    return v
  }
  const policy: ExecutionPolicy = { rep_weight: weight(job.repWeight, 300, 'repWeight'), price_weight: weight(job.priceWeight, 700, 'priceWeight') }
  if (job.region !== undefined) policy.region_filter = job.region
  const maxPrice = toBig(job.maxPrice, 'maxPrice')
  if (maxPrice !== undefined) policy.max_price = wireUint(maxPrice)
  if (job.minReputation !== undefined) {
    if (!Number.isSafeInteger(job.minReputation) || job.minReputation < 0 || job.minReputation > 100) {
      throw new InvalidJobError(`minReputation must be an integer 0–100, got ${job.minReputation}`)
    }
    policy.min_reputation = job.minReputation
  }
  const qos = job.qos ?? 'BestEffort'
  if (!(QOS_PROFILES as readonly string[]).includes(qos)) throw new InvalidJobError(`qos must be one of ${QOS_PROFILES.join(', ')}`)
  const description = job.description ?? 'mesh-executor submit'
  if (Buffer.byteLength(description) > 1024) throw new InvalidJobError('description must be at most 1 KiB')
  if (job.selection !== undefined && job.selection !== 'window' && job.selection !== 'first-valid-bid') {
    throw new InvalidJobError(`selection must be 'window' or 'first-valid-bid', got ${String(job.selection)}`)
  }
  return { maxFuel, maxPrice, windowMs, policy, qos, description }
}
