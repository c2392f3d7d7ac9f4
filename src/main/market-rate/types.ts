/** What the market-rate collector keeps, counts, is configured with, and offers. */
import type { MeshNode } from '../mesh/index.js'
import type { Logger } from '../log/index.js'

export interface MarketSample {
  receiptCid: string
  executorDid: string
  originatorDid: string
  price: string
  fuelUsed: string
  /** epoch ms of the receipt's finished_at */
  finishedAt: number
}

export interface MarketRateStats {
  heard: number
  fetched: number
  rejected: number
  /** announcements dropped by the bounds (queue full, rate, duplicates, our own) */
  skipped: number
  lastError: string | null
}

export interface MarketRateCollectorOptions {
  node: Pick<MeshNode, 'events' | 'getReceipt' | 'fetchBlock'>
  /** Our DID: our own receipts are not "the market". */
  ownDid: string
  /** Where samples persist (`market-rate.json`); none: memory only. */
  dataDir?: string
  log?: Logger
  now?: () => number
  /** Samples kept (newest), default 2000. */
  maxSamples?: number
  /** Receipt fetches started per minute, default 30. */
  fetchesPerMinute?: number
  /** Announcements waiting to be fetched, default 100 (more are dropped). */
  maxQueue?: number
  /** Largest receipt block accepted, default 64 KiB (real ones are < 1 KiB). */
  maxBlockBytes?: number
  /** Per-fetch timeout, default 8 s. */
  fetchTimeoutMs?: number
  /** Samples older than this are dropped, default 30 days. */
  maxAgeMs?: number
}

export interface MarketRateCollector {
  /** Samples finished at or after `sinceMs`, newest first. */
  samples(sinceMs?: number): MarketSample[]
  stats(): MarketRateStats
  /**
   * Which executor announced a receipt for this job (heard on the receipts topic, any executor but us):
   * for a job we bid on and did not get, it says who did — the bid was lost. Unverified (it is the
   * announcement's word); the last 10 000 jobs are remembered.
   */
  ranBy(announcementId: string): string | undefined
  /** Adds a verified receipt block directly (tests, or receipts learnt another way); returns whether it counted. */
  addReceipt(bytes: Uint8Array, expected?: { cid?: string, executorDid?: string, announcementId?: string }): boolean
  /** Resolves when the fetch queue is empty (tests). */
  idle(): Promise<void>
  close(): Promise<void>
}

/** An announced receipt waiting to be fetched: its CID, who announced it, for which job. */
export interface ReceiptRef { cid: string, executorDid: string, announcementId: string }
