/**
 * Binary-level instrumenter: parses a WebAssembly module and rewrites it (no text round trip) to
 *  - meter fuel exactly per wire profile section 7 (see docs/SANDBOX.md),
 *  - cap linear memory by rewriting the declared maximum and flag failed `memory.grow`s.
 *
 * Fuel design: a mutable i64 global `__mesh_fuel` holds the *remaining* fuel. Each function copies it
 * into an extra local on entry, charges every straight-line run on entry to that local (when it goes
 * negative: writes it back and executes `unreachable`) and writes it back before calls, `return`, `unreachable` and at the end.
 * After a call the local is reloaded from the global.
 */
import { InvalidModuleError, MemoryLimitError } from './errors.js'
import {
  Reader, Writer, SECTION, SECTION_ORDER, fail, splitSections, encodeSection, readFuncType, writeFuncType,
  readLimits, type FuncType, type Limits, type RawSection
} from './wasm-binary.js'

export const FUEL_EXPORT = '__mesh_fuel'
export const MEMHIT_EXPORT = '__mesh_memhit'
export const WASM_PAGE = 65536

export interface ImportEntry { module: string, name: string, kind: number, type?: FuncType }
export interface ExportEntry { name: string, kind: number, index: number }

export interface ModuleInfo {
  imports: ImportEntry[]
  exports: ExportEntry[]
  /** Defined (not imported) memories. */
  memories: Limits[]
  hasStart: boolean
  definedFunctions: number
}

interface Parsed {
  sections: RawSection[]
  info: ModuleInfo
  types: FuncType[]
  importedFuncs: number
  importedGlobals: number
  funcTypeIdx: number[]
}

function parse (bytes: Uint8Array): Parsed {
  const sections = splitSections(bytes)
  const types: FuncType[] = []
  const imports: ImportEntry[] = []
  const exports: ExportEntry[] = []
  const memories: Limits[] = []
  const funcTypeIdx: number[] = []
  let importedFuncs = 0
  let importedGlobals = 0
  let hasStart = false
  let lastRank = -1
  for (const s of sections) {
    if (s.id !== SECTION.custom) {
      const rank = SECTION_ORDER.indexOf(s.id)
      if (rank < 0) fail(`unknown section id ${s.id}`)
      if (rank <= lastRank) fail(`section ${s.id} out of order or duplicated`)
      lastRank = rank
    }
    const r = new Reader(s.body)
    switch (s.id) {
      case SECTION.type: {
        const n = r.u32()
        for (let i = 0; i < n; i++) types.push(readFuncType(r))
        break
      }
      case SECTION.import: {
        const n = r.u32()
        for (let i = 0; i < n; i++) {
          const module = r.name()
          const name = r.name()
          const kind = r.u8()
          if (kind === 0) {
            const ti = r.u32()
            const t = types[ti]
            if (t === undefined) fail(`import ${module}.${name}: bad type index`)
            imports.push({ module, name, kind, type: t })
            importedFuncs++
          } else {
            imports.push({ module, name, kind })
            if (kind === 1) { r.u8(); readLimits(r) } else if (kind === 2) readLimits(r)
            else if (kind === 3) { r.valtype(); r.u8(); importedGlobals++ } else if (kind === 4) { r.u8(); r.u32() } else fail(`bad import kind ${kind}`)
          }
        }
        break
      }
      case SECTION.function: {
        const n = r.u32()
        for (let i = 0; i < n; i++) {
          const ti = r.u32()
          if (ti >= types.length) fail('function with a bad type index')
          funcTypeIdx.push(ti)
        }
        break
      }
      case SECTION.memory: {
        const n = r.u32()
        for (let i = 0; i < n; i++) memories.push(readLimits(r))
        break
      }
      case SECTION.export: {
        const n = r.u32()
        for (let i = 0; i < n; i++) exports.push({ name: r.name(), kind: r.u8(), index: r.u32() })
        break
      }
      case SECTION.start: hasStart = true; break
      default: break
    }
  }
  return {
    sections,
    info: { imports, exports, memories, hasStart, definedFunctions: funcTypeIdx.length },
    types,
    importedFuncs,
    importedGlobals,
    funcTypeIdx
  }
}

/** Parses the module's import/export/memory structure (throws InvalidModuleError on malformed bytes). */
export function inspectModule (bytes: Uint8Array): ModuleInfo {
  return parse(bytes).info
}

// Instruction classes.
const K_PLAIN = 0 // counts 1, no control effect
const K_STRUCT = 1 // block, loop, else, end: count 0 and split runs (run ends before; a new one starts after)
const K_NOP = 2 // counts 0, does not split
const K_TERM = 3 // if, br, br_if, br_table: counts 1 and ends the run
const K_CALL = 4 // call, call_indirect: counts 1, ends the run, needs sync before and reload after
const K_RETURN = 5 // return, return_call*, unreachable: counts 1, ends the run, needs sync before
const K_GROW = 6 // memory.grow: counts 1, replaced by a call to the grow helper

function skipMemarg (r: Reader): void {
  const align = r.u32()
  if ((align & 0x40) !== 0) r.u32() // multi-memory index
  r.u32()
}

/** Decodes one instruction's opcode and immediates, returning its class. */
function decodeInstr (r: Reader): number {
  const op = r.u8()
  switch (op) {
    case 0x00: return K_RETURN // unreachable (sync before so abort() reports exact fuel)
    case 0x01: return K_NOP
    case 0x02: case 0x03: r.s33(); return K_STRUCT
    case 0x04: r.s33(); return K_TERM
    case 0x05: case 0x0b: return K_STRUCT
    case 0x0c: case 0x0d: r.u32(); return K_TERM
    case 0x0e: { const n = r.u32(); for (let i = 0; i <= n; i++) r.u32(); return K_TERM }
    case 0x0f: return K_RETURN
    case 0x10: r.u32(); return K_CALL
    case 0x11: r.u32(); r.u32(); return K_CALL
    case 0x12: r.u32(); return K_RETURN
    case 0x13: r.u32(); r.u32(); return K_RETURN
    case 0x1a: case 0x1b: return K_PLAIN
    case 0x1c: { const n = r.u32(); for (let i = 0; i < n; i++) r.valtype(); return K_PLAIN }
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: r.u32(); return K_PLAIN
    case 0x3f: r.u32(); return K_PLAIN
    case 0x40: if (r.u32() !== 0) fail('multi-memory is not supported'); return K_GROW
    case 0x41: r.skipSleb(32); return K_PLAIN
    case 0x42: r.skipSleb(64); return K_PLAIN
    case 0x43: r.skip(4); return K_PLAIN
    case 0x44: r.skip(8); return K_PLAIN
    case 0xd0: r.u8(); return K_PLAIN
    case 0xd1: return K_PLAIN
    case 0xd2: r.u32(); return K_PLAIN
    case 0xfc: {
      const sub = r.u32()
      if (sub <= 7) return K_PLAIN
      switch (sub) {
        case 8: r.u32(); r.u32(); return K_PLAIN // memory.init data mem
        case 9: case 13: case 15: case 16: case 17: r.u32(); return K_PLAIN
        case 10: case 12: case 14: r.u32(); r.u32(); return K_PLAIN
        case 11: r.u32(); return K_PLAIN
        default: return fail(`unsupported instruction 0xfc ${sub}`)
      }
    }
    case 0xfd: {
      const sub = r.u32()
      if (sub <= 11 || sub === 92 || sub === 93) skipMemarg(r)
      else if (sub === 12 || sub === 13) r.skip(16)
      else if (sub >= 21 && sub <= 34) r.u8()
      else if (sub >= 84 && sub <= 91) { skipMemarg(r); r.u8() }
      return K_PLAIN
    }
    default:
      if (op >= 0x28 && op <= 0x3e) { skipMemarg(r); return K_PLAIN }
      if (op >= 0x45 && op <= 0xc4) return K_PLAIN
      return fail(`unsupported instruction opcode 0x${op.toString(16)}`)
  }
}

export interface InstrumentOptions {
  /** Memory cap in bytes (rounded down to whole 64 KiB pages). */
  memoryLimitBytes: number
}

export interface InstrumentResult {
  bytes: Uint8Array
  info: ModuleInfo
}

function sectionBody (sections: RawSection[], id: number): Uint8Array | undefined {
  return sections.find((s) => s.id === id)?.body
}

/** Replaces (or inserts in canonical order) a section. */
function putSection (sections: RawSection[], id: number, body: Uint8Array): void {
  const existing = sections.find((s) => s.id === id)
  if (existing !== undefined) { existing.body = body; return }
  const rank = SECTION_ORDER.indexOf(id)
  let at = sections.length
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i] as RawSection
    if (s.id !== SECTION.custom && SECTION_ORDER.indexOf(s.id) > rank) { at = i; break }
  }
  sections.splice(at, 0, { id, body })
}

/** Copies a vector section's entries and appends new raw entries, updating the count. */
function appendToVector (body: Uint8Array | undefined, extra: Uint8Array[]): { body: Uint8Array, oldCount: number } {
  let count = 0
  let rest: Uint8Array = new Uint8Array(0)
  if (body !== undefined) {
    const r = new Reader(body)
    count = r.u32()
    rest = body.subarray(r.pos)
  }
  const w = new Writer().u32(count + extra.length).bytes(rest)
  for (const e of extra) w.bytes(e)
  return { body: w.toBytes(), oldCount: count }
}

export function instrumentModule (bytes: Uint8Array, opts: InstrumentOptions): InstrumentResult {
  const p = parse(bytes)
  const { sections, types, info } = p
  if (info.hasStart) throw new InvalidModuleError('modules with a start section are not accepted (a WASI command runs from _start)')
  for (const name of [FUEL_EXPORT, MEMHIT_EXPORT]) {
    if (info.exports.some((e) => e.name === name)) throw new InvalidModuleError(`export name ${name} is reserved`)
  }

  // --- types: helper types and wrapper block types for multi-result functions
  const newTypes: FuncType[] = []
  const addType = (t: FuncType): number => { newTypes.push(t); return types.length + newTypes.length - 1 }
  const growType = addType({ params: [0x7f], results: [0x7f] })
  const multiResultBlockType = new Map<string, number>()

  // --- globals: remaining fuel (i64) and memory-grow-failed flag (i32)
  const globalBody = sectionBody(sections, SECTION.global)
  const definedGlobals = globalBody === undefined ? 0 : new Reader(globalBody).u32()
  const fuelGlobal = p.importedGlobals + definedGlobals
  const memhitGlobal = fuelGlobal + 1
  putSection(sections, SECTION.global, appendToVector(globalBody, [
    Uint8Array.of(0x7e, 0x01, 0x42, 0x00, 0x0b),
    Uint8Array.of(0x7f, 0x01, 0x41, 0x00, 0x0b)
  ]).body)

  // --- helper function appended after all defined functions
  const growFunc = p.importedFuncs + p.funcTypeIdx.length

  // --- memory cap
  const capPages = Math.floor(opts.memoryLimitBytes / WASM_PAGE)
  if (info.memories.length > 1) throw new InvalidModuleError('multiple memories are not supported')
  const mem = info.memories[0]
  if (mem !== undefined) {
    if ((mem.flags & 2) !== 0) throw new InvalidModuleError('shared memory is not supported')
    if (mem.min > capPages) throw new MemoryLimitError(`initial memory ${mem.min * WASM_PAGE} bytes exceeds the cap ${capPages * WASM_PAGE}`)
    const max = Math.min(mem.max ?? capPages, capPages)
    putSection(sections, SECTION.memory, new Writer().u32(1).byte(1).u32(mem.min).u32(max).toBytes())
  }

  // --- code
  const codeBody = sectionBody(sections, SECTION.code)
  const out = new Writer()
  if (codeBody !== undefined) {
    const r = new Reader(codeBody)
    const n = r.u32()
    if (n !== p.funcTypeIdx.length) fail('function and code section counts differ')
    out.u32(n + 1)
    for (let i = 0; i < n; i++) {
      const size = r.u32()
      const end = r.pos + size
      const fnType = types[p.funcTypeIdx[i] as number] as FuncType
      let blockType: Uint8Array
      if (fnType.results.length === 0) blockType = Uint8Array.of(0x40)
      else if (fnType.results.length === 1) blockType = Uint8Array.of(fnType.results[0] as number)
      else {
        const key = fnType.results.join(',')
        let ti = multiResultBlockType.get(key)
        if (ti === undefined) { ti = addType({ params: [], results: fnType.results }); multiResultBlockType.set(key, ti) }
        blockType = new Writer().s64(BigInt(ti)).toBytes()
      }
      const body = rewriteBody(codeBody, r.pos, end, fnType.params.length, {
        fuelGlobal, memhitGlobal, growFunc, blockType
      })
      out.u32(body.length).bytes(body)
      r.pos = end
    }
  } else {
    out.u32(1)
  }
  const growBody = Uint8Array.of(0x00, 0x20, 0x00, 0x40, 0x00, 0x22, 0x00, 0x41, 0x7f, 0x46, 0x04, 0x40, 0x41, 0x01,
    0x24, ...u32(memhitGlobal), 0x0b, 0x20, 0x00, 0x0b)
  out.u32(growBody.length).bytes(growBody)
  putSection(sections, SECTION.code, out.toBytes())

  putSection(sections, SECTION.function, appendToVector(sectionBody(sections, SECTION.function), [u32(growType)]).body)
  putSection(sections, SECTION.type, appendToVector(sectionBody(sections, SECTION.type), newTypes.map((t) => {
    const w = new Writer()
    writeFuncType(w, t)
    return w.toBytes()
  })).body)
  putSection(sections, SECTION.export, appendToVector(sectionBody(sections, SECTION.export), [
    new Writer().name(FUEL_EXPORT).byte(3).u32(fuelGlobal).toBytes(),
    new Writer().name(MEMHIT_EXPORT).byte(3).u32(memhitGlobal).toBytes()
  ]).body)

  const w = new Writer().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])
  for (const s of sections) w.bytes(encodeSection(s.id, s.body))
  return { bytes: w.toBytes(), info }
}

function u32 (v: number): Uint8Array {
  return new Writer().u32(v).toBytes()
}

interface RewriteCtx {
  fuelGlobal: number
  memhitGlobal: number
  growFunc: number
  blockType: Uint8Array
}

/** Rewrites one function body (locals + instructions) with fuel accounting. */
export function rewriteBody (buf: Uint8Array, start: number, end: number, nParams: number, ctx: RewriteCtx): Uint8Array {
  const r = new Reader(buf, start, end)
  // locals
  const nGroups = r.u32()
  let nLocals = nParams
  const groups: Array<[number, number]> = []
  for (let i = 0; i < nGroups; i++) {
    const c = r.u32()
    const t = r.valtype()
    groups.push([c, t])
    nLocals += c
  }
  if (nLocals > 50000) fail('too many locals')
  const L = nLocals
  // decode instructions
  const starts: number[] = []
  const kinds: number[] = []
  while (!r.done) {
    starts.push(r.pos)
    kinds.push(decodeInstr(r))
  }
  const nInstr = kinds.length
  starts.push(end)
  if (nInstr === 0 || kinds[nInstr - 1] !== K_STRUCT || buf[end - 1] !== 0x0b) fail('function body does not end with end')

  // runs: charge[i] = cost of the run that starts at instruction i
  const charge = new Float64Array(nInstr + 1)
  let runStart = 0
  let acc = 0
  for (let i = 0; i < nInstr; i++) {
    const k = kinds[i] as number
    if (k === K_STRUCT) {
      charge[runStart] = acc
      acc = 0
      runStart = i + 1
    } else if (k === K_NOP) {
      // free
    } else if (k === K_PLAIN || k === K_GROW) {
      acc++
    } else {
      acc++
      charge[runStart] = acc
      acc = 0
      runStart = i + 1
    }
  }
  charge[runStart] = acc

  const F = u32(ctx.fuelGlobal)
  const Lb = u32(L)
  const GROW = u32(ctx.growFunc)
  const w = new Writer()
  w.u32(groups.length + 1)
  for (const [c, t] of groups) w.u32(c).byte(t)
  w.u32(1).byte(0x7e)

  // tail of a charge: ... i64.const c; i64.sub; local.tee L; i64.const 0; i64.lt_s; if; local.get L; global.set F; unreachable; end
  // (the cold path is inline: a call there makes V8 spill loop registers and costs ~20%)
  const chargeTail = (c: number): void => {
    w.byte(0x42).s64(BigInt(c)).byte(0x7d).byte(0x22).bytes(Lb).byte(0x42).byte(0x00).byte(0x53)
      .byte(0x04).byte(0x40).byte(0x20).bytes(Lb).byte(0x24).bytes(F).byte(0x00).byte(0x0b)
  }
  const sync = (): void => { w.byte(0x20).bytes(Lb).byte(0x24).bytes(F) }

  // prologue: L = fuel global; block (function results)
  w.byte(0x23).bytes(F).byte(0x21).bytes(Lb)
  w.byte(0x02).bytes(ctx.blockType)
  for (let i = 0; i < nInstr; i++) {
    const k = kinds[i] as number
    const c = charge[i] as number
    if (c > 0 && !(i > 0 && kinds[i - 1] === K_CALL)) {
      w.byte(0x20).bytes(Lb)
      chargeTail(c)
    }
    const instr = buf.subarray(starts[i] as number, starts[i + 1] as number)
    if (i === nInstr - 1) {
      // the function's own end: close the wrapper block, write fuel back, end
      w.byte(0x0b)
      sync()
      w.byte(0x0b)
      break
    }
    switch (k) {
      case K_CALL: {
        sync()
        w.bytes(instr)
        const next = charge[i + 1] as number
        w.byte(0x23).bytes(F)
        if (next > 0) chargeTail(next)
        else w.byte(0x21).bytes(Lb)
        break
      }
      case K_RETURN:
        sync()
        w.bytes(instr)
        break
      case K_GROW:
        w.byte(0x10).bytes(GROW)
        break
      default:
        w.bytes(instr)
    }
  }
  return w.toBytes()
}

/** Static fuel per straight-line run — exported for tests/debugging: total counted instructions of a body. */
export function countInstructions (bytes: Uint8Array): number {
  const p = parse(bytes)
  const codeBody = sectionBody(p.sections, SECTION.code)
  if (codeBody === undefined) return 0
  const r = new Reader(codeBody)
  const n = r.u32()
  let total = 0
  for (let i = 0; i < n; i++) {
    const size = r.u32()
    const end = r.pos + size
    const br = new Reader(codeBody, r.pos, end)
    const g = br.u32()
    for (let j = 0; j < g; j++) { br.u32(); br.valtype() }
    while (!br.done) {
      const k = decodeInstr(br)
      if (k !== K_STRUCT && k !== K_NOP) total++
    }
    r.pos = end
  }
  return total
}
