/**
 * After a crash: `failInterrupted()` — at start, before this process runs anything — fails the jobs the
 * previous process left active (InternalError) and signs their receipts; `notify()` tells their
 * originators, and is retried periodically until each is told. It never touches a job this process runs.
 */
import { peerIdFromDid } from '../../shared/protocol/index.js'
import type { JobRow } from '../store/index.js'
import type { Outbox } from './outbox.js'
import type { ExecutorContext } from './types.js'

export interface Recovery {
  failInterrupted(): void
  notify(): Promise<void>
}

export function createRecovery (ctx: ExecutorContext, out: Outbox): Recovery {
  const { store } = ctx.opts

  /** The signed Failed(InternalError) receipt of a crash-interrupted job: the stored one, or a new one (once). */
  const interruptedReceipt = (job: JobRow): { bytes: Uint8Array, cid: string } => {
    const existing = store.receiptsForJob(job.announcementId)[0]
    const row = existing !== undefined ? store.getReceipt(existing.cid) : undefined
    if (row !== undefined) return { bytes: row.bytes, cid: row.cid }
    const t = ctx.clock()
    const receipt = out.buildReceipt(job, { status: 'Failed', failureReason: 'InternalError', fuelUsed: 0n, wallMs: 0, peakMemory: 0, startedAt: job.createdAt, finishedAt: t })
    store.putReceipt({ cid: receipt.cid, bytes: receipt.bytes, announcementId: job.announcementId, status: 'Failed', failureReason: 'InternalError', fuelUsed: 0, price: job.price, createdAt: t })
    ctx.events.emit('job:finished', { announcementId: job.announcementId, status: 'Failed', failureReason: 'InternalError', fuelUsed: 0n, wallMs: 0, receiptCid: receipt.cid, price: job.price })
    return receipt
  }

  let notifying = false
  return {
    failInterrupted () {
      for (const { job } of store.failInterruptedJobs(ctx.clock())) interruptedReceipt(job)
    },
    /**
     * Tells the originators of crash-interrupted jobs that their job failed: the Failed status and the
     * receipt. A job is marked notified only when the originator actually received the news.
     */
    async notify () {
      if (notifying) return
      notifying = true
      try {
        for (const { job } of store.unnotifiedFailures()) {
          if (ctx.running.has(job.announcementId)) continue
          const receipt = interruptedReceipt(job)
          const target = { announcementId: job.announcementId, originatorDid: job.originatorDid, originatorPeerId: peerIdFromDid(job.originatorDid) }
          const told = await out.sendStatus(target, 'Failed', job.details ?? 'InternalError: executor restarted', true)
          const announced = await out.publishReceipt(target, receipt, true)
          if (told || announced) store.markFailureNotified(job.announcementId)
        }
      } finally {
        notifying = false
      }
    }
  }
}
