/**
 * Minimal WebAssembly binary reading/writing helpers (LEB128, sections, value types).
 * Every read is bounds-checked and throws InvalidModuleError on malformed input.
 */
import { InvalidModuleError } from './errors.js'

export const SECTION = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6,
  export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12, tag: 13
} as const

/** Canonical order of the known non-custom sections (datacount sits before code). */
export const SECTION_ORDER: readonly number[] = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11]

export const VALTYPE = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b, funcref: 0x70, externref: 0x6f } as const

export function fail (msg: string): never {
  throw new InvalidModuleError(msg)
}

export class Reader {
  pos: number
  constructor (readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start
  }

  get done (): boolean { return this.pos >= this.end }

  u8 (): number {
    if (this.pos >= this.end) fail('unexpected end of module')
    return this.buf[this.pos++] as number
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32 (): number {
    let result = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      const b = this.u8()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) fail('u32 out of range')
        return result
      }
      shift += 7
    }
    return fail('u32 LEB128 too long')
  }

  /** Skips a signed LEB128 of at most `bits` bits. */
  skipSleb (bits: number): void {
    const max = Math.ceil(bits / 7)
    for (let i = 0; i < max; i++) {
      if ((this.u8() & 0x80) === 0) return
    }
    fail('signed LEB128 too long')
  }

  /** Reads a signed LEB128 up to 33 bits (block types) as a JS number. */
  s33 (): number {
    let result = 0
    let shift = 0
    let b: number
    let i = 0
    do {
      if (i++ >= 5) fail('s33 too long')
      b = this.u8()
      result += (b & 0x7f) * 2 ** shift
      shift += 7
    } while ((b & 0x80) !== 0)
    if ((b & 0x40) !== 0) result -= 2 ** shift
    return result
  }

  bytes (n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) fail('unexpected end of module')
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  skip (n: number): void {
    if (n < 0 || this.pos + n > this.end) fail('unexpected end of module')
    this.pos += n
  }

  name (): string {
    const len = this.u32()
    return new TextDecoder('utf-8', { fatal: false }).decode(this.bytes(len))
  }

  valtype (): number {
    const t = this.u8()
    if (t !== 0x7f && t !== 0x7e && t !== 0x7d && t !== 0x7c && t !== 0x7b && t !== 0x70 && t !== 0x6f) fail(`bad value type 0x${t.toString(16)}`)
    return t
  }
}

/** A growable byte buffer. */
export class Writer {
  private buf = new Uint8Array(1024)
  length = 0

  private ensure (n: number): void {
    if (this.length + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.length + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
  }

  byte (b: number): this {
    this.ensure(1)
    this.buf[this.length++] = b
    return this
  }

  bytes (b: Uint8Array | readonly number[]): this {
    this.ensure(b.length)
    this.buf.set(b, this.length)
    this.length += b.length
    return this
  }

  u32 (v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 out of range: ${v}`)
    do {
      let b = v & 0x7f
      v = Math.floor(v / 128)
      if (v !== 0) b |= 0x80
      this.byte(b)
    } while (v !== 0)
    return this
  }

  s64 (value: bigint): this {
    let v = BigInt.asIntN(64, value)
    for (;;) {
      const b = Number(v & 0x7fn)
      v >>= 7n
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.byte(b)
        return this
      }
      this.byte(b | 0x80)
    }
  }

  name (s: string): this {
    const b = new TextEncoder().encode(s)
    return this.u32(b.length).bytes(b)
  }

  toBytes (): Uint8Array {
    return this.buf.slice(0, this.length)
  }
}

export function u32Bytes (v: number): Uint8Array {
  return new Writer().u32(v).toBytes()
}

export interface RawSection {
  id: number
  /** Contents (without id and size). */
  body: Uint8Array
}

/** Splits a module into raw sections, checking the header and section framing. */
export function splitSections (bytes: Uint8Array): RawSection[] {
  if (bytes.length < 8) fail('module too short')
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  for (let i = 0; i < 8; i++) if (bytes[i] !== magic[i]) fail('bad magic or version (expected a WebAssembly 1.0 binary module)')
  const r = new Reader(bytes, 8)
  const out: RawSection[] = []
  while (!r.done) {
    const id = r.u8()
    const size = r.u32()
    out.push({ id, body: r.bytes(size) })
  }
  return out
}

export function encodeSection (id: number, body: Uint8Array): Uint8Array {
  return new Writer().byte(id).u32(body.length).bytes(body).toBytes()
}

export interface FuncType { params: number[], results: number[] }

export function readFuncType (r: Reader): FuncType {
  if (r.u8() !== 0x60) fail('expected a function type (0x60)')
  const np = r.u32()
  const params: number[] = []
  for (let i = 0; i < np; i++) params.push(r.valtype())
  const nr = r.u32()
  const results: number[] = []
  for (let i = 0; i < nr; i++) results.push(r.valtype())
  return { params, results }
}

export function writeFuncType (w: Writer, t: FuncType): void {
  w.byte(0x60).u32(t.params.length).bytes(t.params).u32(t.results.length).bytes(t.results)
}

export interface Limits { min: number, max?: number, flags: number }

export function readLimits (r: Reader): Limits {
  const flags = r.u8()
  if (flags !== 0 && flags !== 1 && flags !== 3 && flags !== 2) fail(`unsupported limits flags ${flags}`)
  const min = r.u32()
  if ((flags & 1) !== 0) return { flags, min, max: r.u32() }
  return { flags, min }
}

/** Skips a constant expression (global initialisers, segment offsets) up to and including its `end`. */
export function skipConstExpr (r: Reader): void {
  for (;;) {
    const op = r.u8()
    switch (op) {
      case 0x0b: return
      case 0x41: r.skipSleb(32); break
      case 0x42: r.skipSleb(64); break
      case 0x43: r.skip(4); break
      case 0x44: r.skip(8); break
      case 0x23: r.u32(); break
      case 0xd0: r.u8(); break
      case 0xd2: r.u32(); break
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break
      case 0xfd: if (r.u32() !== 12) fail('unsupported constant expression'); r.skip(16); break
      default: fail(`unsupported constant expression opcode 0x${op.toString(16)}`)
    }
  }
}
