/**
 * Host processes started by a small helper process instead of by the app itself.
 *
 * `child_process.spawn` forks the calling process, and a fork copies its page tables: the cost
 * grows with the process's memory (here 1 ms at 45 MiB RSS, 4.4 ms at 245 MiB, 10.8 ms at 850 MiB),
 * and the whole time the event loop is blocked. The executor daemon starts the next spare host
 * while a job runs, so every job's statuses, receipt and the node's other traffic waited ~3.4 ms
 * for it. Here a helper (spawner-child.ts, forked once with IPC, a few tens of MiB) does the spawning
 * and passes the new host's stdin, stdout and stderr pipes back (Node's IPC handle passing), so
 * the app only receives three sockets. A `RemoteChild` stands for the host with the parts of a
 * ChildProcess the pool uses (pid, stdio, kill, 'error' and 'close', ref/unref).
 *
 * The helper starts in the background; until it said ready, or after it died, the pool spawns
 * directly as before. Kills go through the helper (it holds the unreaped child, so a pid is never
 * signalled after its process is gone); with the helper gone, a host whose stdout is still open is
 * signalled by pid (a process that still holds its pipe cannot have been reaped).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { PassThrough, type Readable, type Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { Logger } from '../log/index.js'

/** The parts of a ChildProcess the host pool uses. */
export interface HostChild {
  readonly pid?: number | undefined
  readonly stdin: Writable | null
  readonly stdout: Readable | null
  readonly stderr: Readable | null
  kill: (signal?: NodeJS.Signals) => boolean
  on: ((event: 'close', l: (code: number | null, signal: NodeJS.Signals | null) => void) => unknown) & ((event: 'error', l: (e: Error) => void) => unknown)
  once: (event: 'close', l: (code: number | null, signal: NodeJS.Signals | null) => void) => unknown
  ref?: () => void
  unref?: () => void
}

interface Handle { ref?: () => void, unref?: () => void }
type Fd = 'stdin' | 'stdout' | 'stderr'
interface FromHelper { ready?: boolean, id?: number, pid?: number, fd?: Fd, error?: string, exit?: number | null, signal?: NodeJS.Signals | null }

/** A host process started by the helper. */
export class RemoteChild extends EventEmitter implements HostChild {
  pid: number | undefined
  readonly stdin = new PassThrough()
  readonly stdout = new PassThrough()
  readonly stderr = new PassThrough()
  private readonly sockets: Partial<Record<Fd, Handle & NodeJS.ReadWriteStream>> = {}
  private referenced = true
  private exit?: { code: number | null, signal: NodeJS.Signals | null }
  private ended = { stdout: false, stderr: false }
  private closed = false
  /** the helper reaped it: its pid may already be another process's */
  private reaped = false

  /**
   * `killer` sends a signal; `keepAlive(true|false)` is told when this child starts or stops keeping
   * the app alive (referenced and not closed): until its pipes arrive only the helper's channel can.
   */
  constructor (private readonly killer: (signal: NodeJS.Signals) => boolean, private readonly keepAlive: (on: boolean) => void) {
    super()
    keepAlive(true)
    this.stdout.on('end', () => { this.ended.stdout = true; this.maybeClose() })
    this.stderr.on('end', () => { this.ended.stderr = true; this.maybeClose() })
  }

  /** One of the host's pipes arrived from the helper. */
  attach (fd: Fd, socket: Handle & NodeJS.ReadWriteStream): void {
    this.sockets[fd] = socket
    socket.on('error', () => { /* the host went away; its exit is reported by the helper */ })
    if (fd === 'stdin') this.stdin.pipe(socket)
    else socket.pipe(fd === 'stdout' ? this.stdout : this.stderr)
    if (!this.referenced) socket.unref?.()
  }

  /** The host is gone (or could not be started: `error`; or its helper died: `orphaned`). */
  exited (code: number | null, signal: NodeJS.Signals | null, error?: string, orphaned = false): void {
    if (this.exit !== undefined) return
    this.exit = { code, signal }
    this.reaped = !orphaned
    if (error !== undefined) this.emit('error', new Error(error))
    // pipes that never arrived will not end by themselves
    if (error !== undefined || orphaned) {
      if (this.sockets.stdout === undefined) this.stdout.end()
      if (this.sockets.stderr === undefined) this.stderr.end()
    }
    // the pipes may still hold its last frames: 'close' waits for both to end
    this.maybeClose()
  }

  /** Whether its stdout is still open: the process still holds it, so it has not been reaped. */
  get holdsPipes (): boolean { return !this.ended.stdout }

  kill (signal: NodeJS.Signals = 'SIGTERM'): boolean {
    // an orphan (its helper died) is still signalled, by pid, until its pipes end
    if (this.closed || this.reaped) return false
    return this.killer(signal)
  }

  ref (): void {
    if (!this.referenced && !this.closed) this.keepAlive(true)
    this.referenced = true
    for (const s of Object.values(this.sockets)) s.ref?.()
  }

  unref (): void {
    if (this.referenced && !this.closed) this.keepAlive(false)
    this.referenced = false
    for (const s of Object.values(this.sockets)) s.unref?.()
  }

  private maybeClose (): void {
    if (this.closed || this.exit === undefined || !this.ended.stdout || !this.ended.stderr) return
    this.closed = true
    if (this.referenced) this.keepAlive(false)
    this.stdin.destroy()
    this.emit('close', this.exit.code, this.exit.signal)
  }
}

export interface Spawner {
  /** A host started by the helper, or undefined while it is not (yet, or any more) running. */
  spawn: (binary: string, args: string[]) => RemoteChild | undefined
  close: () => void
}

function childScript (): string | undefined {
  const here = import.meta.url
  const ext = here.endsWith('.ts') ? '.ts' : '.js'
  const path = fileURLToPath(new URL(`./spawner-child${ext}`, here))
  return existsSync(path) ? path : undefined
}

/** Starts the helper in the background. */
export function startSpawner (log: Logger): Spawner {
  const script = childScript()
  const live = new Map<number, RemoteChild>()
  let next = 1
  let ready = false
  /** children that keep the app alive: while there are any, so does the helper's channel */
  let keeping = 0
  const keepAlive = (on: boolean): void => {
    keeping += on ? 1 : -1
    if (keeping > 0) helper?.channel?.ref()
    else helper?.channel?.unref()
  }
  let helper: ChildProcess | undefined
  try {
    helper = script === undefined ? undefined : fork(script, [String(process.pid)], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json' })
  } catch (err) {
    log.warn({ err }, 'the host spawner could not be started; host processes are spawned directly')
  }
  const gone = (): void => {
    ready = false
    helper = undefined
    // its hosts keep working over their pipes (a running job finishes); they are reported gone,
    // exit status unknown, once their pipes end, and are signalled by pid meanwhile
    for (const [id, c] of live) {
      c.exited(null, null, undefined, true)
      live.delete(id)
    }
  }
  if (helper !== undefined) {
    helper.unref()
    helper.channel?.unref()
    helper.on('message', (m: FromHelper, handle: unknown) => {
      if (m.ready === true) { ready = true; return }
      const c = m.id === undefined ? undefined : live.get(m.id)
      if (c === undefined || m.id === undefined) return
      if (m.pid !== undefined) c.pid = m.pid
      if (m.fd !== undefined && handle !== undefined) c.attach(m.fd, handle as Handle & NodeJS.ReadWriteStream)
      if (m.error !== undefined) { live.delete(m.id); c.exited(null, null, m.error) }
      if (m.exit !== undefined) { live.delete(m.id); c.exited(m.exit, m.signal ?? null) }
    })
    helper.on('error', (err) => { log.warn({ err }, 'host spawner failed; host processes are spawned directly') })
    helper.on('exit', (code, signal) => {
      if (ready) log.warn({ code, signal }, 'the host spawner exited; host processes are spawned directly')
      gone()
    })
  }
  return {
    spawn (binary, args) {
      const h = helper
      if (!ready || h === undefined || !h.connected) return undefined
      const id = next++
      const c: RemoteChild = new RemoteChild((signal) => {
        if (helper?.connected === true) { helper.send({ kill: id, signal }); return true }
        if (c.holdsPipes && c.pid !== undefined) { try { return process.kill(c.pid, signal) } catch { return false } }
        return false
      }, keepAlive)
      live.set(id, c)
      h.send({ spawn: id, binary, args })
      return c
    },
    close () {
      ready = false
      if (helper?.connected === true) helper.disconnect()
    }
  }
}
