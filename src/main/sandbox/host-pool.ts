/**
 * The host processes: spawning a mesh-sandbox-host, keeping a few started and waiting (they have
 * built their engine, linker and seccomp filter before a job arrives, which is most of a job's start
 * latency), handing one out per job, and killing them. A process serves exactly one job and exits,
 * so the pool only ever grows by spawning.
 */
import { spawn } from 'node:child_process'
import type { Logger } from '../log/index.js'
import { FrameReader, T_HELLO } from './protocol.js'
import type { HostChild, Spawner } from './spawner.js'
import type { SandboxOptions } from './types.js'

/** One host process: spawned warm, then given exactly one job. */
export interface HostProcess {
  child: HostChild
  /** the host said HELLO: its engine is ready */
  hello: boolean
  exited: boolean
  exitCode: number | null
  exitSignal: NodeJS.Signals | null
  /** the last 2000 characters of its stderr, quoted when it dies without a result */
  stderrTail: string
  /** the job's frame handler (every frame but HELLO) */
  onFrame?: (type: number, payload: Buffer) => void
  onExit?: () => void
}

export interface HostPool {
  /** A process for one job: a spare that said HELLO, else any live spare, else a new one. */
  take (): HostProcess
  /** Starts spares until the pool's size is waiting; does nothing once closed. */
  refill (): void
  /** Stops refilling and hands back the waiting spares (the caller kills them). */
  close (): HostProcess[]
}

export interface HostPoolOptions {
  binaryPath: string
  args: string[]
  /** spares kept started and waiting */
  warmCount: number
  log: Logger
  /** spawns off the app's event loop when running (spawner.ts); else the pool spawns itself */
  spawner?: Spawner
}

/** The host's command line for these options (bench and test switches). */
export function hostArgs (opts: SandboxOptions): string[] {
  return [
    '--serve',
    ...(opts.metering === false ? ['--no-fuel'] : []),
    ...(opts.epochs === false ? ['--no-epochs'] : []),
    ...(opts.testHooks === true ? ['--test-hooks'] : [])
  ]
}

export function createHostPool (o: HostPoolOptions): HostPool {
  const spares: HostProcess[] = []
  let closed = false
  const forget = (hp: HostProcess): void => {
    const i = spares.indexOf(hp)
    if (i >= 0) spares.splice(i, 1)
  }
  const refill = (): void => {
    if (closed) return
    while (spares.length < o.warmCount) spares.push(spawnHost(o, forget))
  }
  return {
    take () {
      const hp = spares.find((s) => s.hello && !s.exited) ?? spares.find((s) => !s.exited) ?? spawnHost(o, forget)
      forget(hp)
      setRef(hp, true)
      return hp
    },
    refill,
    close () {
      closed = true
      return spares.splice(0)
    }
  }
}

/** Spawns one host; `onExited` runs (before the job's `onExit`) once it is gone or failed to start. */
function spawnHost (o: HostPoolOptions, onExited: (hp: HostProcess) => void): HostProcess {
  const child: HostChild = o.spawner?.spawn(o.binaryPath, o.args) ?? spawn(o.binaryPath, o.args, { stdio: ['pipe', 'pipe', 'pipe'] })
  const hp: HostProcess = { child, hello: false, exited: false, exitCode: null, exitSignal: null, stderrTail: '' }
  const reader = new FrameReader((type, payload) => {
    if (type === T_HELLO) { hp.hello = true; return }
    hp.onFrame?.(type, payload)
  })
  child.stdout?.on('data', (c: Buffer) => reader.push(c))
  child.stderr?.on('data', (c: Buffer) => {
    if (process.env.MESH_SANDBOX_DEBUG !== undefined) process.stderr.write(c)
    o.log.debug({ pid: child.pid }, `host: ${c.toString('utf8').trimEnd().slice(0, 2000)}`)
    hp.stderrTail = (hp.stderrTail + c.toString('utf8')).slice(-2000)
  })
  child.stdin?.on('error', () => { /* the host exited; its exit is handled below */ })
  const exited = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (hp.exited) return
    hp.exited = true
    hp.exitCode = code
    hp.exitSignal = signal
    onExited(hp)
    hp.onExit?.()
  }
  child.on('error', (e) => {
    hp.stderrTail += `\n${e.message}`
    if (child.pid === undefined) exited(null, null) // could not be started at all
  })
  child.on('close', exited)
  setRef(hp, false) // a waiting spare does not keep the app alive
  return hp
}

/** Whether the process and its pipes keep the event loop alive: only while it has a job. */
export function setRef (hp: HostProcess, on: boolean): void {
  const handles = [hp.child, hp.child.stdin, hp.child.stdout, hp.child.stderr] as unknown as Array<{ ref?: () => void, unref?: () => void } | null>
  for (const h of handles) {
    if (on) h?.ref?.()
    else h?.unref?.()
  }
}

/** SIGKILLs a host and resolves once it is gone (keeping the event loop alive until then). */
export async function killHost (hp: HostProcess): Promise<void> {
  if (hp.exited) return
  setRef(hp, true)
  await new Promise<void>((resolve) => {
    hp.child.once('close', () => resolve())
    hp.child.kill('SIGKILL')
  })
}
