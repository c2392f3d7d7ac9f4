/**
 * Runs a compiled module synchronously in the calling thread with our WASI and batch stdin — no
 * isolation, no timeout. For benchmarks and instrumenter tests only; jobs go through createSandbox().
 */
import { createWasiImports, JobStop, ProcExit } from './wasi.js'
import { FUEL_EXPORT, MEMHIT_EXPORT } from './instrument.js'
import { WA, type WasmGlobal, type WasmMemory, type WasmModule } from './wasm-api.js'

export interface InlineResult {
  /** proc_exit code, 0 if `_start` returned, undefined if it trapped. */
  exitCode?: number
  trap?: string
  /** Only for instrumented modules run with `maxFuel`. */
  fuelUsed?: bigint
  fuelExhausted: boolean
  memhit: boolean
  output: Uint8Array
  stderr: Uint8Array
  ms: number
}

function concat (chunks: Uint8Array[]): Uint8Array {
  let n = 0
  for (const c of chunks) n += c.length
  const out = new Uint8Array(n)
  let off = 0
  for (const c of chunks) { out.set(c, off); off += c.length }
  return out
}

/** `maxFuel` must be given for instrumented modules and omitted for plain ones. */
export function runInline (module: WasmModule, input: Uint8Array, maxFuel?: bigint): InlineResult {
  const ref: { memory?: WasmMemory } = {}
  let off = 0
  const out: Uint8Array[] = []
  const err: Uint8Array[] = []
  const imports = createWasiImports({
    readStdin (max) {
      if (off >= input.length) return null
      const c = input.subarray(off, Math.min(input.length, off + max))
      off += c.length
      return c
    },
    writeStdout (d) { out.push(d.slice()) },
    writeStderr (d) { err.push(d.slice()) },
    sleep () {}
  }, () => ref.memory as WasmMemory)
  const inst = new WA.Instance(module, { wasi_snapshot_preview1: imports })
  ref.memory = inst.exports.memory as WasmMemory
  const fuel = inst.exports[FUEL_EXPORT] as WasmGlobal | undefined
  if (maxFuel !== undefined) {
    if (fuel === undefined) throw new Error('module is not instrumented')
    fuel.value = maxFuel
  }
  const t0 = performance.now()
  let exitCode: number | undefined
  let trap: string | undefined
  try {
    (inst.exports._start as () => void)()
    exitCode = 0
  } catch (e) {
    if (e instanceof ProcExit) exitCode = e.code
    else if (e instanceof JobStop) trap = e.detail
    else if (e instanceof WA.RuntimeError || e instanceof RangeError) trap = e.message
    else throw e
  }
  const ms = performance.now() - t0
  const remaining = maxFuel === undefined ? undefined : fuel?.value as bigint
  const memhit = inst.exports[MEMHIT_EXPORT] as WasmGlobal | undefined
  return {
    ...(exitCode === undefined ? {} : { exitCode }),
    ...(trap === undefined ? {} : { trap }),
    ...(remaining === undefined || maxFuel === undefined ? {} : { fuelUsed: remaining < 0n ? maxFuel : maxFuel - remaining }),
    fuelExhausted: remaining !== undefined && remaining < 0n,
    memhit: memhit !== undefined && memhit.value !== 0,
    output: concat(out),
    stderr: concat(err),
    ms
  }
}
