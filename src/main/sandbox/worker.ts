/**
 * Job worker (worker_thread inside the sandbox host): waits for one `start` message, instantiates the
 * instrumented module with our WASI, runs `_start`, reports `done`. One worker per job; the host
 * terminates it afterwards.
 */
import { parentPort } from 'node:worker_threads'
import { createWasiImports, JobStop, ProcExit } from './wasi.js'
import { FUEL_EXPORT, MEMHIT_EXPORT } from './instrument.js'
import { WA, type WasmGlobal, type WasmInstance, type WasmMemory } from './wasm-api.js'
import type { WorkerMessage, WorkerOutcome, WorkerStart } from './messages.js'

const port = parentPort
if (port === null) throw new Error('worker.ts must run as a worker thread')

function post (m: WorkerMessage, transfer?: ArrayBuffer[]): void {
  (port as NonNullable<typeof parentPort>).postMessage(m, transfer ?? [])
}

function concat (chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let off = 0
  for (const c of chunks) { out.set(c, off); off += c.length }
  return out
}

function run (job: WorkerStart): void {
  const ctrl = new Int32Array(job.stdinCtrl)
  const stdinData = new Uint8Array(job.stdinData)
  const progress = new BigInt64Array(job.progress)
  const sleeper = new Int32Array(new SharedArrayBuffer(4))
  let pending = job.input
  let pendingOff = 0
  let eof = job.inputEnded
  const outChunks: Uint8Array[] = []
  let outputBytes = 0
  let stderrBytes = 0
  let memory: WasmMemory | undefined
  let fuel: WasmGlobal | undefined

  const imports = createWasiImports({
    readStdin (max) {
      for (;;) {
        if (pendingOff < pending.length) {
          const n = Math.min(max, pending.length - pendingOff)
          const chunk = pending.subarray(pendingOff, pendingOff + n)
          pendingOff += n
          return chunk
        }
        if (eof) return null
        // interactive: wait for the host to fill the shared buffer
        const gen = Atomics.load(ctrl, 3)
        const avail = Atomics.load(ctrl, 0)
        if (avail > 0) {
          pending = stdinData.slice(0, avail)
          pendingOff = 0
          Atomics.store(ctrl, 0, 0)
          post({ type: 'stdin-taken', bytes: avail })
          continue
        }
        if (Atomics.load(ctrl, 1) !== 0) { eof = true; continue }
        Atomics.wait(ctrl, 3, gen)
      }
    },
    writeStdout (data) {
      if (outputBytes + data.length > job.outputLimitBytes) {
        throw new JobStop('OutputLimit', `stdout exceeded ${job.outputLimitBytes} bytes`)
      }
      outputBytes += data.length
      if (job.interactive) post({ type: 'stdout', data: data.slice() })
      else outChunks.push(data.slice())
    },
    writeStderr (data) {
      const room = job.stderrLimitBytes - stderrBytes
      if (room <= 0) return
      const part = data.subarray(0, room).slice()
      stderrBytes += part.length
      post({ type: 'stderr', data: part })
    },
    onCall () {
      if (fuel !== undefined) progress[0] = fuel.value as bigint
    },
    sleep (ms) {
      Atomics.wait(sleeper, 0, 0, Math.max(0, ms))
    }
  }, () => memory as WasmMemory)

  let outcome: WorkerOutcome
  let instance: WasmInstance | undefined
  try {
    instance = new WA.Instance(job.module, { wasi_snapshot_preview1: imports })
    memory = instance.exports.memory as WasmMemory
    fuel = instance.exports[FUEL_EXPORT] as WasmGlobal
    fuel.value = job.maxFuel
    progress[0] = job.maxFuel
    const start = instance.exports._start as () => void
    post({ type: 'started', at: performance.timeOrigin + performance.now() })
    start()
    outcome = { kind: 'exit', code: 0 }
  } catch (e) {
    if (e instanceof ProcExit) outcome = { kind: 'exit', code: e.code }
    else if (e instanceof JobStop) outcome = { kind: 'output-limit', message: e.detail }
    else if (fuel !== undefined && (fuel.value as bigint) < 0n) outcome = { kind: 'fuel' }
    else if (e instanceof WA.RuntimeError || e instanceof RangeError) outcome = { kind: 'trap', message: e.message }
    else if (e instanceof WA.LinkError || e instanceof WA.CompileError) outcome = { kind: 'trap', message: e.message }
    else outcome = { kind: 'internal', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }
  }
  const fuelRemaining = fuel === undefined ? job.maxFuel : fuel.value as bigint
  const memhitGlobal = instance?.exports[MEMHIT_EXPORT] as WasmGlobal | undefined
  const output = concat(outChunks, job.interactive ? 0 : outputBytes)
  post({
    type: 'done',
    outcome,
    fuelRemaining,
    memhit: memhitGlobal !== undefined && memhitGlobal.value !== 0,
    peakMemoryBytes: memory?.buffer.byteLength ?? 0,
    outputBytes,
    output
  }, [output.buffer as ArrayBuffer])
}

port.once('message', (m: WorkerStart) => run(m))
