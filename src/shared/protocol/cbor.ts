/**
 * A strict CBOR decoder for untrusted bytes and a canonical DAG-CBOR encoder.
 *
 * Decoder (wire profile section 2): definite lengths only, text map keys only, no duplicate keys,
 * no floats, no `undefined`, no tags except 42 (CID), bounded size and nesting depth, and keys that
 * could pollute prototypes (`__proto__`, `constructor`, `prototype`) are refused, so maps decode to plain
 * objects safely. Integers outside the safe range decode to `bigint`. Every failure is a
 * `ProtocolError` with reason `Malformed` (or `TooLarge`); nothing else is thrown.
 *
 * Encoder: DAG-CBOR canonical form — smallest integer encoding, definite lengths, map keys sorted by
 * encoded length then bytewise, byte strings as major type 2. Object keys whose value is `undefined`
 * are omitted (so optional fields can be left `undefined`). It is tested byte-for-byte against
 * `@ipld/dag-cbor`.
 */
import { CID } from 'multiformats/cid'
import { ProtocolError } from './errors.js'
import type { CborMap, CborValue } from './types.js'

export interface DecodeOptions {
  /** Refuse inputs longer than this (TooLarge). Default 1 MiB. */
  maxBytes?: number
  /** Maximum nesting of arrays/maps. Default 32. */
  maxDepth?: number
}

export const DEFAULT_MAX_BYTES = 1024 * 1024
export const DEFAULT_MAX_DEPTH = 32
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8Encoder = new TextEncoder()

function malformed (detail: string): never {
  throw new ProtocolError('Malformed', `malformed CBOR: ${detail}`)
}

/** Where the signature entry of a message struct sits in the input (see decodeEnvelope). */
export interface SignatureSplice {
  /** byte range of the struct's map head */
  headStart: number
  headEnd: number
  /** number of entries of the struct */
  entries: number
  /** byte range of the "signature" key and its value */
  sigStart: number
  sigEnd: number
}

const INTERN_MASK = 1023
const internTable: Array<string | undefined> = new Array<string | undefined>(INTERN_MASK + 1)

class Reader {
  pos = 0
  /** false once anything non-canonical (non-minimal head, unsorted keys) was read */
  canonical = true
  splice: Partial<SignatureSplice> | undefined
  readonly view: DataView
  constructor (readonly bytes: Uint8Array, readonly maxDepth: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  need (n: number): void {
    if (this.pos + n > this.bytes.length) malformed('unexpected end of input')
  }

  /** Reads the argument of a head; returns number when safe, bigint otherwise. */
  arg (info: number): number | bigint {
    if (info < 24) return info
    switch (info) {
      case 24: { this.need(1); const v = this.bytes[this.pos] as number; this.pos += 1; if (v < 24) this.canonical = false; return v }
      case 25: { this.need(2); const v = this.view.getUint16(this.pos); this.pos += 2; if (v < 0x100) this.canonical = false; return v }
      case 26: { this.need(4); const v = this.view.getUint32(this.pos); this.pos += 4; if (v < 0x10000) this.canonical = false; return v }
      case 27: {
        this.need(8)
        const hi = this.view.getUint32(this.pos)
        const lo = this.view.getUint32(this.pos + 4)
        this.pos += 8
        if (hi === 0) this.canonical = false
        if (hi < 0x200000) return hi * 0x100000000 + lo
        return (BigInt(hi) << 32n) | BigInt(lo)
      }
      case 31: return malformed('indefinite-length items are not allowed')
      default: return malformed(`reserved additional info ${info}`)
    }
  }

  length (info: number): number {
    const n = this.arg(info)
    if (typeof n === 'bigint' || n > this.bytes.length - this.pos) malformed('length exceeds input')
    return n as number
  }

  /**
   * A map key. Keys repeat in every message ("announcement_id", "signature", …): short ASCII keys
   * come from a small intern table, which saves allocating a string and V8 looking it up in its
   * string table to use it as a property name.
   */
  key (depth: number): string {
    const b = this.bytes
    const head = b[this.pos] as number
    const len = head & 0x1f
    if (len < 24 && len > 0 && this.pos + 1 + len <= b.length) {
      const start = this.pos + 1
      let h = len
      for (let i = start; i < start + len; i++) h = (Math.imul(h, 31) + (b[i] as number)) | 0
      const slot = internTable[h & INTERN_MASK]
      if (slot !== undefined && slot.length === len) {
        let same = true
        for (let i = 0; i < len; i++) if (slot.charCodeAt(i) !== b[start + i]) { same = false; break }
        if (same) { this.pos = start + len; return slot }
      }
      const str = this.item(depth) as string
      let ascii = true
      for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) >= 0x80) { ascii = false; break }
      if (ascii) internTable[h & INTERN_MASK] = str
      return str
    }
    return this.item(depth) as string
  }

  item (depth: number): CborValue {
    this.need(1)
    const head = this.bytes[this.pos] as number
    this.pos += 1
    const major = head >> 5
    const info = head & 0x1f
    switch (major) {
      case 0: return this.arg(info)
      case 1: {
        const n = this.arg(info)
        if (typeof n === 'bigint') return -1n - n
        const v = -1 - n
        return Number.isSafeInteger(v) ? v : -1n - BigInt(n)
      }
      case 2: {
        const len = this.length(info)
        const out = this.bytes.slice(this.pos, this.pos + len)
        this.pos += len
        return out
      }
      case 3: {
        const len = this.length(info)
        const start = this.pos
        this.pos += len
        if (len <= 64) {
          // ASCII fast path: most keys and values are short ASCII strings
          const b = this.bytes
          let ascii = true
          for (let i = start; i < start + len; i++) if ((b[i] as number) >= 0x80) { ascii = false; break }
          if (ascii) return String.fromCharCode.apply(null, b.subarray(start, start + len) as unknown as number[])
        }
        const raw = this.bytes.subarray(start, start + len)
        try {
          return utf8Decoder.decode(raw)
        } catch {
          return malformed('invalid UTF-8 in text string')
        }
      }
      case 4: {
        if (depth >= this.maxDepth) malformed(`nesting deeper than ${this.maxDepth}`)
        const len = this.length(info)
        const out: CborValue[] = new Array<CborValue>(len)
        for (let i = 0; i < len; i++) out[i] = this.item(depth + 1)
        return out
      }
      case 5: {
        if (depth >= this.maxDepth) malformed(`nesting deeper than ${this.maxDepth}`)
        const headStart = this.pos - 1
        const len = this.length(info)
        const track = depth === 1 && this.splice !== undefined
        if (track) Object.assign(this.splice as SignatureSplice, { headStart, headEnd: this.pos, entries: len })
        // A plain object: with __proto__/constructor/prototype refused it cannot pollute anything, and
        // V8 keeps messages of the same shape on a fast hidden-class path (null-prototype objects are
        // dictionaries, ~2x slower to build and read).
        const out: CborMap = {}
        let prevStart = 0
        let prevEnd = 0
        for (let i = 0; i < len; i++) {
          this.need(1)
          const entryStart = this.pos
          if (((this.bytes[this.pos] as number) >> 5) !== 3) malformed('map keys must be text strings')
          const key = this.key(depth + 1)
          const keyEnd = this.pos
          if (FORBIDDEN_KEYS.has(key)) malformed(`forbidden map key "${key}"`)
          if (Object.hasOwn(out, key)) malformed(`duplicate map key "${key}"`)
          // canonical order: encoded key bytes sorted by length, then bytewise
          if (i > 0 && this.canonical && compareRanges(this.bytes, prevStart, prevEnd, entryStart, keyEnd) >= 0) this.canonical = false
          prevStart = entryStart
          prevEnd = keyEnd
          out[key] = this.item(depth + 1)
          if (track && key === 'signature') Object.assign(this.splice as SignatureSplice, { sigStart: entryStart, sigEnd: this.pos })
        }
        return out
      }
      case 6: {
        const tag = this.arg(info)
        if (tag !== 42) malformed(`tag ${String(tag)} is not allowed (only 42)`)
        const inner = this.item(depth + 1)
        if (!(inner instanceof Uint8Array) || inner.length < 2 || inner[0] !== 0) malformed('tag 42 must wrap 0x00-prefixed CID bytes')
        try {
          return CID.decode((inner as Uint8Array).subarray(1))
        } catch {
          return malformed('tag 42 holds an invalid CID')
        }
      }
      default: {
        switch (info) {
          case 20: return false
          case 21: return true
          case 22: return null
          case 23: return malformed('undefined is not allowed')
          case 25: case 26: case 27: return malformed('floats are not allowed in V1')
          default: return malformed(`simple value ${info} is not allowed`)
        }
      }
    }
  }
}

function compareRanges (b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  if (e1 - s1 !== e2 - s2) return (e1 - s1) - (e2 - s2)
  for (let i = 0; i < e1 - s1; i++) {
    const d = (b[s1 + i] as number) - (b[s2 + i] as number)
    if (d !== 0) return d
  }
  return 0
}

function run (bytes: Uint8Array, opts: DecodeOptions, r: Reader): CborValue {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  if (bytes.length > maxBytes) throw new ProtocolError('TooLarge', `input of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`)
  if (bytes.length === 0) malformed('empty input')
  try {
    const value = r.item(0)
    if (r.pos !== bytes.length) malformed(`${bytes.length - r.pos} trailing bytes after the data item`)
    return value
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    // RangeError from a deeply nested input or any other engine error: still a typed rejection
    return malformed(err instanceof Error ? err.message : 'undecodable input')
  }
}

/** Decodes exactly one CBOR data item from untrusted bytes. Throws only `ProtocolError`. */
export function decodeCbor (bytes: Uint8Array, opts: DecodeOptions = {}): CborValue {
  return run(bytes, opts, new Reader(bytes, opts.maxDepth ?? DEFAULT_MAX_DEPTH))
}

/**
 * Decodes a one-key envelope `{Variant: struct}` and, when the input is already in canonical form,
 * returns the canonical bytes with the struct's `signature` entry cut out — exactly the bytes the
 * signature covers — without re-encoding. `signedBytes` is undefined for non-canonical input (the
 * caller re-encodes) or when the struct has no signature entry.
 */
export function decodeEnvelope (bytes: Uint8Array, opts: DecodeOptions = {}): { value: CborValue, canonical: boolean, signedBytes: Uint8Array | undefined } {
  const r = new Reader(bytes, opts.maxDepth ?? DEFAULT_MAX_DEPTH)
  r.splice = {}
  const value = run(bytes, opts, r)
  const sp = r.splice as Partial<SignatureSplice>
  if (!r.canonical || sp.sigStart === undefined || sp.sigEnd === undefined || sp.headStart === undefined || sp.headEnd === undefined || sp.entries === undefined) {
    return { value, canonical: r.canonical, signedBytes: undefined }
  }
  // the struct's new map head (entries - 1); structs have far fewer than 24 keys, so one byte
  let head: Uint8Array
  if (sp.entries - 1 < 24) head = Uint8Array.of(0xa0 | (sp.entries - 1))
  else { const w = new Writer(16); w.head(5, sp.entries - 1); head = w.buf.subarray(0, w.pos) }
  const out = new Uint8Array(bytes.length - (sp.sigEnd - sp.sigStart) - (sp.headEnd - sp.headStart) + head.length)
  out.set(bytes.subarray(0, sp.headStart), 0)
  let at = sp.headStart
  out.set(head, at); at += head.length
  out.set(bytes.subarray(sp.headEnd, sp.sigStart), at); at += sp.sigStart - sp.headEnd
  out.set(bytes.subarray(sp.sigEnd), at)
  return { value, canonical: true, signedBytes: out }
}

// ---------------------------------------------------------------------------------------------
// Canonical encoder

class Writer {
  buf: Uint8Array
  view: DataView
  pos = 0
  constructor (size = 256) {
    this.buf = new Uint8Array(size)
    this.view = new DataView(this.buf.buffer)
  }

  ensure (n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  head (major: number, n: number | bigint): void {
    const m = major << 5
    if (typeof n === 'bigint') {
      if (n <= 0xffffffffn) { this.head(major, Number(n)); return }
      if (n > 0xffffffffffffffffn) throw new TypeError('integer does not fit in 64 bits')
      this.ensure(9)
      this.buf[this.pos++] = m | 27
      this.view.setBigUint64(this.pos, n)
      this.pos += 8
      return
    }
    if (n < 24) { this.ensure(1); this.buf[this.pos++] = m | n } else if (n < 0x100) {
      this.ensure(2); this.buf[this.pos++] = m | 24; this.buf[this.pos++] = n
    } else if (n < 0x10000) {
      this.ensure(3); this.buf[this.pos++] = m | 25; this.view.setUint16(this.pos, n); this.pos += 2
    } else if (n < 0x100000000) {
      this.ensure(5); this.buf[this.pos++] = m | 26; this.view.setUint32(this.pos, n); this.pos += 4
    } else {
      this.ensure(9); this.buf[this.pos++] = m | 27
      this.view.setUint32(this.pos, Math.floor(n / 0x100000000)); this.view.setUint32(this.pos + 4, n >>> 0); this.pos += 8
    }
  }

  raw (bytes: Uint8Array): void {
    this.ensure(bytes.length)
    this.buf.set(bytes, this.pos)
    this.pos += bytes.length
  }
}

/** Key order cache: text keys of our structs repeat constantly, so remember their encoded bytes. */
const keyBytesCache = new Map<string, Uint8Array>()
function keyBytes (key: string): Uint8Array {
  let b = keyBytesCache.get(key)
  if (b === undefined) {
    b = utf8Encoder.encode(key)
    if (keyBytesCache.size < 4096) keyBytesCache.set(key, b)
  }
  return b
}

function compareKeys (a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return 0
}

function encodeInto (w: Writer, value: unknown, depth: number): void {
  if (depth > 256) throw new TypeError('value nests too deeply to encode')
  switch (typeof value) {
    case 'number':
      if (!Number.isInteger(value)) throw new TypeError(`cannot encode non-integer number ${value} (V1 has no floats)`)
      if (!Number.isSafeInteger(value)) throw new TypeError(`integer ${value} is outside the safe range; use a bigint`)
      if (value >= 0) w.head(0, value); else w.head(1, -1 - value)
      return
    case 'bigint':
      if (value >= 0n) w.head(0, value); else w.head(1, -1n - value)
      return
    case 'string': {
      const n = value.length
      if (n <= 64) {
        let ascii = true
        for (let i = 0; i < n; i++) if (value.charCodeAt(i) >= 0x80) { ascii = false; break }
        if (ascii) {
          w.head(3, n)
          w.ensure(n)
          for (let i = 0; i < n; i++) w.buf[w.pos++] = value.charCodeAt(i)
          return
        }
      }
      const b = utf8Encoder.encode(value)
      w.head(3, b.length)
      w.raw(b)
      return
    }
    case 'boolean':
      w.ensure(1); w.buf[w.pos++] = value ? 0xf5 : 0xf4
      return
    case 'object': {
      if (value === null) { w.ensure(1); w.buf[w.pos++] = 0xf6; return }
      if (value instanceof Uint8Array) { w.head(2, value.length); w.raw(value); return }
      if (Array.isArray(value)) {
        w.head(4, value.length)
        for (const v of value) encodeInto(w, v, depth + 1)
        return
      }
      const cid = CID.asCID(value)
      if (cid !== null) {
        w.head(6, 42)
        w.head(2, cid.bytes.length + 1)
        w.ensure(1); w.buf[w.pos++] = 0
        w.raw(cid.bytes)
        return
      }
      const obj = value as Record<string, unknown>
      const entries: Array<[Uint8Array, unknown]> = []
      for (const k of Object.keys(obj)) {
        const v = obj[k]
        if (v !== undefined) entries.push([keyBytes(k), v])
      }
      entries.sort((a, b) => compareKeys(a[0], b[0]))
      w.head(5, entries.length)
      for (const [k, v] of entries) {
        w.head(3, k.length)
        w.raw(k)
        encodeInto(w, v, depth + 1)
      }
      return
    }
    default:
      throw new TypeError(`cannot encode a value of type ${typeof value}`)
  }
}

/** Encodes a value in canonical DAG-CBOR form. Throws TypeError for values outside the data model. */
export function encodeCanonical (value: unknown): Uint8Array {
  const w = new Writer()
  encodeInto(w, value, 0)
  return w.buf.slice(0, w.pos)
}
