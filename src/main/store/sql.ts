/**
 * The store's SQL plumbing, shared by its domain parts: cached statements (integers as bigint),
 * transactions (NORMAL, FULL for what must survive power loss, and the 10 ms batch for skipped
 * announcements), row converters, and the writes several domains share inside one transaction.
 */
import type { Database as Db, Statement } from 'better-sqlite3'
import { StoreError, InvalidTransitionError, UnknownJobError } from './errors.js'
import { canTransition, isJobState, type JobState } from './job-states.js'
import type {
  AnnouncementRow, DecisionReason, JobRow, JsonValue, ListOptions, PolicyVersion, ReceiptInput, ReceiptRow, SubmittedJobRow, TransitionOptions
} from './types.js'

export const MAX_I64 = (1n << 63n) - 1n
export const DAY_MS = 86_400_000

export function amount (v: bigint | number | undefined, what: string): bigint | null {
  if (v === undefined) return null
  let b: bigint
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new StoreError('BadValue', `${what} must be a non-negative integer, got ${v}`)
    b = BigInt(v)
  } else b = v
  if (b < 0n || b > MAX_I64) throw new StoreError('BadValue', `${what} ${b} is outside 0..2^63-1`)
  return b
}

export type Raw = Record<string, unknown>
export const num = (v: unknown): number => Number(v)
export const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v))
export const optBig = (v: unknown): bigint | undefined => (v === null || v === undefined ? undefined : BigInt(v as bigint | number))
export const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v))
export const optBool = (v: unknown): boolean | undefined => (v === null || v === undefined ? undefined : Number(v) !== 0)
export const bytes = (v: unknown): Uint8Array => new Uint8Array(v as Buffer)

export function limits (o: ListOptions | undefined): [number, number] {
  const limit = Math.max(1, Math.min(10_000, Math.floor(o?.limit ?? 100)))
  const offset = Math.max(0, Math.floor(o?.offset ?? 0))
  return [limit, offset]
}

export function toJob (r: Raw): JobRow {
  const state = String(r.state)
  if (!isJobState(state)) throw new StoreError('BadValue', `corrupt job state ${state}`)
  return {
    announcementId: String(r.announcement_id),
    originatorDid: String(r.originator_did),
    state,
    price: optBig(r.price),
    wasmCid: String(r.wasm_cid),
    inputDataCid: optStr(r.input_data_cid),
    maxFuel: BigInt(r.max_fuel as bigint),
    timeoutSeconds: num(r.timeout_seconds),
    isInteractive: Number(r.is_interactive) !== 0,
    failureReason: optStr(r.failure_reason),
    details: optStr(r.details),
    region: optStr(r.region),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    logTruncated: Number(r.log_truncated) !== 0,
    outputCid: optStr(r.output_cid)
  }
}

export function toAnnouncement (r: Raw): AnnouncementRow {
  return {
    announcementId: String(r.announcement_id),
    originatorDid: String(r.originator_did),
    receivedAt: num(r.received_at),
    summary: JSON.parse(String(r.summary_json)) as { [key: string]: JsonValue },
    decision: r.decision === 'bid' ? 'bid' : 'no_bid',
    price: optBig(r.price),
    reasons: JSON.parse(String(r.reasons_json)) as DecisionReason[],
    firstFailedRule: optStr(r.first_failed_rule),
    policyVersion: optNum(r.policy_version),
    region: optStr(r.region)
  }
}

export function toReceipt (r: Raw): ReceiptRow {
  return {
    cid: String(r.cid),
    announcementId: String(r.announcement_id),
    status: String(r.status),
    failureReason: optStr(r.failure_reason),
    fuelUsed: BigInt(r.fuel_used as bigint),
    price: optBig(r.price),
    createdAt: num(r.created_at)
  }
}

export function toPolicy (r: Raw): PolicyVersion {
  return { version: num(r.version), policy: JSON.parse(String(r.policy_json)) as JsonValue, note: optStr(r.note), createdAt: num(r.created_at) }
}

export function toSubmitted (r: Raw): SubmittedJobRow {
  return {
    announcementId: String(r.announcement_id),
    summary: JSON.parse(String(r.summary_json)) as { [key: string]: JsonValue },
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    state: String(r.state),
    chosenExecutorDid: optStr(r.chosen_executor_did),
    assignedAt: optNum(r.assigned_at),
    receiptCid: optStr(r.receipt_cid),
    receiptVerified: optBool(r.receipt_verified)
  }
}

export const HISTORY_COLUMNS = ['announcements_seen', 'bids_sent', 'assigned', 'completed', 'failed'] as const
export type HistoryColumn = (typeof HISTORY_COLUMNS)[number]


/** What every domain part of the store works with. */
export interface Sql {
  readonly db: Db
  readonly clock: () => number
  readonly logCap: number
  one(sql: string, ...params: unknown[]): Raw | undefined
  all(sql: string, ...params: unknown[]): Raw[]
  run(sql: string, ...params: unknown[]): number
  /** an IMMEDIATE transaction (synchronous=NORMAL) */
  tx<T>(fn: () => T): T
  /** an IMMEDIATE transaction committed with synchronous=FULL (fsync of the WAL) */
  durable<T>(fn: () => T): T
  /** joins the 10 ms announcement batch */
  batched<T>(fn: () => T): T
  flushBatch(): void
  bumpHistory(did: string, col: HistoryColumn, at: number): void
  insertBid(id: string, did: string, price: bigint | number | undefined, raw: Uint8Array | undefined, at: number): boolean
  getJob(id: string): JobRow | undefined
  insertReceipt(r: ReceiptInput): boolean
  insertEarning(job: JobRow, amt: bigint | number, at: number, receiptCid: string | undefined): boolean
  applyTransition(id: string, to: JobState, o: TransitionOptions): JobRow
}

export function createSql (db: Db, opts: { now?: () => number, logCapBytes?: number }): Sql {
  const clock = opts.now ?? Date.now
  const logCap = opts.logCapBytes ?? 256 * 1024
  const stmts = new Map<string, Statement>()
  /** Prepared (and cached) statement returning integers as bigint; rows are converted explicitly. */
  const q = (sql: string): Statement => {
    let s = stmts.get(sql)
    if (s === undefined) {
      s = db.prepare(sql)
      if (s.reader) s.safeIntegers(true)
      stmts.set(sql, s)
    }
    return s
  }
  const one = (sql: string, ...params: unknown[]): Raw | undefined => q(sql).get(...params) as Raw | undefined
  const all = (sql: string, ...params: unknown[]): Raw[] => q(sql).all(...params) as Raw[]
  const run = (sql: string, ...params: unknown[]): number => q(sql).run(...params).changes

  /**
   * Write batching for the announcement intake: announcements we do not bid on are written inside
   * one transaction per 10 ms instead of one commit each, so a flood of announcements costs one WAL
   * commit per batch. Anything else flushes the batch first and commits on its own; a crash can
   * lose at most the last 10 ms of skipped announcements, never a bid, a job, a receipt or an
   * earning. close() flushes.
   */
  let batchOpen = false
  const flushBatch = (): void => {
    if (!batchOpen) return
    batchOpen = false
    if (db.open && db.inTransaction) db.exec('COMMIT')
  }
  const batched = <T>(fn: () => T): T => {
    if (!batchOpen) {
      if (db.inTransaction) return db.transaction(fn)()
      db.exec('BEGIN IMMEDIATE')
      batchOpen = true
      // announcements arrive one network read at a time: gather ~10 ms of them per commit
      setTimeout(flushBatch, 10).unref()
    }
    return db.transaction(fn)() // a savepoint inside the open batch
  }

  /** Runs `fn` in an IMMEDIATE transaction committed with synchronous=FULL (fsync of the WAL). */
  const durable = <T>(fn: () => T): T => {
    flushBatch()
    if (db.inTransaction) return db.transaction(fn)()
    db.pragma('synchronous = FULL')
    try {
      return db.transaction(fn).immediate()
    } finally {
      db.pragma('synchronous = NORMAL')
    }
  }
  const tx = <T>(fn: () => T): T => {
    flushBatch()
    return db.inTransaction ? db.transaction(fn)() : db.transaction(fn).immediate()
  }

  const bumpHistory = (did: string, col: HistoryColumn, at: number): void => {
    if (!HISTORY_COLUMNS.includes(col)) throw new StoreError('BadValue', `bad history column ${col}`)
    run(`INSERT INTO originator_history (originator_did, ${col}, first_seen_at, last_seen_at) VALUES (?, 1, ?, ?)
         ON CONFLICT (originator_did) DO UPDATE SET ${col} = ${col} + 1, last_seen_at = max(last_seen_at, excluded.last_seen_at)`, did, at, at)
  }

  const insertBid = (id: string, did: string, price: bigint | number | undefined, raw: Uint8Array | undefined, at: number): boolean => {
    const added = run('INSERT OR IGNORE INTO bids (announcement_id, price, created_at, raw) VALUES (?, ?, ?, ?)',
      id, amount(price, 'price'), at, raw === undefined ? null : Buffer.from(raw)) === 1
    if (added) bumpHistory(did, 'bids_sent', at)
    return added
  }

  const getJob = (id: string): JobRow | undefined => {
    const r = one('SELECT * FROM jobs WHERE announcement_id = ?', id)
    return r === undefined ? undefined : toJob(r)
  }

  const insertReceipt = (r: ReceiptInput): boolean => run(
    `INSERT OR IGNORE INTO receipts (cid, announcement_id, raw, status, failure_reason, fuel_used, price, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    r.cid, r.announcementId, Buffer.from(r.bytes), r.status, r.failureReason ?? null,
    amount(r.fuelUsed, 'fuel_used'), amount(r.price, 'price'), r.createdAt ?? clock()) === 1

  const insertEarning = (job: JobRow, amt: bigint | number, at: number, receiptCid: string | undefined): boolean => run(
    `INSERT OR IGNORE INTO earnings (announcement_id, originator_did, amount, earned_at, receipt_cid, region)
     VALUES (?, ?, ?, ?, ?, ?)`,
    job.announcementId, job.originatorDid, amount(amt, 'earning'), at, receiptCid ?? null, job.region ?? null) === 1

  const applyTransition = (id: string, to: JobState, o: TransitionOptions): JobRow => {
    const job = getJob(id)
    if (job === undefined) throw new UnknownJobError(id)
    if (!canTransition(job.state, to)) throw new InvalidTransitionError(id, job.state, to)
    const at = o.at ?? clock()
    let failure: string | null = null
    if (to === 'Failed') {
      if (o.failureReason === undefined || o.failureReason === '') {
        throw new StoreError('BadValue', `job ${id}: Failed needs a failureReason`)
      }
      failure = o.failureReason
    } else if (to === 'Cancelled') failure = o.failureReason ?? 'Cancelled'
    run('UPDATE jobs SET state = ?, updated_at = ?, failure_reason = coalesce(?, failure_reason), details = coalesce(?, details), output_cid = coalesce(?, output_cid) WHERE announcement_id = ?',
      to, at, failure, o.details ?? null, o.outputCid ?? null, id)
    run('INSERT INTO job_transitions (announcement_id, from_state, to_state, at, details) VALUES (?, ?, ?, ?, ?)',
      id, job.state, to, at, o.details ?? null)
    if (o.receipt !== undefined) insertReceipt(o.receipt)
    if (to === 'Completed') {
      insertEarning(job, o.earning ?? job.price ?? 0n, at, o.receipt?.cid)
      bumpHistory(job.originatorDid, 'completed', at)
    } else if (to === 'Failed') {
      bumpHistory(job.originatorDid, 'failed', at)
    }
    const after = getJob(id)
    if (after === undefined) throw new UnknownJobError(id)
    return after
  }

  return { db, clock, logCap, one, all, run, tx, durable, batched, flushBatch, bumpHistory, insertBid, getJob, insertReceipt, insertEarning, applyTransition }
}
