/** Rows, inputs and the domain ports of the executor's store (see store.ts). */
import type { Database as Db } from 'better-sqlite3'
import type { JobState } from './job-states.js'

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


/** Port: settings, identity reference and policy versions. */
export interface ConfigStore {
  getSetting(key: string): JsonValue | undefined
  setSetting(key: string, value: JsonValue): void
  allSettings(): Record<string, JsonValue>
  setIdentityRef(ref: { keyPath: string, did: string, peerId: string }): void
  getIdentityRef(): IdentityRef | undefined
  savePolicy(policy: JsonValue, note?: string): number
  currentPolicy(): PolicyVersion | undefined
  getPolicyVersion(version: number): PolicyVersion | undefined
  policyHistory(opts?: ListOptions): PolicyVersion[]
}

/** Port: announcements we heard, the decision on each, our bids, and each originator's history. */
export interface MarketStore {
  /** Records an announcement and its decision; false (and no change) if already recorded. */
  recordAnnouncement(a: AnnouncementInput): boolean
  hasAnnouncement(announcementId: string): boolean
  getAnnouncement(announcementId: string): (AnnouncementRow & { raw: Uint8Array }) | undefined
  listAnnouncements(opts?: ListOptions & { decision?: 'bid' | 'no_bid', sinceMs?: number, firstFailedRule?: string }): AnnouncementRow[]
  announcementStats(opts?: { sinceMs?: number }): AnnouncementStats
  /**
   * Deletes up to `batch` announcements we did not bid on (one transaction): those received before
   * `beforeMs`, else the oldest beyond the newest `keepMax`. Returns how many; call again until 0.
   * Announcements we bid on stay (with their bids, jobs and earnings).
   */
  pruneSkippedAnnouncements(o: { beforeMs: number, keepMax: number, batch: number }): number
  /** Reserves the one bid for an announcement before sending; false if a bid already exists. */
  recordBid(b: { announcementId: string, originatorDid: string, price?: bigint | number, raw?: Uint8Array, createdAt?: number }): boolean
  markBidSent(announcementId: string, result: { ok: boolean, error?: string, at?: number }): void
  /** The buyer chose us but we refused its assignment (reason code and why); the bid is then neither won nor lost. */
  markBidRefused(announcementId: string, reason: string): void
  getBid(announcementId: string): BidRow | undefined
  originatorRecord(originatorDid: string): OriginatorRecord | undefined
}

/** Port: jobs assigned to us: state machine, timeline, logs, crash recovery, outputs. */
export interface JobStore {
  createJob(j: NewJobInput): JobRow
  getJob(announcementId: string): JobRow | undefined
  listJobs(opts?: ListOptions & { states?: JobState[] }): JobRow[]
  countActiveJobs(): number
  transitionJob(announcementId: string, to: JobState, opts?: TransitionOptions): JobRow
  jobTimeline(announcementId: string): TransitionRow[]
  appendJobLog(announcementId: string, stream: string, text: string, at?: number): { stored: boolean, truncated: boolean }
  jobLogs(announcementId: string): LogRow[]
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
}

/** Port: signed execution receipts (kept for good). */
export interface ReceiptStore {
  putReceipt(r: ReceiptInput): boolean
  getReceipt(cid: string): (ReceiptRow & { bytes: Uint8Array }) | undefined
  receiptsForJob(announcementId: string): ReceiptRow[]
  listReceipts(opts?: ListOptions): ReceiptRow[]
}

/** Port: earnings: one ledger row per completed job. */
export interface LedgerStore {
  /** Ledger row for a Completed job; false when the job already has one (never double counts). */
  recordEarning(announcementId: string, amount: bigint | number, opts?: { at?: number, receiptCid?: string }): boolean
  earningsSummary(w?: EarningsWindow): EarningsSummary
  earningsByDay(w?: EarningsWindow & { days?: number }): Array<{ day: string, amount: TokenAmount, jobs: number }>
  earningsByOriginator(): Array<{ originatorDid: string, amount: TokenAmount, jobs: number }>
  earningsByRegion(): Array<{ region: string, amount: TokenAmount, jobs: number }>
}

/** Port: the originator side: jobs we submitted and the bids we received. */
export interface SubmissionStore {
  recordSubmittedJob(j: SubmittedJobInput): boolean
  recordReceivedBid(b: ReceivedBidInput): boolean
  receivedBids(announcementId: string): ReceivedBidRow[]
  chooseExecutor(announcementId: string, executorDid: string, at?: number): void
  setSubmittedState(announcementId: string, state: string, at?: number): void
  setSubmittedReceipt(announcementId: string, receiptCid: string, verified: boolean, at?: number): void
  getSubmittedJob(announcementId: string): SubmittedJobRow | undefined
  listSubmittedJobs(opts?: ListOptions): SubmittedJobRow[]
}

/** The whole store of a data directory (the daemon holds it; consumers depend on the ports they use). */
export interface Store extends ConfigStore, MarketStore, JobStore, ReceiptStore, LedgerStore, SubmissionStore {
  readonly dataDir: string
  readonly dbPath: string
  /** Low-level handle for diagnostics and tests (integrity_check); don't write through it. */
  readonly db: Db
  close(): void
  schemaVersion(): number
  integrityCheck(): string
  /** Runs a WAL checkpoint (PASSIVE by default) — call it from an idle timer to keep commits' tail latency low. */
  checkpoint(mode?: 'PASSIVE' | 'FULL' | 'TRUNCATE'): void
}
