/** CIDs of wire profile section 5: raw (0x55) for bytes, dag-cbor (0x71) for receipts; sha2-256; base32. */
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'

export const RAW_CODEC = 0x55
export const DAG_CBOR_CODEC = 0x71
const SHA2_256 = 0x12

export function sha256 (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

function cidOf (codec: number, bytes: Uint8Array): string {
  return CID.createV1(codec, Digest.create(SHA2_256, sha256(bytes))).toString()
}

/** CIDv1 raw sha2-256 of bytes (string form bafkrei…). */
export function rawCid (bytes: Uint8Array): string {
  return cidOf(RAW_CODEC, bytes)
}

/** CIDv1 dag-cbor sha2-256 of canonical DAG-CBOR bytes (string form bafyrei…). */
export function dagCborCid (bytes: Uint8Array): string {
  return cidOf(DAG_CBOR_CODEC, bytes)
}

// Exact shapes of CIDv1 sha2-256 base32 strings: the prefix bytes 01 55|71 12 20 fix the first
// eight characters' high bits, and the 2 padding bits of the last character are zero.
const RAW_SHA256_CID = /^bafkrei[a-h][a-z2-7]{50}[aeimquy4]$/
const DAG_CBOR_SHA256_CID = /^bafyrei[a-h][a-z2-7]{50}[aeimquy4]$/

/** The codec of a CIDv1 sha2-256 base32 string (raw or dag-cbor), without allocating; undefined otherwise. */
export function cidCodecOf (s: string): number | undefined {
  if (typeof s !== 'string' || s.length !== 59) return undefined
  if (RAW_SHA256_CID.test(s)) return RAW_CODEC
  if (DAG_CBOR_SHA256_CID.test(s)) return DAG_CBOR_CODEC
  return undefined
}

/** Parses a CID string; undefined unless it is a CIDv1 sha2-256 in base32 lower case of codec raw or dag-cbor. */
export function parseCid (s: string): CID | undefined {
  if (typeof s !== 'string' || s.length > 200 || !s.startsWith('b')) return undefined
  try {
    const cid = CID.parse(s)
    if (cid.version !== 1 || cid.multihash.code !== SHA2_256 || cid.multihash.digest.length !== 32) return undefined
    if (cid.code !== RAW_CODEC && cid.code !== DAG_CBOR_CODEC) return undefined
    if (cid.toString() !== s) return undefined
    return cid
  } catch {
    return undefined
  }
}

export function isValidCid (s: string): boolean {
  return parseCid(s) !== undefined
}

/** True when `bytes` hash to `cid` (of either codec). */
export function cidMatchesBytes (cid: string, bytes: Uint8Array): boolean {
  const parsed = parseCid(cid)
  if (parsed === undefined) return false
  const digest = sha256(bytes)
  const want = parsed.multihash.digest
  if (want.length !== digest.length) return false
  for (let i = 0; i < digest.length; i++) if (digest[i] !== want[i]) return false
  return true
}
