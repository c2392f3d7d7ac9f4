/**
 * The node's log: one structured logger (pino) for every subsystem, written to a size-rotated file in
 * the data dir (`logs/mesh-executor.N.log`, newest also reachable as `logs/current.log`; pino-roll),
 * JSON lines with `time`, `level`, `sub` (the subsystem) and, where there is one, `job` (the
 * announcement id). stdout stays the CLI's `--json` event stream; the log is what a seller looks at,
 * or attaches to a bug report, when asking "why is nothing happening".
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import pino, { type Logger, type LevelWithSilent } from 'pino'
import build from 'pino-roll'

export type { Logger }
export type LogLevel = LevelWithSilent

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** A logger that writes nothing (components' default when none is given). */
export const noLogger: Logger = pino({ level: 'silent' })

export interface LogFileOptions {
  /** default: $MESH_LOG_LEVEL, else info */
  level?: LogLevel
  /** rotate when the file reaches this size (default 10 MiB) */
  maxFileBytes?: number
  /** rotated files kept besides the active one (default 5) */
  keepFiles?: number
  /** told once when writing the log fails (e.g. the disk is full); the node keeps running */
  onError?: (err: Error) => void
}

export interface LogFile {
  readonly log: Logger
  /** the logs directory */
  readonly dir: string
  /** flushes and closes the file */
  close(): Promise<void>
}

export function isLogLevel (s: string | undefined): s is LogLevel {
  return s !== undefined && (LOG_LEVELS as readonly string[]).includes(s)
}

/** Opens `<dataDir>/logs/` for writing. */
export async function openLogFile (dataDir: string, o: LogFileOptions = {}): Promise<LogFile> {
  const dir = join(dataDir, 'logs')
  const envLevel = process.env.MESH_LOG_LEVEL
  const level = o.level ?? (isLogLevel(envLevel) ? envLevel : 'info')
  // pino-roll links current.log at once, before its (asynchronous) open has created the directory
  await mkdir(dir, { recursive: true })
  const stream = await build({
    file: join(dir, 'mesh-executor'),
    extension: '.log',
    size: `${Math.max(1, Math.round((o.maxFileBytes ?? 10 * 1024 * 1024) / 1024))}k`,
    limit: { count: o.keepFiles ?? 5 },
    symlink: true,
    mkdir: true,
    sync: false
  })
  let told = false
  let closed = false
  stream.on('error', (err: Error) => {
    // a full disk or a removed directory must not take the node down: report once, drop lines
    if (told) return
    told = true
    o.onError?.(err)
  })
  // lines logged after close() (a background task finishing late) are dropped, never a "destroyed" throw
  const destination = { write: (line: string): void => { if (!closed) stream.write(line) } }
  const log = pino({
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // "level":"warn" rather than 40: the file is read by people (and by the dashboard's log view)
    formatters: { level: (label) => ({ level: label }) }
  }, destination)
  return {
    log,
    dir,
    async close () {
      if (closed) return
      closed = true
      await new Promise<void>((resolve) => {
        try {
          stream.flush(() => { resolve() })
        } catch {
          resolve() // nothing buffered, or the stream already failed: nothing more to write
        }
      })
      // after a write error (full disk) the stream cannot finish its buffer: drop it and its descriptor
      if (told) stream.destroy()
      else stream.end()
    }
  }
}

/**
 * Logs at most `perWindow` lines per key within `windowMs`, then one summary line when the window
 * ends ("N more like this") — for things a hostile peer can make us log as fast as it sends.
 */
export function throttled (log: Logger, perWindow = 20, windowMs = 10_000): (key: string, level: 'warn' | 'info' | 'debug', obj: Record<string, unknown>, msg: string) => void {
  const windows = new Map<string, { start: number, count: number, dropped: number }>()
  return (key, level, obj, msg) => {
    const now = Date.now()
    let w = windows.get(key)
    if (w === undefined || now - w.start > windowMs) {
      if (w !== undefined && w.dropped > 0) log[level]({ ...obj, suppressed: w.dropped }, `${w.dropped} more like this in the last ${Math.round(windowMs / 1000)} s: ${msg}`)
      w = { start: now, count: 0, dropped: 0 }
      windows.set(key, w)
      if (windows.size > 1000) windows.delete(windows.keys().next().value as string)
    }
    if (w.count++ < perWindow) log[level](obj, msg)
    else w.dropped++
  }
}
