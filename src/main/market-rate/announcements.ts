/**
 * Receiving `ExecutionReceiptAvailableV1` announcements (the receipts topic): each is counted; who ran
 * the job is remembered when the executor signed its own announcement and is not us (the last 10 000
 * jobs, for ranBy); the receipt is queued for fetching unless it is ours, seen or waiting already, or
 * the queue is full (then it is skipped).
 */
import type { MeshNode } from '../mesh/index.js'
import type { FetchQueue } from './fetch-queue.js'
import type { StatsRecorder } from './stats.js'

export interface ReceiptListener {
  /** The executor that announced a receipt for this job. */
  ranBy(announcementId: string): string | undefined
  /** Stops listening. */
  off(): void
}

export function listenForReceipts (o: { events: MeshNode['events'], ownDid: string, stats: StatsRecorder, seen: (cid: string) => boolean, queue: FetchQueue }): ReceiptListener {
  const ran = new Map<string, string>()
  let closed = false
  const off = o.events.on('message:received', (e) => {
    if (closed || e.message.variant !== 'ExecutionReceiptAvailableV1') return
    const b = e.message.body
    o.stats.heard()
    if (b.executor_did !== o.ownDid && e.message.signer === b.executor_did) {
      ran.set(b.announcement_id, b.executor_did)
      if (ran.size > 10_000) ran.delete(ran.keys().next().value as string)
    }
    if (b.executor_did === o.ownDid || o.seen(b.receipt_cid) || o.queue.has(b.receipt_cid)) { o.stats.skipped(); return }
    if (o.queue.full()) { o.stats.skipped(); return }
    o.queue.push({ cid: b.receipt_cid, executorDid: b.executor_did, announcementId: b.announcement_id })
  })
  return {
    ranBy: (id) => ran.get(id),
    off () { closed = true; off() }
  }
}
