/** Read-only SQL over the store's database for the API's own queries: prepared once, 64-bit integers as bigint. */
import type { Database, Statement } from 'better-sqlite3'

export type Row = Record<string, unknown>

export interface SqlReader {
  one(sql: string, ...params: unknown[]): Row | undefined
  all(sql: string, ...params: unknown[]): Row[]
}

export function createSqlReader (db: Database): SqlReader {
  const cache = new Map<string, Statement>()
  const q = (sql: string): Statement => {
    let s = cache.get(sql)
    if (s === undefined) {
      s = db.prepare(sql)
      s.safeIntegers(true)
      cache.set(sql, s)
    }
    return s
  }
  return {
    one: (sql, ...p) => q(sql).get(...p) as Row | undefined,
    all: (sql, ...p) => q(sql).all(...p) as Row[]
  }
}

export const str = (v: unknown): string | null => v === null || v === undefined ? null : String(v)
export const big = (v: unknown): bigint => v === null || v === undefined ? 0n : BigInt(v as bigint | number)
/** A nullable integer column. */
export const bigOrNull = (v: unknown): bigint | null => v === null || v === undefined ? null : big(v)

/** The `description` of an announcement's summary JSON, or null. */
export function descriptionFromJson (json: unknown): string | null {
  if (json === null || json === undefined) return null
  try {
    const s = JSON.parse(String(json)) as { description?: unknown }
    return typeof s.description === 'string' && s.description !== '' ? s.description : null
  } catch { return null }
}
