/** Named errors of the executor's SQLite store. Tests and callers match them by `name` and `code`. */

export type StoreErrorCode =
  | 'DataDirLocked'
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
