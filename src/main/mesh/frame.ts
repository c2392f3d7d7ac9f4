/**
 * Length-prefixed single-frame exchanges (profile 4.2 / 4.3) and their CBOR answer maps.
 */
import { decodeCbor, encodeCanonical } from '../../shared/protocol/index.js'
import type { CborMap, ReasonCode } from '../../shared/protocol/index.js'
import { MeshError } from './errors.js'

/** Answer of the direct protocol. */
export type DirectAnswer = { ok: true } | { ok: false, error: ReasonCode | string, message: string }

export function encodeDirectAnswer (a: DirectAnswer): Uint8Array {
  return encodeCanonical(a.ok ? { ok: true } : { ok: false, error: a.error, message: a.message })
}

function asMap (bytes: Uint8Array, maxBytes: number): CborMap {
  let v
  try {
    v = decodeCbor(bytes, { maxBytes })
  } catch (err) {
    throw new MeshError('BadAnswer', `answer is not valid CBOR: ${(err as Error).message}`)
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array || '/' in v) {
    throw new MeshError('BadAnswer', 'answer is not a CBOR map')
  }
  return v as CborMap
}

export function decodeDirectAnswer (bytes: Uint8Array): DirectAnswer {
  const m = asMap(bytes, 64 * 1024)
  if (m.ok === true) return { ok: true }
  if (m.ok === false) {
    const error = typeof m.error === 'string' ? m.error : 'Unknown'
    const message = typeof m.message === 'string' ? m.message : ''
    return { ok: false, error, message }
  }
  throw new MeshError('BadAnswer', 'answer map has no boolean "ok"')
}

export type BlockAnswer = { ok: true, data: Uint8Array } | { ok: false, error: string }

export function encodeBlockRequest (cid: string): Uint8Array {
  return encodeCanonical({ cid })
}

export function decodeBlockRequest (bytes: Uint8Array): string {
  const m = asMap(bytes, 4096)
  if (typeof m.cid !== 'string') throw new MeshError('BadAnswer', 'block request has no "cid" string')
  return m.cid
}

export function encodeBlockAnswer (a: BlockAnswer): Uint8Array {
  return encodeCanonical(a.ok ? { ok: true, data: a.data } : { ok: false, error: a.error })
}

export function decodeBlockAnswer (bytes: Uint8Array, maxBytes: number): BlockAnswer {
  const m = asMap(bytes, maxBytes)
  if (m.ok === true) {
    if (!(m.data instanceof Uint8Array)) throw new MeshError('BadAnswer', 'block answer has no "data" bytes')
    return { ok: true, data: m.data }
  }
  if (m.ok === false) return { ok: false, error: typeof m.error === 'string' ? m.error : 'Unknown' }
  throw new MeshError('BadAnswer', 'block answer map has no boolean "ok"')
}

/** A signal that aborts when `signal` aborts or after `ms`. */
export function timeoutSignal (ms: number, signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return signal === undefined ? t : AbortSignal.any([signal, t])
}

/** Converts an abort of `signal` into a MeshError (Aborted vs Timeout). */
export function abortError (signal: AbortSignal, what: string): MeshError {
  const reason: unknown = signal.reason
  if (reason instanceof Error && reason.name === 'TimeoutError') return new MeshError('Timeout', `${what} timed out`, { cause: reason })
  return new MeshError('Aborted', `${what} aborted`, { cause: reason })
}

/** An unsigned LEB128 varint (the length prefix of multistream lines and of our frames). */
export function varint (n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}
