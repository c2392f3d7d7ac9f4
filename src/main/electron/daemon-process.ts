/**
 * The desktop shell's daemon supervisor (plain Node; no Electron, no daemon code). It runs the same
 * daemon the CLI runs (`mesh-executor start --json --ui-port 0 …`) as a child process and:
 *
 * - reads the stdout JSON-lines contract: the `{"event":"ready",…,"ui":"http://127.0.0.1:PORT/?token=…"}`
 *   line gives the API address and token; later lines are the daemon's events;
 * - talks to it only through the local API (api-client.ts): calls, and the /api/events WebSocket;
 * - detects a crash (an exit nobody asked for), reports it with the last stderr line or the exit
 *   code/signal, and restarts it with exponential backoff (1 s, 2 s, 4 s … capped at 60 s; back to
 *   1 s after it had been up for a minute);
 * - does not restart a daemon that cannot start at all (exit 2 before ready: a user error such as a
 *   bad data dir): it reports its one-line message and waits for `restartNow()`;
 * - stops it gracefully: `node.shutdown` through the API (SIGTERM when the API cannot be reached),
 *   waits for the exit up to the grace plus a margin, then SIGKILL.
 *
 * The command is injected: Electron passes its own binary with ELECTRON_RUN_AS_NODE=1
 * (daemon-command.ts), tests pass `node bin/mesh-executor.js`.
 *
 * This module holds the supervisor's state and its transitions; one child process and its output
 * is daemon-child.ts, what an exit means and the backoff daemon-restart.ts, the stop sequence
 * daemon-stop.ts.
 */
import type { ChildProcess } from 'node:child_process'
import type { ApiArgs, ApiEvent, ApiMethod, ApiResult } from '../../shared/api/index.js'
import { ApiCallError, ApiUnreachableError, createApiClient, openEventStream, parseUiUrl, type DaemonApiClient, type DaemonEndpoint, type EventStream } from './api-client.js'
import { spawnDaemonChild, type ChildExit, type ChildHooks } from './daemon-child.js'
import { createCrashCounter, judgeExit, type CrashCounter } from './daemon-restart.js'
import { stopDaemonChild } from './daemon-stop.js'

export { backoffDelay, exitReason, isAbiMismatch } from './daemon-restart.js'

export interface DaemonCommand {
  file: string
  args: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
}

/** The ready line of `mesh-executor start --json` (see the CLI's stdout contract). */
export interface ReadyLine {
  event: 'ready'
  did: string
  peerId: string
  multiaddrs: string[]
  dataDir: string
  ui: string | null
  warnings?: string[]
  [key: string]: unknown
}

export type SupervisorState =
  | { phase: 'idle' }
  | { phase: 'starting', pid: number | undefined, attempt: number }
  | { phase: 'running', pid: number, endpoint: DaemonEndpoint, ready: ReadyLine, since: number }
  /** Exited without being asked; restarts at `restartAt`. */
  | { phase: 'crashed', reason: string, code: number | null, signal: string | null, restartAt: number, restartInMs: number, attempt: number }
  /** Cannot start (exit 2 before ready, or a broken installation): not restarted until restartNow(). */
  | { phase: 'failed', reason: string, code: number | null }
  | { phase: 'stopping', pid: number | undefined }
  | { phase: 'stopped', code: number | null, signal: string | null }

export interface CrashReport { reason: string, code: number | null, signal: string | null, restartInMs: number, attempt: number, uptimeMs: number | null }
export interface StopResult {
  /** How the daemon was asked: through the API, by SIGTERM, killed after the timeout, or it was not running. */
  how: 'api' | 'sigterm' | 'sigkill' | 'not-running'
  code: number | null
  signal: string | null
}

export interface SupervisorEvents {
  state: SupervisorState
  ready: { endpoint: DaemonEndpoint, ready: ReadyLine, pid: number }
  crash: CrashReport
  failed: { reason: string, code: number | null }
  /** Every exit of the daemon process (asked for or not). */
  exit: { code: number | null, signal: string | null, expected: boolean }
  /** Live API events from the /api/events WebSocket. */
  'api-event': ApiEvent
  /** The event stream connected (true) or dropped (false) while the daemon runs. */
  'event-stream': boolean
  /** Every other JSON line of the daemon's stdout (`{"event":"job:state",…}`, …). */
  'daemon-event': Record<string, unknown>
  stderr: string
}

export interface BackoffOptions {
  /** First restart delay (default 1000 ms); doubles per consecutive crash. */
  initialMs?: number
  /** Cap (default 60 000 ms). */
  maxMs?: number
  /** A daemon that ran this long before crashing restarts after `initialMs` again (default 60 000 ms). */
  resetAfterMs?: number
}

export interface SupervisorOptions {
  /** The daemon command; a function is called before every (re)start. */
  command: DaemonCommand | (() => DaemonCommand)
  backoff?: BackoffOptions
  /** No ready line within this time: killed and counted as a crash (default 120 s). */
  readyTimeoutMs?: number
  /** Grace for running jobs when stopping (node.shutdown { graceSeconds }); default 60. */
  graceSeconds?: number
  /** Extra wait after the grace before SIGKILL (default 15 s). */
  exitMarginMs?: number
  /** Open the /api/events WebSocket while running (default true). */
  eventStream?: boolean
  log?: (line: string) => void
  now?: () => number
}

export class DaemonDownError extends Error {
  override name = 'DaemonDownError'
}

type Listener<T> = (payload: T) => void

export interface DaemonSupervisor {
  start(): void
  state(): SupervisorState
  /** The API of the running daemon; undefined while it is not running. */
  client(): DaemonApiClient | undefined
  /** Calls the running daemon's API; DaemonDownError when it is not running. */
  call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>>
  /** Restart at once: after a crash (skips the backoff wait) or a start failure. */
  restartNow(): void
  stop(opts?: { graceSeconds?: number }): Promise<StopResult>
  on<K extends keyof SupervisorEvents>(event: K, listener: Listener<SupervisorEvents[K]>): () => void
  /** The last lines the daemon wrote to stderr (at most 50). */
  stderrTail(): string[]
}

/** The supervisor's listeners; a throwing listener is logged and never breaks the supervisor. */
interface Emitter<E> {
  emit<K extends keyof E>(event: K, payload: E[K]): void
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void
}

function createEmitter<E> (log: (line: string) => void): Emitter<E> {
  const listeners = new Map<keyof E, Set<Listener<never>>>()
  return {
    emit (event, payload) {
      for (const l of [...(listeners.get(event) ?? [])]) {
        try { (l as Listener<typeof payload>)(payload) } catch (err) { log(`listener for ${String(event)} failed: ${String(err)}`) }
      }
    },
    on (event, listener) {
      let set = listeners.get(event)
      if (set === undefined) { set = new Set(); listeners.set(event, set) }
      set.add(listener as Listener<never>)
      return () => { set.delete(listener as Listener<never>) }
    }
  }
}

/** At most this many stderr lines are kept (the exit reason, stderrTail()). */
const STDERR_TAIL = 50

export function createDaemonSupervisor (opts: SupervisorOptions): DaemonSupervisor {
  const s = new Supervisor(opts)
  return {
    start: () => { s.start() },
    state: () => s.st,
    client: () => s.api,
    async call (method, args) { return await s.call(method, args) },
    restartNow: () => { s.restartNow() },
    stop: async (o = {}) => await s.stop(o.graceSeconds),
    on: (event, listener) => s.events.on(event, listener),
    stderrTail: () => [...s.stderr]
  }
}

/** The supervisor's state: the current child, its API and event stream, timers, crash count. */
class Supervisor {
  st: SupervisorState = { phase: 'idle' }
  api: DaemonApiClient | undefined
  stderr: string[] = []
  readonly events: Emitter<SupervisorEvents>
  private child: ChildProcess | undefined
  private stream: EventStream | undefined
  private readyAt: number | undefined
  private restartTimer: NodeJS.Timeout | undefined
  private readyTimer: NodeJS.Timeout | undefined
  private stopping: Promise<StopResult> | undefined
  /** Resolves when the current child has exited (and its exit was handled). */
  private childExited: Promise<ChildExit> = Promise.resolve({ code: null, signal: null })
  /** A problem found in what the daemon said (not in how it exited): it is failed, not crashed. */
  private fatal: string | undefined
  private readonly crashes: CrashCounter
  private readonly now: () => number
  private readonly log: (line: string) => void
  private readonly graceDefault: number
  private readonly exitMarginMs: number
  private readonly readyTimeoutMs: number

  constructor (private readonly opts: SupervisorOptions) {
    this.now = opts.now ?? Date.now
    this.log = opts.log ?? (() => {})
    this.graceDefault = opts.graceSeconds ?? 60
    this.exitMarginMs = opts.exitMarginMs ?? 15_000
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 120_000
    this.events = createEmitter<SupervisorEvents>(this.log)
    this.crashes = createCrashCounter(opts.backoff)
  }

  start (): void {
    if (this.st.phase !== 'idle' && this.st.phase !== 'stopped') return
    this.stopping = undefined
    this.crashes.reset()
    this.spawn()
  }

  restartNow (): void {
    if (this.st.phase === 'crashed' || this.st.phase === 'failed') {
      if (this.st.phase === 'failed') this.crashes.reset()
      this.spawn()
    }
  }

  async call<M extends ApiMethod> (method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
    const c = this.api
    if (c === undefined || this.st.phase !== 'running') throw new DaemonDownError(`${method}: the node is not running (${this.st.phase})`)
    return await c.call(method, args)
  }

  async stop (graceSeconds: number | undefined): Promise<StopResult> {
    this.stopping ??= this.doStop(graceSeconds ?? this.graceDefault)
    return await this.stopping
  }

  private setState (s: SupervisorState): void {
    this.st = s
    this.events.emit('state', s)
  }

  private fail (reason: string, code: number | null): void {
    this.setState({ phase: 'failed', reason, code })
    this.events.emit('failed', { reason, code })
  }

  private clearReadyTimer (): void {
    if (this.readyTimer !== undefined) { clearTimeout(this.readyTimer); this.readyTimer = undefined }
  }

  private clearTimers (): void {
    if (this.restartTimer !== undefined) { clearTimeout(this.restartTimer); this.restartTimer = undefined }
    this.clearReadyTimer()
  }

  /** What the current child's output and exit do to the supervisor. */
  private readonly hooks: ChildHooks = {
    onJsonLine: (proc, e) => {
      if (e.event === 'ready' && this.child === proc) this.onReady(proc, e as ReadyLine)
      else this.events.emit('daemon-event', e)
    },
    onStderrLine: (line) => {
      this.stderr.push(line)
      if (this.stderr.length > STDERR_TAIL) this.stderr.shift()
      this.log(`daemon stderr: ${line}`)
      this.events.emit('stderr', line)
    },
    onExit: (proc, exit, spawnError) => { this.onExit(proc, exit, spawnError) },
    log: (line) => { this.log(line) }
  }

  private spawn (): void {
    this.clearTimers()
    const cmd = typeof this.opts.command === 'function' ? this.opts.command() : this.opts.command
    this.stderr = []
    this.readyAt = undefined
    this.fatal = undefined
    let started: ReturnType<typeof spawnDaemonChild>
    try {
      started = spawnDaemonChild(cmd, this.hooks)
    } catch (err) {
      this.fail(`cannot run ${cmd.file}: ${String(err)}`, null)
      return
    }
    const { proc } = started
    this.child = proc
    this.childExited = started.exited
    this.setState({ phase: 'starting', pid: proc.pid, attempt: this.crashes.attempt() })
    this.log(`daemon starting (pid ${String(proc.pid)}): ${cmd.file} ${cmd.args.join(' ')}`)
    this.armReadyTimer(proc)
  }

  /** No ready line in time: killed, and the exit is a crash with that reason. */
  private armReadyTimer (proc: ChildProcess): void {
    const ms = this.readyTimeoutMs
    this.readyTimer = setTimeout(() => {
      if (this.child === proc && this.st.phase === 'starting') {
        this.stderr.push(`mesh-executor: no ready line within ${Math.round(ms / 1000)} s`)
        proc.kill('SIGKILL')
      }
    }, ms)
    this.readyTimer.unref?.()
  }

  private onReady (proc: ChildProcess, ready: ReadyLine): void {
    this.clearReadyTimer()
    if (this.st.phase !== 'starting') return // asked to stop meanwhile
    let endpoint: DaemonEndpoint
    try {
      if (typeof ready.ui !== 'string') throw new Error('the daemon was started without a dashboard (--ui-port)')
      endpoint = parseUiUrl(ready.ui)
    } catch (err) {
      this.fatal = (err as Error).message
      proc.kill('SIGTERM')
      return
    }
    const since = this.now()
    this.readyAt = since
    this.connect(endpoint)
    const pid = proc.pid ?? -1
    this.setState({ phase: 'running', pid, endpoint, ready, since })
    this.log(`daemon ready (pid ${pid}) at ${endpoint.origin}`)
    this.events.emit('ready', { endpoint, ready, pid })
  }

  /** The running daemon's API client and (unless disabled) its event stream. */
  private connect (endpoint: DaemonEndpoint): void {
    this.api = createApiClient(endpoint)
    if (this.opts.eventStream !== false) {
      this.stream = openEventStream(endpoint, {
        onEvent: (e) => { this.events.emit('api-event', e) },
        onOpen: () => { this.events.emit('event-stream', true) },
        onClose: () => { this.events.emit('event-stream', false) }
      })
    }
  }

  private onExit (proc: ChildProcess, { code, signal }: ChildExit, spawnError: Error | undefined): void {
    if (this.child !== proc) return
    this.child = undefined
    this.api = undefined
    this.stream?.close()
    this.stream = undefined
    this.clearReadyTimer()
    const expected = this.st.phase === 'stopping' || this.stopping !== undefined
    const wasReady = this.readyAt !== undefined
    const uptime = this.readyAt !== undefined ? this.now() - this.readyAt : null
    this.events.emit('exit', { code, signal, expected })
    const verdict = judgeExit({ code, signal, expected, wasReady, stderr: this.stderr, spawnError, fatal: this.fatal })
    switch (verdict.kind) {
      case 'stopped':
        this.setState({ phase: 'stopped', code, signal })
        return
      case 'unusable':
        this.fail(verdict.reason, code)
        return
      case 'cannot-start':
        this.log(`daemon cannot start: ${verdict.reason}`)
        this.fail(verdict.reason, code)
        return
      case 'crashed':
        this.scheduleRestart(verdict.reason, code, signal, uptime)
    }
  }

  private scheduleRestart (reason: string, code: number | null, signal: string | null, uptimeMs: number | null): void {
    const { attempt, delayMs: delay } = this.crashes.crashed(uptimeMs)
    this.log(`daemon crashed: ${reason}; restarting in ${delay} ms (crash ${attempt} in a row)`)
    this.setState({ phase: 'crashed', reason, code, signal, restartAt: this.now() + delay, restartInMs: delay, attempt })
    this.events.emit('crash', { reason, code, signal, restartInMs: delay, attempt, uptimeMs })
    this.restartTimer = setTimeout(() => { this.restartTimer = undefined; if (this.st.phase === 'crashed') this.spawn() }, delay)
  }

  private async doStop (graceSeconds: number): Promise<StopResult> {
    this.clearTimers()
    const proc = this.child
    if (proc === undefined) {
      const code = this.st.phase === 'stopped' ? this.st.code : null
      this.setState({ phase: 'stopped', code, signal: null })
      return { how: 'not-running', code, signal: null }
    }
    const target = { proc, client: this.api, exited: this.childExited }
    this.setState({ phase: 'stopping', pid: proc.pid })
    return await stopDaemonChild(target, { graceSeconds, marginMs: this.exitMarginMs, log: this.log })
  }
}

export { ApiCallError, ApiUnreachableError }
