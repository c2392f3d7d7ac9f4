/**
 * Single-writer lock for a data directory.
 *
 * The lock is a tiny SQLite database (`executor.lock`) opened with `locking_mode=EXCLUSIVE` and
 * written once, so SQLite holds a POSIX byte-range lock on it for as long as the handle is open.
 * The kernel drops that lock when the process dies (even on kill -9), so a crash never leaves a
 * stale lock behind, and a reused PID can never fake a live holder. A second handle — from another
 * process or from this one — fails at once with `DataDirLocked`. The holder's pid is written to
 * `executor.pid` purely for the error message.
 */
import Database from 'better-sqlite3'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DataDirLockedError } from './errors.js'

export interface DataDirLock {
  readonly path: string
  release(): void
}

function isBusy (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED'
}

export function acquireDataDirLock (dataDir: string): DataDirLock {
  const path = join(dataDir, 'executor.lock')
  const pidPath = join(dataDir, 'executor.pid')
  const db = new Database(path, { timeout: 0 })
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma('journal_mode = DELETE')
    db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, since INTEGER NOT NULL)')
    db.prepare('INSERT OR REPLACE INTO holder (id, pid, since) VALUES (1, ?, ?)').run(process.pid, Date.now())
  } catch (err) {
    db.close()
    if (isBusy(err)) {
      let pid: number | undefined
      try {
        const n = Number.parseInt(readFileSync(pidPath, 'utf8').trim(), 10)
        if (Number.isSafeInteger(n) && n > 0) pid = n
      } catch { /* no pid file: unknown holder */ }
      throw new DataDirLockedError(dataDir, pid)
    }
    throw err
  }
  try { writeFileSync(pidPath, `${process.pid}\n`) } catch { /* informational only */ }
  let released = false
  return {
    path,
    release () {
      if (released) return
      released = true
      db.close()
    }
  }
}
