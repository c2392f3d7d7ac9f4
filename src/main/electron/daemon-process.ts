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
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { ApiArgs, ApiEvent, ApiMethod, ApiResult } from '../../shared/api/index.js'
import { ApiCallError, ApiUnreachableError, createApiClient, openEventStream, parseUiUrl, type DaemonApiClient, type DaemonEndpoint, type EventStream } from './api-client.js'

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

/** Restart delay for the n-th consecutive crash (n ≥ 1). */
export function backoffDelay (n: number, o: BackoffOptions = {}): number {
  const initial = o.initialMs ?? 1000
  const max = o.maxMs ?? 60_000
  return Math.min(max, initial * 2 ** Math.max(0, Math.min(n - 1, 30)))
}

/**
 * Why the daemon exited, in one line: the CLI's own `mesh-executor: …` line when it printed one,
 * else the last stderr line that is not a stack frame, else the exit code or signal.
 */
export function exitReason (stderr: readonly string[], code: number | null, signal: string | null): string {
  const lines = stderr.map((l) => l.trim()).filter((l) => l.length > 0)
  const own = [...lines].reverse().find((l) => l.startsWith('mesh-executor: '))
  const text = own !== undefined ? own.slice('mesh-executor: '.length) : [...lines].reverse().find((l) => !/^at\s/.test(l) && !/^\^+$/.test(l))
  const how = signal !== null ? `killed by ${signal}` : `exit code ${String(code)}`
  if (text === undefined) return `the node stopped (${how})`
  const short = text.length > 300 ? `${text.slice(0, 297)}…` : text
  return `${short} (${how})`
}

/** A native module built for another Node ABI (e.g. better-sqlite3 not rebuilt for Electron): restarting will not help. */
export function isAbiMismatch (stderr: readonly string[]): boolean {
  return stderr.some((l) => /NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(l))
}

export function createDaemonSupervisor (opts: SupervisorOptions): DaemonSupervisor {
  const now = opts.now ?? Date.now
  const log = opts.log ?? (() => {})
  const graceDefault = opts.graceSeconds ?? 60
  const margin = opts.exitMarginMs ?? 15_000
  const readyTimeout = opts.readyTimeoutMs ?? 120_000
  const listeners = new Map<keyof SupervisorEvents, Set<Listener<never>>>()
  const emit = <K extends keyof SupervisorEvents>(event: K, payload: SupervisorEvents[K]): void => {
    for (const l of [...(listeners.get(event) ?? [])]) {
      try { (l as Listener<SupervisorEvents[K]>)(payload) } catch (err) { log(`listener for ${event} failed: ${String(err)}`) }
    }
  }

  let st: SupervisorState = { phase: 'idle' }
  const setState = (s: SupervisorState): void => { st = s; emit('state', s) }

  let child: ChildProcess | undefined
  let api: DaemonApiClient | undefined
  let stream: EventStream | undefined
  let stderr: string[] = []
  let consecutiveCrashes = 0
  let readyAt: number | undefined
  let restartTimer: NodeJS.Timeout | undefined
  let readyTimer: NodeJS.Timeout | undefined
  let stopping: Promise<StopResult> | undefined
  /** Resolves when the current child has exited (and its exit was handled). */
  let childExited: Promise<{ code: number | null, signal: string | null }> = Promise.resolve({ code: null, signal: null })
  /** A problem found in what the daemon said (not in how it exited): it is failed, not crashed. */
  let fatal: string | undefined

  const clearTimers = (): void => {
    if (restartTimer !== undefined) { clearTimeout(restartTimer); restartTimer = undefined }
    if (readyTimer !== undefined) { clearTimeout(readyTimer); readyTimer = undefined }
  }

  const spawnDaemon = (): void => {
    clearTimers()
    const cmd = typeof opts.command === 'function' ? opts.command() : opts.command
    stderr = []
    readyAt = undefined
    fatal = undefined
    let proc: ChildProcess
    try {
      proc = spawn(cmd.file, cmd.args, { env: cmd.env ?? process.env, cwd: cmd.cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
    } catch (err) {
      setState({ phase: 'failed', reason: `cannot run ${cmd.file}: ${String(err)}`, code: null })
      emit('failed', { reason: `cannot run ${cmd.file}: ${String(err)}`, code: null })
      return
    }
    child = proc
    let markExited: (e: { code: number | null, signal: string | null }) => void = () => {}
    childExited = new Promise((resolve) => { markExited = resolve })
    setState({ phase: 'starting', pid: proc.pid, attempt: consecutiveCrashes + 1 })
    log(`daemon starting (pid ${String(proc.pid)}): ${cmd.file} ${cmd.args.join(' ')}`)
    let spawnError: Error | undefined
    proc.on('error', (err) => { spawnError = err; log(`daemon process error: ${err.message}`) })

    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let e: Record<string, unknown>
      try { e = JSON.parse(line) as Record<string, unknown> } catch { log(`daemon: ${line}`); return }
      if (typeof e !== 'object' || e === null) return
      if (e.event === 'ready' && child === proc) onReady(proc, e as ReadyLine)
      else emit('daemon-event', e)
    })
    const stderrDone = new Promise<void>((resolve) => {
      const rl = createInterface({ input: proc.stderr as NodeJS.ReadableStream })
      rl.on('line', (line) => {
        stderr.push(line)
        if (stderr.length > 50) stderr.shift()
        log(`daemon stderr: ${line}`)
        emit('stderr', line)
      })
      rl.on('close', () => { resolve() })
    })

    readyTimer = setTimeout(() => {
      if (child === proc && st.phase === 'starting') {
        stderr.push(`mesh-executor: no ready line within ${Math.round(readyTimeout / 1000)} s`)
        proc.kill('SIGKILL')
      }
    }, readyTimeout)
    readyTimer.unref?.()

    proc.on('exit', (code, signal) => {
      // give stderr a moment to deliver its last lines (the reason)
      const settle = new Promise<void>((resolve) => { const t = setTimeout(resolve, 300); t.unref?.() })
      void Promise.race([stderrDone, settle]).then(() => {
        onExit(proc, code, signal, spawnError)
        markExited({ code, signal })
      })
    })
  }

  const onReady = (proc: ChildProcess, ready: ReadyLine): void => {
    if (readyTimer !== undefined) { clearTimeout(readyTimer); readyTimer = undefined }
    if (st.phase !== 'starting') return // asked to stop meanwhile
    let endpoint: DaemonEndpoint
    try {
      if (typeof ready.ui !== 'string') throw new Error('the daemon was started without a dashboard (--ui-port)')
      endpoint = parseUiUrl(ready.ui)
    } catch (err) {
      fatal = (err as Error).message
      proc.kill('SIGTERM')
      return
    }
    readyAt = now()
    api = createApiClient(endpoint)
    if (opts.eventStream !== false) {
      stream = openEventStream(endpoint, {
        onEvent: (e) => { emit('api-event', e) },
        onOpen: () => { emit('event-stream', true) },
        onClose: () => { emit('event-stream', false) }
      })
    }
    const pid = proc.pid ?? -1
    setState({ phase: 'running', pid, endpoint, ready, since: readyAt })
    log(`daemon ready (pid ${pid}) at ${endpoint.origin}`)
    emit('ready', { endpoint, ready, pid })
  }

  const onExit = (proc: ChildProcess, code: number | null, signal: string | null, spawnError: Error | undefined): void => {
    if (child !== proc) return
    child = undefined
    api = undefined
    stream?.close()
    stream = undefined
    if (readyTimer !== undefined) { clearTimeout(readyTimer); readyTimer = undefined }
    const expected = st.phase === 'stopping' || stopping !== undefined
    const wasReady = readyAt !== undefined
    const uptime = readyAt !== undefined ? now() - readyAt : null
    emit('exit', { code, signal, expected })
    if (expected) {
      setState({ phase: 'stopped', code, signal })
      return
    }
    if (spawnError !== undefined || fatal !== undefined) {
      const reason = spawnError !== undefined ? `cannot run the daemon: ${spawnError.message}` : String(fatal)
      setState({ phase: 'failed', reason, code })
      emit('failed', { reason, code })
      return
    }
    const reason = exitReason(stderr, code, signal)
    // exit 2 before ready: a user error (bad data dir, data dir in use, bad flag); a native module
    // built for another ABI: a broken installation. Restarting would only loop.
    if ((!wasReady && code === 2) || isAbiMismatch(stderr)) {
      const why = isAbiMismatch(stderr)
        ? `${reason} — a native module (better-sqlite3) is built for another Node.js ABI; rebuild it for this runtime`
        : reason
      log(`daemon cannot start: ${why}`)
      setState({ phase: 'failed', reason: why, code })
      emit('failed', { reason: why, code })
      return
    }
    if (uptime !== null && uptime >= (opts.backoff?.resetAfterMs ?? 60_000)) consecutiveCrashes = 0
    consecutiveCrashes++
    const delay = backoffDelay(consecutiveCrashes, opts.backoff)
    log(`daemon crashed: ${reason}; restarting in ${delay} ms (crash ${consecutiveCrashes} in a row)`)
    setState({ phase: 'crashed', reason, code, signal, restartAt: now() + delay, restartInMs: delay, attempt: consecutiveCrashes })
    emit('crash', { reason, code, signal, restartInMs: delay, attempt: consecutiveCrashes, uptimeMs: uptime })
    restartTimer = setTimeout(() => { restartTimer = undefined; if (st.phase === 'crashed') spawnDaemon() }, delay)
  }

  const within = async <T>(p: Promise<T>, ms: number): Promise<T | undefined> => {
    let t: NodeJS.Timeout | undefined
    const timeout = new Promise<undefined>((resolve) => { t = setTimeout(() => { resolve(undefined) }, ms) })
    try { return await Promise.race([p, timeout]) } finally { clearTimeout(t) }
  }

  const doStop = async (graceSeconds: number): Promise<StopResult> => {
    clearTimers()
    const proc = child
    if (proc === undefined) {
      const code = st.phase === 'stopped' ? st.code : null
      setState({ phase: 'stopped', code, signal: null })
      return { how: 'not-running', code, signal: null }
    }
    const client = api
    const exited = childExited
    setState({ phase: 'stopping', pid: proc.pid })
    let how: StopResult['how'] = 'sigterm'
    if (client !== undefined) {
      try {
        await client.call('node.shutdown', { graceSeconds }, { timeoutMs: 5000 })
        how = 'api'
      } catch (err) {
        log(`node.shutdown failed (${(err as Error).message}); sending SIGTERM`)
      }
    }
    if (how === 'sigterm' && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
    let exit = await within(exited, graceSeconds * 1000 + margin)
    if (exit === undefined) {
      log(`daemon did not exit within ${graceSeconds} s + ${margin} ms; killing it`)
      how = 'sigkill'
      proc.kill('SIGKILL')
      exit = (await within(exited, 10_000)) ?? { code: null, signal: 'SIGKILL' }
    }
    return { how, code: exit.code, signal: exit.signal }
  }

  return {
    start () {
      if (st.phase !== 'idle' && st.phase !== 'stopped') return
      stopping = undefined
      consecutiveCrashes = 0
      spawnDaemon()
    },
    state: () => st,
    client: () => api,
    async call (method, args) {
      const c = api
      if (c === undefined || st.phase !== 'running') throw new DaemonDownError(`${method}: the node is not running (${st.phase})`)
      return await c.call(method, args)
    },
    restartNow () {
      if (st.phase === 'crashed' || st.phase === 'failed') {
        if (st.phase === 'failed') consecutiveCrashes = 0
        spawnDaemon()
      }
    },
    async stop (o = {}) {
      stopping ??= doStop(o.graceSeconds ?? graceDefault)
      return await stopping
    },
    on (event, listener) {
      let set = listeners.get(event)
      if (set === undefined) { set = new Set(); listeners.set(event, set) }
      set.add(listener as Listener<never>)
      return () => { set.delete(listener as Listener<never>) }
    },
    stderrTail: () => [...stderr]
  }
}

export { ApiCallError, ApiUnreachableError }
