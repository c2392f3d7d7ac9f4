/**
 * The executor's SQLite store (better-sqlite3, WAL). One `Store` per data directory, held by the
 * daemon process — never by the UI renderer. Every write runs in a transaction; writes that must
 * survive power loss (a job reaching a terminal state, its receipt and its ledger row) commit with
 * `synchronous=FULL`, the rest with `synchronous=NORMAL` (crash-safe: a killed process loses
 * nothing; only an OS crash/power cut may roll back the very latest NORMAL commits, atomically).
 * See docs/STORE.md.
 */
import Database from 'better-sqlite3'
import type { Database as Db, Statement } from 'better-sqlite3'
import { accessSync, constants, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { acquireDataDirLock, type DataDirLock } from './lock.js'
import { migrate } from './migrate.js'
import { StoreError, InvalidTransitionError, UnknownJobError, dataDirProblem } from './errors.js'
import { ACTIVE_STATES, canTransition, isJobState, type JobState } from './job-states.js'

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
export type TokenAmount = bigint

/** One rule's verdict on an announcement (the policy engine produces these). */
export interface DecisionReason { rule: string, ok: boolean, text: string }

export interface OpenStoreOptions {
  /** Database file name inside the data dir (default `executor.db`). */
  fileName?: string
  /** Cap of stored log bytes per job (default 256 KiB); the rest is dropped with a marker. */
  logCapBytes?: number
  /** Clock used for default timestamps (ms). */
  now?: () => number
}

export interface IdentityRef { keyPath: string, did: string, peerId: string, updatedAt: number }
export interface PolicyVersion { version: number, policy: JsonValue, note: string | undefined, createdAt: number }

export interface AnnouncementInput {
  announcementId: string
  originatorDid: string
  raw: Uint8Array
  receivedAt?: number
  /** Small JSON summary of the job parameters for list views (no bigint: use strings). */
  summary: { [key: string]: JsonValue }
  decision: 'bid' | 'no_bid'
  price?: bigint | number
  reasons: DecisionReason[]
  policyVersion?: number
  region?: string
  /** When the decision is to bid: reserve the (single) bid row in the same transaction. */
  bid?: { price?: bigint | number, raw?: Uint8Array }
}
export interface AnnouncementRow {
  announcementId: string
  originatorDid: string
  receivedAt: number
  summary: { [key: string]: JsonValue }
  decision: 'bid' | 'no_bid'
  price: TokenAmount | undefined
  reasons: DecisionReason[]
  firstFailedRule: string | undefined
  policyVersion: number | undefined
  region: string | undefined
}
export interface AnnouncementStats {
  total: number
  bid: number
  noBid: number
  /** No-bid announcements grouped by the first rule that failed, most frequent first. */
  byFirstFailedRule: Array<{ rule: string, count: number }>
}

export interface BidRow {
  announcementId: string
  price: TokenAmount | undefined
  createdAt: number
  sentOk: boolean | undefined
  error: string | undefined
  sentAt: number | undefined
}

export interface NewJobInput {
  announcementId: string
  originatorDid: string
  price?: bigint | number
  wasmCid: string
  inputDataCid?: string
  maxFuel: bigint | number
  timeoutSeconds: number
  isInteractive?: boolean
  region?: string
  at?: number
}
export interface JobRow {
  announcementId: string
  originatorDid: string
  state: JobState
  price: TokenAmount | undefined
  wasmCid: string
  inputDataCid: string | undefined
  maxFuel: bigint
  timeoutSeconds: number
  isInteractive: boolean
  failureReason: string | undefined
  details: string | undefined
  region: string | undefined
  createdAt: number
  updatedAt: number
  logTruncated: boolean
  /** raw CID of the job's stdout, once it finished having run */
  outputCid: string | undefined
}
export interface TransitionRow { from: JobState | undefined, to: JobState, at: number, details: string | undefined }
export interface LogRow { at: number, stream: string, text: string }

export interface ReceiptInput {
  cid: string
  bytes: Uint8Array
  announcementId: string
  status: string
  failureReason?: string
  fuelUsed: bigint | number
  price?: bigint | number
  createdAt?: number
}
export interface ReceiptRow {
  cid: string
  announcementId: string
  status: string
  failureReason: string | undefined
  fuelUsed: bigint
  price: TokenAmount | undefined
  createdAt: number
}

export interface TransitionOptions {
  details?: string
  /** Required for Failed (a profile section 7 code); Cancelled defaults to 'Cancelled'. */
  failureReason?: string
  at?: number
  /** Stored in the same transaction (terminal states). */
  receipt?: ReceiptInput
  /** Ledger amount for Completed (default: the job's price, or 0 for a free job). */
  earning?: bigint | number
  /** Terminal states: the raw CID of the output the job produced (its originator may fetch it). */
  outputCid?: string
}

export interface EarningsSummary { today: TokenAmount, last7d: TokenAmount, allTime: TokenAmount, jobs: number }
export interface EarningsWindow { now?: number, /** minutes east of UTC for "today"/by-day */ tzOffsetMinutes?: number }

export interface OriginatorRecord {
  originatorDid: string
  announcementsSeen: number
  bidsSent: number
  assigned: number
  completed: number
  failed: number
  firstSeenAt: number
  lastSeenAt: number
}

export interface RecoveredJob { job: JobRow, previousState: JobState }

export interface SubmittedJobInput {
  announcementId: string
  raw: Uint8Array
  summary: { [key: string]: JsonValue }
  createdAt?: number
}
export interface ReceivedBidInput {
  announcementId: string
  executorDid: string
  price?: bigint | number
  region?: string
  raw: Uint8Array
  receivedAt?: number
}
export interface ReceivedBidRow { executorDid: string, price: TokenAmount | undefined, region: string | undefined, receivedAt: number }
export interface SubmittedJobRow {
  announcementId: string
  summary: { [key: string]: JsonValue }
  createdAt: number
  updatedAt: number
  state: string
  chosenExecutorDid: string | undefined
  assignedAt: number | undefined
  receiptCid: string | undefined
  receiptVerified: boolean | undefined
}

export interface ListOptions { limit?: number, offset?: number }

export interface Store {
  readonly dataDir: string
  readonly dbPath: string
  /** Low-level handle for diagnostics and tests (integrity_check); don't write through it. */
  readonly db: Db
  close(): void
  schemaVersion(): number
  integrityCheck(): string
  /** Runs a WAL checkpoint (PASSIVE by default) — call it from an idle timer to keep commits' tail latency low. */
  checkpoint(mode?: 'PASSIVE' | 'FULL' | 'TRUNCATE'): void

  getSetting(key: string): JsonValue | undefined
  setSetting(key: string, value: JsonValue): void
  allSettings(): Record<string, JsonValue>

  setIdentityRef(ref: { keyPath: string, did: string, peerId: string }): void
  getIdentityRef(): IdentityRef | undefined

  savePolicy(policy: JsonValue, note?: string): number
  currentPolicy(): PolicyVersion | undefined
  getPolicyVersion(version: number): PolicyVersion | undefined
  policyHistory(opts?: ListOptions): PolicyVersion[]

  /** Records an announcement and its decision; false (and no change) if already recorded. */
  recordAnnouncement(a: AnnouncementInput): boolean
  hasAnnouncement(announcementId: string): boolean
  getAnnouncement(announcementId: string): (AnnouncementRow & { raw: Uint8Array }) | undefined
  listAnnouncements(opts?: ListOptions & { decision?: 'bid' | 'no_bid', sinceMs?: number, firstFailedRule?: string }): AnnouncementRow[]
  announcementStats(opts?: { sinceMs?: number }): AnnouncementStats

  /** Reserves the one bid for an announcement before sending; false if a bid already exists. */
  recordBid(b: { announcementId: string, originatorDid: string, price?: bigint | number, raw?: Uint8Array, createdAt?: number }): boolean
  markBidSent(announcementId: string, result: { ok: boolean, error?: string, at?: number }): void
  getBid(announcementId: string): BidRow | undefined

  createJob(j: NewJobInput): JobRow
  getJob(announcementId: string): JobRow | undefined
  listJobs(opts?: ListOptions & { states?: JobState[] }): JobRow[]
  countActiveJobs(): number
  transitionJob(announcementId: string, to: JobState, opts?: TransitionOptions): JobRow
  jobTimeline(announcementId: string): TransitionRow[]
  appendJobLog(announcementId: string, stream: string, text: string, at?: number): { stored: boolean, truncated: boolean }
  jobLogs(announcementId: string): LogRow[]

  putReceipt(r: ReceiptInput): boolean
  getReceipt(cid: string): (ReceiptRow & { bytes: Uint8Array }) | undefined
  receiptsForJob(announcementId: string): ReceiptRow[]
  listReceipts(opts?: ListOptions): ReceiptRow[]

  /** Ledger row for a Completed job; false when the job already has one (never double counts). */
  recordEarning(announcementId: string, amount: bigint | number, opts?: { at?: number, receiptCid?: string }): boolean
  earningsSummary(w?: EarningsWindow): EarningsSummary
  earningsByDay(w?: EarningsWindow & { days?: number }): Array<{ day: string, amount: TokenAmount, jobs: number }>
  earningsByOriginator(): Array<{ originatorDid: string, amount: TokenAmount, jobs: number }>
  earningsByRegion(): Array<{ region: string, amount: TokenAmount, jobs: number }>

  originatorRecord(originatorDid: string): OriginatorRecord | undefined

  /**
   * Start-up only, before this process runs any job: marks the jobs a previous process left active
   * Failed(InternalError) and flags their originators as not yet told. Returns the jobs it failed.
   * Never call it while jobs run: it would fail them (the data-dir lock makes this process the owner).
   */
  failInterruptedJobs(at?: number): RecoveredJob[]
  /** Jobs failed by `failInterruptedJobs` whose originator has not been told yet, oldest first. */
  unnotifiedFailures(): RecoveredJob[]
  markFailureNotified(announcementId: string): void
  /** The jobs whose output is `cid` (access to an output block follows the jobs, profile 4.3). */
  jobsWithOutput(cid: string): Array<{ announcementId: string, originatorDid: string }>

  recordSubmittedJob(j: SubmittedJobInput): boolean
  recordReceivedBid(b: ReceivedBidInput): boolean
  receivedBids(announcementId: string): ReceivedBidRow[]
  chooseExecutor(announcementId: string, executorDid: string, at?: number): void
  setSubmittedState(announcementId: string, state: string, at?: number): void
  setSubmittedReceipt(announcementId: string, receiptCid: string, verified: boolean, at?: number): void
  getSubmittedJob(announcementId: string): SubmittedJobRow | undefined
  listSubmittedJobs(opts?: ListOptions): SubmittedJobRow[]
}

const MAX_I64 = (1n << 63n) - 1n
const DAY_MS = 86_400_000

function amount (v: bigint | number | undefined, what: string): bigint | null {
  if (v === undefined) return null
  let b: bigint
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new StoreError('BadValue', `${what} must be a non-negative integer, got ${v}`)
    b = BigInt(v)
  } else b = v
  if (b < 0n || b > MAX_I64) throw new StoreError('BadValue', `${what} ${b} is outside 0..2^63-1`)
  return b
}

type Raw = Record<string, unknown>
const num = (v: unknown): number => Number(v)
const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v))
const optBig = (v: unknown): bigint | undefined => (v === null || v === undefined ? undefined : BigInt(v as bigint | number))
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v))
const optBool = (v: unknown): boolean | undefined => (v === null || v === undefined ? undefined : Number(v) !== 0)
const bytes = (v: unknown): Uint8Array => new Uint8Array(v as Buffer)

function limits (o: ListOptions | undefined): [number, number] {
  const limit = Math.max(1, Math.min(10_000, Math.floor(o?.limit ?? 100)))
  const offset = Math.max(0, Math.floor(o?.offset ?? 0))
  return [limit, offset]
}

function toJob (r: Raw): JobRow {
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

function toAnnouncement (r: Raw): AnnouncementRow {
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

function toReceipt (r: Raw): ReceiptRow {
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

function toPolicy (r: Raw): PolicyVersion {
  return { version: num(r.version), policy: JSON.parse(String(r.policy_json)) as JsonValue, note: optStr(r.note), createdAt: num(r.created_at) }
}

function toSubmitted (r: Raw): SubmittedJobRow {
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

const HISTORY_COLUMNS = ['announcements_seen', 'bids_sent', 'assigned', 'completed', 'failed'] as const
type HistoryColumn = (typeof HISTORY_COLUMNS)[number]

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

  const dayStart = (now: number, off: number): number => Math.floor((now + off * 60_000) / DAY_MS) * DAY_MS - off * 60_000
  const sumSince = (since: number): bigint => BigInt((one('SELECT coalesce(sum(amount), 0) AS s FROM earnings WHERE earned_at >= ?', since)?.s ?? 0n) as bigint)

  const store: Store = {
    dataDir,
    dbPath,
    db,
    close () {
      if (!db.open) return
      flushBatch()
      try {
        db.pragma('wal_checkpoint(TRUNCATE)')
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

    getSetting (key) {
      const r = one('SELECT value_json FROM settings WHERE key = ?', key)
      return r === undefined ? undefined : JSON.parse(String(r.value_json)) as JsonValue
    },
    setSetting (key, value) {
      const json = JSON.stringify(value)
      if (json === undefined) throw new StoreError('BadValue', `setting ${key}: value is not JSON`)
      tx(() => run('INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at', key, json, clock()))
    },
    allSettings () {
      const out: Record<string, JsonValue> = {}
      for (const r of all('SELECT key, value_json FROM settings ORDER BY key')) out[String(r.key)] = JSON.parse(String(r.value_json)) as JsonValue
      return out
    },

    setIdentityRef (ref) {
      tx(() => run('INSERT OR REPLACE INTO identity_ref (id, key_path, did, peer_id, updated_at) VALUES (1, ?, ?, ?, ?)', ref.keyPath, ref.did, ref.peerId, clock()))
    },
    getIdentityRef () {
      const r = one('SELECT * FROM identity_ref WHERE id = 1')
      return r === undefined ? undefined : { keyPath: String(r.key_path), did: String(r.did), peerId: String(r.peer_id), updatedAt: num(r.updated_at) }
    },

    savePolicy (policy, note) {
      const json = JSON.stringify(policy)
      if (json === undefined) throw new StoreError('BadValue', 'policy is not JSON')
      return tx(() => {
        run('INSERT INTO policies (policy_json, note, created_at) VALUES (?, ?, ?)', json, note ?? null, clock())
        return num(one('SELECT last_insert_rowid() AS v')?.v)
      })
    },
    currentPolicy () {
      const r = one('SELECT * FROM policies ORDER BY version DESC LIMIT 1')
      return r === undefined ? undefined : toPolicy(r)
    },
    getPolicyVersion (version) {
      const r = one('SELECT * FROM policies WHERE version = ?', version)
      return r === undefined ? undefined : toPolicy(r)
    },
    policyHistory (o) {
      const [limit, offset] = limits(o)
      return all('SELECT * FROM policies ORDER BY version DESC LIMIT ? OFFSET ?', limit, offset).map(toPolicy)
    },

    recordAnnouncement (a) {
      const at = a.receivedAt ?? clock()
      const firstFailed = a.reasons.find((r) => !r.ok)?.rule ?? null
      return (a.bid === undefined ? batched : tx)(() => {
        const added = run(`INSERT OR IGNORE INTO announcements
          (announcement_id, originator_did, raw, received_at, summary_json, decision, price, reasons_json, first_failed_rule, policy_version, region)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        a.announcementId, a.originatorDid, Buffer.from(a.raw), at, JSON.stringify(a.summary), a.decision,
        amount(a.price, 'price'), JSON.stringify(a.reasons), firstFailed, a.policyVersion ?? null, a.region ?? null) === 1
        if (added) {
          bumpHistory(a.originatorDid, 'announcements_seen', at)
          if (a.bid !== undefined) insertBid(a.announcementId, a.originatorDid, a.bid.price, a.bid.raw, at)
        }
        return added
      })
    },
    hasAnnouncement: (id) => one('SELECT 1 AS x FROM announcements WHERE announcement_id = ?', id) !== undefined,
    getAnnouncement (id) {
      const r = one('SELECT * FROM announcements WHERE announcement_id = ?', id)
      return r === undefined ? undefined : { ...toAnnouncement(r), raw: bytes(r.raw) }
    },
    listAnnouncements (o) {
      const [limit, offset] = limits(o)
      const where: string[] = []
      const params: unknown[] = []
      if (o?.decision !== undefined) { where.push('decision = ?'); params.push(o.decision) }
      if (o?.sinceMs !== undefined) { where.push('received_at >= ?'); params.push(o.sinceMs) }
      if (o?.firstFailedRule !== undefined) { where.push('first_failed_rule = ?'); params.push(o.firstFailedRule) }
      const sql = `SELECT announcement_id, originator_did, received_at, summary_json, decision, price, reasons_json, first_failed_rule, policy_version, region
        FROM announcements ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY received_at DESC, rowid DESC LIMIT ? OFFSET ?`
      return all(sql, ...params, limit, offset).map(toAnnouncement)
    },
    announcementStats (o) {
      const since = o?.sinceMs ?? 0
      const t = one(`SELECT count(*) AS total, coalesce(sum(decision = 'bid'), 0) AS bid FROM announcements WHERE received_at >= ?`, since)
      const total = num(t?.total ?? 0)
      const bid = num(t?.bid ?? 0)
      const groups = all(`SELECT first_failed_rule AS rule, count(*) AS n FROM announcements
        WHERE received_at >= ? AND decision = 'no_bid' GROUP BY first_failed_rule ORDER BY n DESC, rule`, since)
      return {
        total,
        bid,
        noBid: total - bid,
        byFirstFailedRule: groups.map((g) => ({ rule: optStr(g.rule) ?? 'unknown', count: num(g.n) }))
      }
    },

    recordBid (b) {
      const at = b.createdAt ?? clock()
      return tx(() => insertBid(b.announcementId, b.originatorDid, b.price, b.raw, at))
    },
    markBidSent (id, result) {
      tx(() => run('UPDATE bids SET sent_ok = ?, error = ?, sent_at = ? WHERE announcement_id = ?',
        result.ok ? 1 : 0, result.error ?? null, result.at ?? clock(), id))
    },
    getBid (id) {
      const r = one('SELECT * FROM bids WHERE announcement_id = ?', id)
      return r === undefined
        ? undefined
        : { announcementId: id, price: optBig(r.price), createdAt: num(r.created_at), sentOk: optBool(r.sent_ok), error: optStr(r.error), sentAt: optNum(r.sent_at) }
    },

    createJob (j) {
      const at = j.at ?? clock()
      if (!Number.isSafeInteger(j.timeoutSeconds) || j.timeoutSeconds < 0) throw new StoreError('BadValue', `timeoutSeconds ${j.timeoutSeconds} is not a non-negative integer`)
      return durable(() => {
        if (getJob(j.announcementId) !== undefined) throw new StoreError('DuplicateJob', `job ${j.announcementId} already exists`)
        run(`INSERT INTO jobs (announcement_id, originator_did, state, price, wasm_cid, input_data_cid, max_fuel, timeout_seconds, is_interactive, created_at, updated_at, region)
             VALUES (?, ?, 'Assigned', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        j.announcementId, j.originatorDid, amount(j.price, 'price'), j.wasmCid, j.inputDataCid ?? null,
        amount(j.maxFuel, 'max_fuel'), j.timeoutSeconds, j.isInteractive === true ? 1 : 0, at, at, j.region ?? null)
        run('INSERT INTO job_transitions (announcement_id, from_state, to_state, at, details) VALUES (?, NULL, \'Assigned\', ?, NULL)', j.announcementId, at)
        bumpHistory(j.originatorDid, 'assigned', at)
        const job = getJob(j.announcementId)
        if (job === undefined) throw new UnknownJobError(j.announcementId)
        return job
      })
    },
    getJob,
    listJobs (o) {
      const [limit, offset] = limits(o)
      const states = o?.states ?? []
      const where = states.length > 0 ? `WHERE state IN (${states.map(() => '?').join(',')})` : ''
      return all(`SELECT * FROM jobs ${where} ORDER BY updated_at DESC, rowid DESC LIMIT ? OFFSET ?`, ...states, limit, offset).map(toJob)
    },
    countActiveJobs: () => num(one(`SELECT count(*) AS n FROM jobs WHERE state IN (${ACTIVE_STATES.map((s) => `'${s}'`).join(',')})`)?.n ?? 0),
    transitionJob (id, to, o = {}) {
      const terminal = to === 'Completed' || to === 'Failed' || to === 'Cancelled'
      return terminal ? durable(() => applyTransition(id, to, o)) : tx(() => applyTransition(id, to, o))
    },
    jobTimeline (id) {
      return all('SELECT from_state, to_state, at, details FROM job_transitions WHERE announcement_id = ? ORDER BY id', id).map((r) => {
        const from = optStr(r.from_state)
        const to = String(r.to_state)
        if (!isJobState(to) || (from !== undefined && !isJobState(from))) throw new StoreError('BadValue', 'corrupt transition row')
        return { from: from as JobState | undefined, to, at: num(r.at), details: optStr(r.details) }
      })
    },
    appendJobLog (id, stream, text, at) {
      return tx(() => {
        const r = one('SELECT log_bytes, log_truncated FROM jobs WHERE announcement_id = ?', id)
        if (r === undefined) throw new UnknownJobError(id)
        if (Number(r.log_truncated) !== 0) return { stored: false, truncated: true }
        const used = num(r.log_bytes)
        const buf = Buffer.from(text, 'utf8')
        const when = at ?? clock()
        if (used + buf.length <= logCap) {
          run('INSERT INTO job_logs (announcement_id, at, stream, text) VALUES (?, ?, ?, ?)', id, when, stream, text)
          run('UPDATE jobs SET log_bytes = log_bytes + ? WHERE announcement_id = ?', buf.length, id)
          return { stored: true, truncated: false }
        }
        const room = Math.max(0, logCap - used)
        if (room > 0) run('INSERT INTO job_logs (announcement_id, at, stream, text) VALUES (?, ?, ?, ?)', id, when, stream, buf.subarray(0, room).toString('utf8'))
        run('INSERT INTO job_logs (announcement_id, at, stream, text) VALUES (?, ?, ?, ?)', id, when, 'meta', `[log truncated at ${logCap} bytes]`)
        run('UPDATE jobs SET log_bytes = ?, log_truncated = 1 WHERE announcement_id = ?', logCap, id)
        return { stored: room > 0, truncated: true }
      })
    },
    jobLogs: (id) => all('SELECT at, stream, text FROM job_logs WHERE announcement_id = ? ORDER BY id', id)
      .map((r) => ({ at: num(r.at), stream: String(r.stream), text: String(r.text) })),

    putReceipt: (r) => durable(() => insertReceipt(r)),
    getReceipt (cid) {
      const r = one('SELECT * FROM receipts WHERE cid = ?', cid)
      return r === undefined ? undefined : { ...toReceipt(r), bytes: bytes(r.raw) }
    },
    receiptsForJob: (id) => all('SELECT cid, announcement_id, status, failure_reason, fuel_used, price, created_at FROM receipts WHERE announcement_id = ? ORDER BY created_at', id).map(toReceipt),
    listReceipts (o) {
      const [limit, offset] = limits(o)
      return all('SELECT cid, announcement_id, status, failure_reason, fuel_used, price, created_at FROM receipts ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?', limit, offset).map(toReceipt)
    },

    recordEarning (id, amt, o) {
      return durable(() => {
        const job = getJob(id)
        if (job === undefined) throw new UnknownJobError(id)
        if (job.state !== 'Completed') throw new StoreError('BadValue', `job ${id} is ${job.state}, only Completed jobs earn`)
        return insertEarning(job, amt, o?.at ?? clock(), o?.receiptCid)
      })
    },
    earningsSummary (w) {
      const now = w?.now ?? clock()
      const off = w?.tzOffsetMinutes ?? 0
      const allRow = one('SELECT coalesce(sum(amount), 0) AS s, count(*) AS n FROM earnings')
      return {
        today: sumSince(dayStart(now, off)),
        last7d: sumSince(now - 7 * DAY_MS),
        allTime: BigInt((allRow?.s ?? 0n) as bigint),
        jobs: num(allRow?.n ?? 0)
      }
    },
    earningsByDay (w) {
      const now = w?.now ?? clock()
      const off = w?.tzOffsetMinutes ?? 0
      const days = Math.max(1, Math.floor(w?.days ?? 30))
      const since = dayStart(now, off) - (days - 1) * DAY_MS
      const offMs = off * 60_000
      return all(`SELECT (earned_at + ?) / ${DAY_MS} AS d, sum(amount) AS s, count(*) AS n FROM earnings WHERE earned_at >= ? GROUP BY d ORDER BY d`, offMs, since)
        .map((r) => ({ day: new Date(num(r.d) * DAY_MS).toISOString().slice(0, 10), amount: BigInt(r.s as bigint), jobs: num(r.n) }))
    },
    earningsByOriginator: () => all('SELECT originator_did, sum(amount) AS s, count(*) AS n FROM earnings GROUP BY originator_did ORDER BY s DESC, originator_did')
      .map((r) => ({ originatorDid: String(r.originator_did), amount: BigInt(r.s as bigint), jobs: num(r.n) })),
    earningsByRegion: () => all("SELECT coalesce(region, 'unknown') AS region, sum(amount) AS s, count(*) AS n FROM earnings GROUP BY 1 ORDER BY s DESC, 1")
      .map((r) => ({ region: String(r.region), amount: BigInt(r.s as bigint), jobs: num(r.n) })),

    originatorRecord (did) {
      const r = one('SELECT * FROM originator_history WHERE originator_did = ?', did)
      return r === undefined
        ? undefined
        : {
            originatorDid: did,
            announcementsSeen: num(r.announcements_seen),
            bidsSent: num(r.bids_sent),
            assigned: num(r.assigned),
            completed: num(r.completed),
            failed: num(r.failed),
            firstSeenAt: num(r.first_seen_at),
            lastSeenAt: num(r.last_seen_at)
          }
    },

    failInterruptedJobs (at) {
      const when = at ?? clock()
      return durable(() => {
        const active = all(`SELECT * FROM jobs WHERE state IN (${ACTIVE_STATES.map((s) => `'${s}'`).join(',')}) ORDER BY created_at`).map(toJob)
        return active.map((job) => {
          const failed = applyTransition(job.announcementId, 'Failed', {
            failureReason: 'InternalError',
            details: `InternalError: executor stopped while the job was ${job.state}`,
            at: when
          })
          run('UPDATE jobs SET failure_notified = 0 WHERE announcement_id = ?', job.announcementId)
          return { job: failed, previousState: job.state }
        })
      })
    },
    unnotifiedFailures () {
      return all('SELECT * FROM jobs WHERE failure_notified = 0 ORDER BY created_at').map((r) => {
        const job = toJob(r)
        const tl = all('SELECT from_state FROM job_transitions WHERE announcement_id = ? AND to_state = \'Failed\' ORDER BY id DESC LIMIT 1', job.announcementId)
        const from = optStr(tl[0]?.from_state)
        return { job, previousState: from !== undefined && isJobState(from) ? from : 'Assigned' }
      })
    },
    jobsWithOutput: (cid) => all('SELECT announcement_id, originator_did FROM jobs WHERE output_cid = ?', cid)
      .map((r) => ({ announcementId: String(r.announcement_id), originatorDid: String(r.originator_did) })),
    markFailureNotified (id) {
      tx(() => run('UPDATE jobs SET failure_notified = 1 WHERE announcement_id = ?', id))
    },

    recordSubmittedJob (j) {
      const at = j.createdAt ?? clock()
      return tx(() => run('INSERT OR IGNORE INTO submitted_jobs (announcement_id, raw, summary_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        j.announcementId, Buffer.from(j.raw), JSON.stringify(j.summary), at, at) === 1)
    },
    recordReceivedBid (b) {
      return tx(() => {
        if (one('SELECT 1 AS x FROM submitted_jobs WHERE announcement_id = ?', b.announcementId) === undefined) throw new UnknownJobError(b.announcementId)
        return run('INSERT OR IGNORE INTO received_bids (announcement_id, executor_did, price, region, raw, received_at) VALUES (?, ?, ?, ?, ?, ?)',
          b.announcementId, b.executorDid, amount(b.price, 'price'), b.region ?? null, Buffer.from(b.raw), b.receivedAt ?? clock()) === 1
      })
    },
    receivedBids: (id) => all('SELECT executor_did, price, region, received_at FROM received_bids WHERE announcement_id = ? ORDER BY received_at, executor_did', id)
      .map((r) => ({ executorDid: String(r.executor_did), price: optBig(r.price), region: optStr(r.region), receivedAt: num(r.received_at) })),
    chooseExecutor (id, did, at) {
      const when = at ?? clock()
      tx(() => {
        if (run("UPDATE submitted_jobs SET chosen_executor_did = ?, assigned_at = ?, state = 'Assigned', updated_at = ? WHERE announcement_id = ?", did, when, when, id) === 0) throw new UnknownJobError(id)
      })
    },
    setSubmittedState (id, state, at) {
      tx(() => {
        if (run('UPDATE submitted_jobs SET state = ?, updated_at = ? WHERE announcement_id = ?', state, at ?? clock(), id) === 0) throw new UnknownJobError(id)
      })
    },
    setSubmittedReceipt (id, cid, verified, at) {
      durable(() => {
        if (run('UPDATE submitted_jobs SET receipt_cid = ?, receipt_verified = ?, updated_at = ? WHERE announcement_id = ?', cid, verified ? 1 : 0, at ?? clock(), id) === 0) throw new UnknownJobError(id)
      })
    },
    getSubmittedJob (id) {
      const r = one('SELECT * FROM submitted_jobs WHERE announcement_id = ?', id)
      return r === undefined ? undefined : toSubmitted(r)
    },
    listSubmittedJobs (o) {
      const [limit, offset] = limits(o)
      return all('SELECT * FROM submitted_jobs ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?', limit, offset).map(toSubmitted)
    }
  }
  return store
}
