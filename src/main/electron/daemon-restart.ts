/**
 * The supervisor's restart policy (pure; daemon-process.ts applies it): what an exit of the daemon
 * means (asked for, cannot start, or a crash), why it exited in one line, and how long to wait
 * before the next start (exponential backoff, reset after a long run).
 */
import type { BackoffOptions } from './daemon-process.js'

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

/** What the supervisor knows about one exit of the daemon process. */
export interface ExitFacts {
  code: number | null
  signal: string | null
  /** The supervisor was stopping it. */
  expected: boolean
  /** It had printed its ready line. */
  wasReady: boolean
  stderr: readonly string[]
  /** The process could not be run (its 'error' event). */
  spawnError: Error | undefined
  /** A problem in what the daemon said (e.g. a ready line without a dashboard address). */
  fatal: string | undefined
}

export type ExitVerdict =
  /** Asked for: the daemon is stopped. */
  | { kind: 'stopped' }
  /** The process cannot be run or said something unusable: failed, not restarted. */
  | { kind: 'unusable', reason: string }
  /** Cannot start (exit 2 before ready, a native module for another ABI): failed, not restarted. */
  | { kind: 'cannot-start', reason: string }
  /** Exited without being asked: restarted after the backoff. */
  | { kind: 'crashed', reason: string }

export function judgeExit (f: ExitFacts): ExitVerdict {
  if (f.expected) return { kind: 'stopped' }
  if (f.spawnError !== undefined || f.fatal !== undefined) {
    return { kind: 'unusable', reason: f.spawnError !== undefined ? `cannot run the daemon: ${f.spawnError.message}` : String(f.fatal) }
  }
  const reason = exitReason(f.stderr, f.code, f.signal)
  // exit 2 before ready: a user error (bad data dir, data dir in use, bad flag); a native module
  // built for another ABI: a broken installation. Restarting would only loop.
  if ((!f.wasReady && f.code === 2) || isAbiMismatch(f.stderr)) {
    const why = isAbiMismatch(f.stderr)
      ? `${reason} — a native module (better-sqlite3) is built for another Node.js ABI; rebuild it for this runtime`
      : reason
    return { kind: 'cannot-start', reason: why }
  }
  return { kind: 'crashed', reason }
}

/** Counts consecutive crashes; a run of `resetAfterMs` or longer starts the count again. */
export interface CrashCounter {
  /** The attempt number of the next start (1 after a reset). */
  attempt(): number
  reset(): void
  /** Counts a crash of a daemon that was up `uptimeMs` (null: it never got ready): its number and the restart delay. */
  crashed(uptimeMs: number | null): { attempt: number, delayMs: number }
}

export function createCrashCounter (backoff: BackoffOptions | undefined): CrashCounter {
  let consecutive = 0
  return {
    attempt: () => consecutive + 1,
    reset: () => { consecutive = 0 },
    crashed (uptimeMs) {
      if (uptimeMs !== null && uptimeMs >= (backoff?.resetAfterMs ?? 60_000)) consecutive = 0
      consecutive++
      return { attempt: consecutive, delayMs: backoffDelay(consecutive, backoff) }
    }
  }
}
