/**
 * A minimal WebAssembly binary writer for generating large hostile modules in tests (too big to
 * commit, or parameterized): many functions, many locals, deep nesting, many big tables.
 */

export class Writer {
  private buf = new Uint8Array(1024)
  private len = 0

  private reserve (n: number): void {
    if (this.len + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.len + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  byte (b: number): this {
    this.reserve(1)
    this.buf[this.len++] = b & 0xff
    return this
  }

  bytes (b: Uint8Array | number[]): this {
    this.reserve(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
    return this
  }

  /** unsigned LEB128 */
  u32 (v: number): this {
    do {
      let b = v & 0x7f
      v = Math.floor(v / 128)
      if (v !== 0) b |= 0x80
      this.byte(b)
    } while (v !== 0)
    return this
  }

  /** signed LEB128 (32-bit range) */
  s32 (v: number): this {
    for (;;) {
      const b = v & 0x7f
      v >>= 7
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { this.byte(b); return this }
      this.byte(b | 0x80)
    }
  }

  name (s: string): this {
    const b = new TextEncoder().encode(s)
    return this.u32(b.length).bytes(b)
  }

  /** a section: id, size, contents */
  section (id: number, body: Writer): this {
    return this.byte(id).u32(body.length).bytes(body.toBytes())
  }

  get length (): number { return this.len }

  toBytes (): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
const FUNC_VOID = [0x60, 0x00, 0x00] // type () -> ()

export interface ModuleSpec {
  /** number of defined functions (all of type () -> ()); function 0 is exported as _start */
  functions: number
  /** body of function i (without the size prefix): locals declaration + code + end */
  body: (i: number) => Uint8Array | number[]
  /** tables: [element type byte (0x70 funcref, 0x6f externref), initial size] */
  tables?: Array<[number, number]>
  memoryPages?: number
  /** index of a start function (a start section) */
  start?: number
}

export function buildModule (spec: ModuleSpec): Uint8Array {
  const m = new Writer().bytes(HEADER)
  m.section(1, new Writer().u32(1).bytes(FUNC_VOID))
  const funcs = new Writer().u32(spec.functions)
  for (let i = 0; i < spec.functions; i++) funcs.u32(0)
  m.section(3, funcs)
  if (spec.tables !== undefined && spec.tables.length > 0) {
    const t = new Writer().u32(spec.tables.length)
    for (const [ty, size] of spec.tables) t.byte(ty).byte(0x00).u32(size)
    m.section(4, t)
  }
  m.section(5, new Writer().u32(1).byte(0x00).u32(spec.memoryPages ?? 1))
  m.section(7, new Writer().u32(2).name('_start').byte(0x00).u32(0).name('memory').byte(0x02).u32(0))
  if (spec.start !== undefined) m.section(8, new Writer().u32(spec.start))
  const code = new Writer().u32(spec.functions)
  for (let i = 0; i < spec.functions; i++) {
    const b = spec.body(i)
    code.u32(b.length).bytes(b)
  }
  m.section(10, code)
  return m.toBytes()
}

/** `n` functions, each `i32.const 0 drop end` (the 7 MB, 999 999-function module of the issue). */
export function manyFunctions (n: number): Uint8Array {
  const body = [0x00, 0x41, 0x00, 0x1a, 0x0b]
  return buildModule({ functions: n, body: () => body })
}

/** One function with `n` i64 locals that reads the last one. */
export function manyLocals (n: number): Uint8Array {
  const w = new Writer().u32(1).u32(n).byte(0x7e) // one locals group: n × i64
  w.byte(0x20).u32(n - 1).byte(0x1a).byte(0x0b) // local.get n-1, drop, end
  return buildModule({ functions: 1, body: () => w.toBytes() })
}

/** One function of `n` nested empty blocks. */
export function nestedBlocks (n: number): Uint8Array {
  const w = new Writer().u32(0)
  for (let i = 0; i < n; i++) w.byte(0x02).byte(0x40)
  for (let i = 0; i < n; i++) w.byte(0x0b)
  w.byte(0x0b)
  return buildModule({ functions: 1, body: () => w.toBytes() })
}

/** `count` tables of `size` elements of the given type (0x6f externref, 0x70 funcref). */
export function bigTables (count: number, size: number, elem: number): Uint8Array {
  return buildModule({ functions: 1, body: () => [0x00, 0x0b], tables: Array.from({ length: count }, () => [elem, size] as [number, number]) })
}

/** Appends a custom section of `size` zero bytes (a module over the size limit). */
export function padded (base: Uint8Array, size: number): Uint8Array {
  const body = new Writer().name('padding').bytes(new Uint8Array(size))
  return new Writer().bytes(base).section(0, body).toBytes()
}
