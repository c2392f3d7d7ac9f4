import type { Database } from 'better-sqlite3'
import { LATEST_VERSION, MIGRATIONS } from './migrations/index.js'
import { SchemaTooNewError, StoreError } from './errors.js'

export function schemaVersion (db: Database): number {
  return Number(db.pragma('user_version', { simple: true }))
}

/**
 * Brings the schema from its `user_version` up to `target` (default: latest). Each step runs in
 * its own transaction together with the `user_version` bump, so a crash mid-migration leaves the
 * database at the previous version, never half-migrated.
 */
export function migrate (db: Database, target: number = LATEST_VERSION): { from: number, to: number } {
  if (!Number.isInteger(target) || target < 0 || target > LATEST_VERSION) {
    throw new StoreError('BadValue', `migration target ${target} is outside 0..${LATEST_VERSION}`)
  }
  const from = schemaVersion(db)
  if (from > LATEST_VERSION) throw new SchemaTooNewError(from, LATEST_VERSION)
  for (const m of MIGRATIONS) {
    if (m.version <= schemaVersion(db) || m.version > target) continue
    db.transaction(() => {
      m.up(db)
      db.pragma(`user_version = ${m.version}`)
    }).immediate()
  }
  return { from, to: schemaVersion(db) }
}
