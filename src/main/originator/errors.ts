/**
 * Typed failures of a job submission. Every one is an `OriginatorError` with a `code`; the CLI maps
 * the codes to exit codes (docs/ORIGINATOR.md). Tests match them by `name` / `code`.
 */
import type { ExecutionReceiptV1, FailureReason } from '../../shared/protocol/index.js'

export type OriginatorErrorCode =
  | 'InvalidJob'
  | 'NoBids'
  | 'NoValidBids'
  | 'ExecutorFailed'
  | 'ReceiptInvalid'
  | 'Timeout'
  | 'Aborted'
  | 'Closed'

export class OriginatorError extends Error {
  override name = 'OriginatorError'
  readonly code: OriginatorErrorCode
  constructor (code: OriginatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** The job description given to submit() is unusable. */
export class InvalidJobError extends OriginatorError {
  override name = 'InvalidJobError'
  constructor (message: string) { super('InvalidJob', message) }
}

/** Nobody bid during the bidding window. */
export class NoBidsError extends OriginatorError {
  override name = 'NoBidsError'
  constructor (message: string) { super('NoBids', message) }
}

/** Bids arrived, but none passed the execution policy, or every eligible bidder refused / went silent. */
export class NoValidBidsError extends OriginatorError {
  override name = 'NoValidBidsError'
  /** Why each bid was not used (executor DID → reasons). */
  readonly why: Array<{ executorDid: string, reasons: string[] }>
  constructor (message: string, why: Array<{ executorDid: string, reasons: string[] }> = []) {
    super('NoValidBids', message)
    this.why = why
  }
}

/** The executor returned a verified receipt whose status is Failed or Cancelled. */
export class ExecutorFailedError extends OriginatorError {
  override name = 'ExecutorFailedError'
  readonly reason: FailureReason
  readonly receipt: ExecutionReceiptV1 | undefined
  readonly receiptCid: string | undefined
  /** The signed receipt block: the buyer keeps it as the executor's signed word on how the job ended. */
  readonly receiptBytes: Uint8Array | undefined
  constructor (reason: FailureReason, message: string, receipt?: ExecutionReceiptV1, receiptCid?: string, receiptBytes?: Uint8Array) {
    super('ExecutorFailed', message)
    this.reason = reason
    this.receipt = receipt
    this.receiptCid = receiptCid
    this.receiptBytes = receiptBytes
  }
}

/** The receipt (or the output it names) failed verification. `check` names the failed check. */
export class ReceiptInvalidError extends OriginatorError {
  override name = 'ReceiptInvalidError'
  readonly check: string
  readonly receiptCid: string | undefined
  constructor (check: string, message: string, receiptCid?: string) {
    super('ReceiptInvalid', message)
    this.check = check
    this.receiptCid = receiptCid
  }
}

/** No receipt within the job's time limits (or the caller's overall timeout). */
export class OriginatorTimeoutError extends OriginatorError {
  override name = 'OriginatorTimeoutError'
  constructor (message: string) { super('Timeout', message) }
}
