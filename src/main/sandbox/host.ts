/**
 * Sandbox host process entry (forked by index.ts). Checks and instruments modules, compiles them
 * (cached), and runs each job in a fresh worker_thread taken from a warm spare. Enforces the
 * wall-clock timeout and cancellation by terminating the worker.
 */
import { Worker } from 'node:worker_threads'
import { createHash } from 'node:crypto'
import { checkModule } from './check.js'
import { WA, type WasmModule } from './wasm-api.js'
import { instrumentModule } from './instrument.js'
import { InvalidModuleError, MemoryLimitError } from './errors.js'
import type { AppToHost, HostResult, HostRunRequest, HostToApp, WorkerMessage, WorkerStart } from './messages.js'

const isTs = import.meta.url.endsWith('.ts')
const workerUrl = new URL(`./worker${isTs ? '.ts' : '.js'}`, import.meta.url)
/**
 * From compiled output the worker is worker.js. Under tsx (tests, dev) loading tsx in every worker costs
 * ~300 ms, so the host bundles worker.ts once with esbuild (a tsx dependency) and evaluates that.
 */
let workerSource: URL | string = workerUrl
if (isTs) {
  const esbuild = await import('esbuild')
  const out = esbuild.buildSync({
    entryPoints: [workerUrl.pathname], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false
  })
  workerSource = out.outputFiles[0]?.text ?? ''
}
const STDIN_CHUNK = 64 * 1024

function send (m: HostToApp): void {
  if (process.send !== undefined && process.connected) process.send(m)
}

// ---------------------------------------------------------------- workers
let spare: Worker | undefined

function newWorker (): Worker {
  const w = new Worker(workerSource, {
    eval: isTs,
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    stdout: true,
    stderr: true
  })
  w.on('error', () => { /* handled by the job owning it, if any */ })
  // A spare that dies before it is used is simply dropped.
  w.once('exit', () => { if (spare === w) spare = undefined })
  w.unref()
  return w
}

function takeWorker (): Worker {
  const w = spare ?? newWorker()
  spare = newWorker()
  return w
}

// ---------------------------------------------------------------- module cache
interface Compiled { module: WasmModule }
const cache = new Map<string, Promise<Compiled>>()
const CACHE_MAX = 32

function compile (req: HostRunRequest): Promise<Compiled> {
  const key = createHash('sha256').update(req.module).digest('hex') + ':' + req.memoryLimitBytes + ':' + req.maxModuleBytes
  const hit = cache.get(key)
  if (hit !== undefined) {
    cache.delete(key)
    cache.set(key, hit)
    return hit
  }
  const p = (async (): Promise<Compiled> => {
    checkModule(req.module, { maxModuleBytes: req.maxModuleBytes })
    const inst = instrumentModule(req.module, { memoryLimitBytes: req.memoryLimitBytes })
    return { module: await WA.compile(inst.bytes) }
  })()
  cache.set(key, p)
  p.catch(() => cache.delete(key))
  while (cache.size > CACHE_MAX) {
    const first = cache.keys().next().value
    if (first === undefined) break
    cache.delete(first)
  }
  return p
}

// ---------------------------------------------------------------- jobs
interface Job {
  req: HostRunRequest
  received: number
  worker?: Worker
  ctrl: Int32Array
  data: Uint8Array
  progress: BigInt64Array
  queue: Uint8Array[]
  ended: boolean
  eofSent: boolean
  finished: boolean
  startedAt?: number
  cancelled: boolean
  timer?: NodeJS.Timeout
  progressTimer?: NodeJS.Timeout
  lastProgress: bigint
}

const jobs = new Map<number, Job>()

function fuelSoFar (job: Job): bigint {
  const used = job.req.maxFuel - job.progress[0]!
  return used < 0n ? job.req.maxFuel : used
}

function finish (job: Job, r: Omit<HostResult, 'wall_ms' | 'started_at'>): void {
  if (job.finished) return
  job.finished = true
  clearTimeout(job.timer)
  clearInterval(job.progressTimer)
  jobs.delete(job.req.id)
  if (job.worker !== undefined) void job.worker.terminate()
  const now = performance.now()
  const result: HostResult = { ...r, wall_ms: now - job.received }
  if (job.startedAt !== undefined) result.started_at = job.startedAt
  send({ type: 'result', id: job.req.id, result })
}

function failEarly (job: Job, reason: 'InvalidModule' | 'MemoryLimit' | 'InternalError' | 'Timeout' | 'Cancelled', detail: string): void {
  finish(job, {
    status: reason === 'Cancelled' ? 'Cancelled' : 'Failed',
    ...(reason === 'Cancelled' ? {} : { failure_reason: reason }),
    detail,
    fuel_used: job.worker === undefined ? 0n : fuelSoFar(job),
    peak_memory_bytes: 0,
    output_bytes: 0,
    output: new Uint8Array(0)
  })
}

function pump (job: Job): void {
  if (job.finished || job.worker === undefined) return
  if (Atomics.load(job.ctrl, 0) !== 0) return
  if (job.queue.length > 0) {
    let n = 0
    while (n < STDIN_CHUNK && job.queue.length > 0) {
      const head = job.queue[0]!
      const take = Math.min(head.length, STDIN_CHUNK - n)
      job.data.set(head.subarray(0, take), n)
      n += take
      if (take === head.length) job.queue.shift()
      else job.queue[0] = head.subarray(take)
    }
    Atomics.store(job.ctrl, 0, n)
  } else if (job.ended && !job.eofSent) {
    job.eofSent = true
    Atomics.store(job.ctrl, 1, 1)
  } else {
    return
  }
  Atomics.add(job.ctrl, 3, 1)
  Atomics.notify(job.ctrl, 3)
}

async function startJob (req: HostRunRequest): Promise<void> {
  const job: Job = {
    req,
    received: performance.now(),
    ctrl: new Int32Array(new SharedArrayBuffer(16)),
    data: new Uint8Array(new SharedArrayBuffer(STDIN_CHUNK)),
    progress: new BigInt64Array(new SharedArrayBuffer(8)),
    queue: [],
    ended: !req.interactive,
    eofSent: false,
    finished: false,
    cancelled: false,
    lastProgress: -1n
  }
  job.progress[0] = req.maxFuel
  jobs.set(req.id, job)
  job.timer = setTimeout(() => {
    failEarly(job, 'Timeout', `wall-clock limit of ${req.timeoutMs} ms reached`)
  }, req.timeoutMs)

  let compiled: Compiled
  try {
    compiled = await compile(req)
  } catch (e) {
    if (e instanceof InvalidModuleError) failEarly(job, 'InvalidModule', e.message)
    else if (e instanceof MemoryLimitError) failEarly(job, 'MemoryLimit', e.message)
    else failEarly(job, 'InternalError', e instanceof Error ? e.message : String(e))
    return
  }
  if (job.finished) return

  const worker = takeWorker()
  job.worker = worker
  worker.on('message', (m: WorkerMessage) => onWorkerMessage(job, m))
  worker.on('error', (e) => failEarly(job, 'InternalError', `worker error: ${e.message}`))
  worker.on('exit', () => failEarly(job, 'InternalError', 'worker exited unexpectedly'))
  if (req.progressIntervalMs > 0) {
    job.progressTimer = setInterval(() => {
      const f = fuelSoFar(job)
      if (f !== job.lastProgress) {
        job.lastProgress = f
        send({ type: 'progress', id: req.id, fuel: f })
      }
    }, req.progressIntervalMs)
  }
  const start: WorkerStart = {
    type: 'start',
    module: compiled.module,
    maxFuel: req.maxFuel,
    input: req.input,
    inputEnded: !req.interactive,
    interactive: req.interactive,
    stdinCtrl: job.ctrl.buffer as SharedArrayBuffer,
    stdinData: job.data.buffer as SharedArrayBuffer,
    progress: job.progress.buffer as SharedArrayBuffer,
    outputLimitBytes: req.outputLimitBytes,
    stderrLimitBytes: req.stderrLimitBytes
  }
  worker.postMessage(start)
  pump(job)
}

function onWorkerMessage (job: Job, m: WorkerMessage): void {
  if (job.finished) return
  const id = job.req.id
  switch (m.type) {
    case 'started': job.startedAt = m.at; break
    case 'stdout': send({ type: 'stdout', id, data: m.data }); break
    case 'stderr': send({ type: 'stderr', id, data: m.data }); break
    case 'stdin-taken':
      send({ type: 'stdin-ack', id, bytes: m.bytes })
      pump(job)
      break
    case 'done': {
      const max = job.req.maxFuel
      const base = { peak_memory_bytes: m.peakMemoryBytes, output_bytes: m.outputBytes, output: m.output }
      const used = max - m.fuelRemaining
      const o = m.outcome
      if (o.kind === 'exit' && o.code === 0) {
        finish(job, { status: 'CompletedSuccessfully', fuel_used: used, ...base, exit_code: 0 })
      } else if (o.kind === 'fuel') {
        finish(job, { status: 'Failed', failure_reason: 'FuelExhausted', detail: `fuel limit ${max} exhausted`, fuel_used: max, ...base })
      } else if (o.kind === 'output-limit') {
        finish(job, { status: 'Failed', failure_reason: 'OutputLimit', detail: o.message, fuel_used: used, ...base })
      } else if (o.kind === 'internal') {
        finish(job, { status: 'Failed', failure_reason: 'InternalError', detail: o.message, fuel_used: used, ...base })
      } else {
        const detail = o.kind === 'exit' ? `exited with code ${o.code}` : o.message
        finish(job, {
          status: 'Failed',
          failure_reason: m.memhit ? 'MemoryLimit' : 'Trap',
          detail: m.memhit ? `memory limit ${job.req.memoryLimitBytes} bytes reached; ${detail}` : detail,
          fuel_used: used,
          ...base,
          ...(o.kind === 'exit' ? { exit_code: o.code } : {})
        })
      }
      break
    }
  }
}

process.on('message', (m: AppToHost) => {
  switch (m.type) {
    case 'run': void startJob(m); break
    case 'stdin': {
      const job = jobs.get(m.id)
      if (job === undefined || job.ended) return
      job.queue.push(m.data)
      pump(job)
      break
    }
    case 'stdin-end': {
      const job = jobs.get(m.id)
      if (job === undefined) return
      job.ended = true
      pump(job)
      break
    }
    case 'cancel': {
      const job = jobs.get(m.id)
      if (job !== undefined) failEarly(job, 'Cancelled', 'cancelled on request')
      break
    }
  }
})
process.on('disconnect', () => process.exit(0))

spare = newWorker()
send({ type: 'ready' })
