/**
 * One job's exchange with the host process it was given: send the RUN request, turn the host's
 * frames into the job's callbacks and its result, and stop a host that does not end the job itself
 * (a CANCEL it does not honour, a deadline it overstays). The result promise always settles, once,
 * and the process is dead or dying when it does.
 */
import type { HostProcess } from './host-pool.js'
import {
  T_CANCEL, T_PROGRESS, T_RESULT, T_STARTED, T_STDERR, T_STDIN_ACK, T_STDOUT, encodeRun, frame,
  type HostResultJson, type RunRequest
} from './protocol.js'
import { concat, exitResult, resultFromHost, type KilledFor } from './results.js'
import type { SandboxJob, SandboxResult } from './types.js'

/** A CANCEL not honoured within this is answered with SIGKILL. */
const CANCEL_KILL_MS = 2000

/** What the interactive handle listens to. */
export interface JobHooks {
  onStdout?: (c: Uint8Array) => void
  /** bytes of stdin the guest consumed (STDIN_ACK) */
  onAck?: (n: number) => void
}

/** A job handed to its host process. */
export interface Started {
  hp: HostProcess
  result: Promise<SandboxResult>
}

export interface JobRun {
  job: SandboxJob
  hooks: JobHooks
  request: RunRequest
  /** process.hrtime.bigint() when run()/runInteractive() was called, for `start_ms` */
  requestedAt: bigint
}

/** What the sandbox shares with each of its job runs. */
export interface JobRunEnv {
  /** extra time after `timeoutMs` before the app kills an unresponsive host */
  graceMs: number
  /** the jobs being run, each with its finisher: close() settles them, jobPids() lists them */
  running: Map<HostProcess, (r: SandboxResult) => void>
  /** the job's first instruction ran (its host is busy: time to start another spare) */
  onStarted: () => void
  /** the host compiled a module rather than loading it: the cache may have grown */
  onCompiled: () => void
}

/** What the app learns of the job while it runs. */
interface RunState {
  stdout: Uint8Array[]
  lastFuel: bigint
  startMs?: number
  hostResult?: HostResultJson
  killedFor?: KilledFor
}

/** Runs one job on `hp` (fresh from the pool); `env.running` holds it until its result is settled. */
export function runOnHost (hp: HostProcess, run: JobRun, env: JobRunEnv): Promise<SandboxResult> {
  return new Promise<SandboxResult>((resolve) => {
    const state: RunState = { stdout: [], lastFuel: 0n }
    const disarm = armStops(hp, run.job, state, env.graceMs)
    let settled = false
    const finish = (r: SandboxResult): void => {
      if (settled) return
      settled = true
      disarm()
      env.running.delete(hp)
      if (!hp.exited) hp.child.kill('SIGKILL')
      resolve(r)
    }
    env.running.set(hp, finish)
    hp.onFrame = (type, payload) => { onHostFrame(type, payload, run, state, env, finish) }
    hp.onExit = () => {
      if (state.hostResult !== undefined) return
      finish(exitResult(hp, state.killedFor, state.lastFuel, env.graceMs))
    }
    if (hp.exited) { hp.onExit(); return }
    hp.child.stdin?.write(encodeRun(run.request))
  })
}

/**
 * The app's own stops: the watchdog (the host ends every job at its deadline, so overstaying by
 * `graceMs` means it is wedged) and cancellation (CANCEL, then SIGKILL if it is not honoured).
 * Returns the function that disarms both.
 */
function armStops (hp: HostProcess, job: SandboxJob, state: RunState, graceMs: number): () => void {
  let cancelKill: NodeJS.Timeout | undefined
  const onAbort = (): void => {
    hp.child.stdin?.write(frame(T_CANCEL))
    cancelKill = setTimeout(() => { state.killedFor = 'cancel'; hp.child.kill('SIGKILL') }, CANCEL_KILL_MS)
    cancelKill.unref()
  }
  const watchdog = setTimeout(() => {
    // the host did not end the job at its own deadline: it is wedged
    state.killedFor = 'watchdog'
    hp.child.kill('SIGKILL')
  }, job.timeoutMs + graceMs)
  job.signal?.addEventListener('abort', onAbort, { once: true })
  return () => {
    clearTimeout(watchdog)
    clearTimeout(cancelKill)
    job.signal?.removeEventListener('abort', onAbort)
  }
}

function onHostFrame (type: number, payload: Buffer, run: JobRun, state: RunState, env: JobRunEnv, finish: (r: SandboxResult) => void): void {
  switch (type) {
    case T_STARTED: {
      state.startMs = startMsOf(payload.readBigUInt64LE(0), run.requestedAt)
      env.onStarted()
      break
    }
    case T_STDOUT: {
      const c = new Uint8Array(payload)
      state.stdout.push(c)
      run.hooks.onStdout?.(c)
      break
    }
    case T_STDERR: run.job.onStderr?.(new Uint8Array(payload)); break
    case T_STDIN_ACK: run.hooks.onAck?.(Number(payload.readBigUInt64LE(0))); break
    case T_PROGRESS: {
      state.lastFuel = payload.readBigUInt64LE(0)
      run.job.onProgress?.(state.lastFuel)
      break
    }
    case T_RESULT: {
      const h = JSON.parse(payload.toString('utf8')) as HostResultJson
      state.hostResult = h
      const r = resultFromHost(h, concat(state.stdout), state.startMs)
      if (!h.host.cache_hit && h.host.compile_us > 0) env.onCompiled()
      finish(r)
      break
    }
  }
}

/**
 * ms from the request to the job's first instruction. On Linux the host stamps STARTED with
 * CLOCK_MONOTONIC, the clock of process.hrtime, so the frame's transit is not counted; elsewhere
 * the clocks differ and the frame's arrival is used.
 */
function startMsOf (startedAt: bigint, requestedAt: bigint): number {
  return process.platform === 'linux' ? Math.max(0, Number(startedAt - requestedAt) / 1e6) : Number(process.hrtime.bigint() - requestedAt) / 1e6
}
