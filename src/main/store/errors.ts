/** Named errors of the executor's SQLite store. Tests and callers match them by `name` and `code`. */

export type StoreErrorCode =
  | 'DataDirLocked'
  | 'DataDirUnusable'
  | 'InvalidTransition'
  | 'UnknownJob'
  | 'DuplicateJob'
  | 'SchemaTooNew'
  | 'BadValue'

export class StoreError extends Error {
  override name = 'StoreError'
  readonly code: StoreErrorCode
  constructor (code: StoreErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** Another process (or another handle in this process) holds the data directory. */
export class DataDirLockedError extends StoreError {
  override name = 'DataDirLocked'
  readonly dataDir: string
  readonly holderPid: number | undefined
  constructor (dataDir: string, holderPid: number | undefined) {
    super('DataDirLocked', `data directory ${dataDir} is in use by another mesh-executor instance` +
      (holderPid !== undefined ? ` (pid ${holderPid})` : ''))
    this.dataDir = dataDir
    this.holderPid = holderPid
  }
}

/** A job state change the lifecycle does not allow (e.g. Completed → Running). */
export class InvalidTransitionError extends StoreError {
  override name = 'InvalidTransition'
  readonly from: string
  readonly to: string
  constructor (announcementId: string, from: string, to: string) {
    super('InvalidTransition', `job ${announcementId}: invalid transition ${from} → ${to}`)
    this.from = from
    this.to = to
  }
}

export class UnknownJobError extends StoreError {
  override name = 'UnknownJob'
  constructor (announcementId: string) {
    super('UnknownJob', `no job for announcement ${announcementId}`)
  }
}

export class SchemaTooNewError extends StoreError {
  override name = 'SchemaTooNew'
  constructor (found: number, known: number) {
    super('SchemaTooNew', `store schema version ${found} is newer than this build understands (${known}); upgrade mesh-executor`)
  }
}

/** The data directory cannot be used: not a directory, read-only, full, no permission, corrupt database. */
export class DataDirUnusableError extends StoreError {
  override name = 'DataDirUnusable'
  readonly dataDir: string
  constructor (dataDir: string, problem: string, cause: unknown) {
    super('DataDirUnusable', `data directory ${dataDir}: ${problem}`)
    this.dataDir = dataDir
    this.cause = cause
  }
}

const PROBLEMS: Record<string, string> = {
  ENOTDIR: 'is not a directory (a file is in the way)',
  EEXIST: 'is not a directory (a file is in the way)',
  EISDIR: 'holds a directory where a file belongs',
  ENOENT: 'cannot be created (is a parent directory missing or read-only?)',
  EROFS: 'is on a read-only file system',
  SQLITE_READONLY: 'is read-only (the database cannot be written)',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  SQLITE_FULL: 'no space left on the device (the database cannot grow)',
  SQLITE_IOERR: 'input/output error writing the database',
  SQLITE_CANTOPEN: 'the database cannot be opened (missing permissions or not a directory?)',
  SQLITE_CORRUPT: 'the database file is corrupt',
  SQLITE_NOTADB: 'executor.db is not a database file'
}

/**
 * Classifies an error from using the data directory (fs errno or SQLite code, including extended codes
 * like SQLITE_IOERR_WRITE): a DataDirUnusableError with one plain line, or undefined when it is not
 * such an error.
 */
export function dataDirProblem (dataDir: string, err: unknown): DataDirUnusableError | undefined {
  if (err instanceof StoreError) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string') return undefined
  const base = code.startsWith('SQLITE_') ? code.split('_').slice(0, 2).join('_') : code
  const problem = PROBLEMS[code] ?? PROBLEMS[base]
  return problem === undefined ? undefined : new DataDirUnusableError(dataDir, problem, err)
}
