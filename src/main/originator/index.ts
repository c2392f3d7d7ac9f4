/** The originator side of the market: submit jobs, select bids, verify receipts. See docs/ORIGINATOR.md. */
export { createOriginator } from './originator.js'
export type {
  Originator, OriginatorEvent, OriginatorOptions, SubmitJob, SubmitOptions, SubmitResult, SubmitTimings
} from './types.js'
export { selectBid, policyRefusals, DEFAULT_REPUTATION } from './select.js'
export type { CandidateBid, RankedBid, RefusedBid, Reputations, Selection } from './select.js'
export { AccessBlockStore } from './blocks.js'
export { createReputationBook, reputationFrom, HISTORY_SETTING } from './reputation.js'
export type { ExecutorHistory, ReputationBook } from './reputation.js'
export { verifyJobReceipt, checkOutput } from './verify.js'
export type { ExpectedReceipt, ReceiptCheck } from './verify.js'
export * from './errors.js'
