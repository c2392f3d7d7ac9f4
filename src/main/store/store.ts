/**
 * The executor's SQLite store (better-sqlite3, WAL). One `Store` per data directory, held by the
 * daemon process — never by the UI renderer. Every write runs in a transaction; writes that must
 * survive power loss (a job reaching a terminal state, its receipt and its ledger row) commit with
 * `synchronous=FULL`, the rest with `synchronous=NORMAL` (crash-safe: a killed process loses
 * nothing; only an OS crash/power cut may roll back the very latest NORMAL commits, atomically).
 * The store is split by domain (config, market, jobs, receipts, ledger, submissions), each behind a
 * narrow port (types.ts) that its consumers depend on; `Store` is all of them. See docs/STORE.md.
 */
import Database from 'better-sqlite3'
import type { Database as Db } from 'better-sqlite3'
import { accessSync, constants, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { acquireDataDirLock, type DataDirLock } from './lock.js'
import { migrate } from './migrate.js'
import { StoreError, dataDirProblem } from './errors.js'
import { createSql } from './sql.js'
import { createConfigStore } from './config.js'
import { createMarketStore } from './market.js'
import { createJobStore } from './jobs.js'
import { createReceiptStore } from './receipts.js'
import { createLedgerStore } from './ledger.js'
import { createSubmissionStore } from './submissions.js'
import type { OpenStoreOptions, Store } from './types.js'

export type * from './types.js'

/** Opens (creating if needed) the store in `dataDir`, takes the data-dir lock and migrates the schema. */
export function openStore (dataDir: string, opts: OpenStoreOptions = {}): Store {
  const unusable = (err: unknown): never => { throw dataDirProblem(dataDir, err) ?? err }
  let lock: DataDirLock
  try {
    mkdirSync(dataDir, { recursive: true })
    accessSync(dataDir, constants.W_OK) // EROFS / EACCES named plainly, before SQLite's vaguer CANTOPEN
    lock = acquireDataDirLock(dataDir)
  } catch (err) {
    return unusable(err)
  }
  const dbPath = join(dataDir, opts.fileName ?? 'executor.db')
  let db: Db
  try {
    db = new Database(dbPath, { timeout: 5000 })
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    migrate(db)
  } catch (err) {
    lock.release()
    return unusable(err)
  }
  return createStore(db, dbPath, dataDir, lock, opts)
}

function createStore (db: Db, dbPath: string, dataDir: string, lock: DataDirLock, opts: OpenStoreOptions): Store {
  const sql = createSql(db, opts)
  const { flushBatch } = sql
  return {
    ...createConfigStore(sql),
    ...createMarketStore(sql),
    ...createJobStore(sql),
    ...createReceiptStore(sql),
    ...createLedgerStore(sql),
    ...createSubmissionStore(sql),
    dataDir,
    dbPath,
    db,
    close () {
      if (!db.open) return
      try {
        flushBatch()
        db.pragma('wal_checkpoint(TRUNCATE)')
      } catch {
        // a full disk: the checkpoint cannot copy the WAL into the database file. Nothing is lost:
        // the committed transactions stay in the WAL, which the next open replays.
      } finally {
        db.close()
        lock.release()
      }
    },
    schemaVersion: () => Number(db.pragma('user_version', { simple: true })),
    integrityCheck: () => String(db.pragma('integrity_check', { simple: true })),
    checkpoint (mode = 'PASSIVE') {
      if (mode !== 'PASSIVE' && mode !== 'FULL' && mode !== 'TRUNCATE') throw new StoreError('BadValue', `bad checkpoint mode ${String(mode)}`)
      flushBatch()
      db.pragma(`wal_checkpoint(${mode})`)
    },
  }
}
