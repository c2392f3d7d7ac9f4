/**
 * Housekeeping: what would otherwise grow for as long as the node runs. Every node hears every
 * announcement on the mesh and records each with its decision (~3 KB a row), and keeps every job's
 * output on disk for its originator: at one announcement a second that is ~250 MB a day. So, at start
 * and then every `timers.housekeepingMs` (default an hour):
 * - announcements we did not bid on: kept 7 days, and at most the newest 100 000;
 * - output blocks: kept 7 days after their last write (a job that produces the same output again
 *   makes it fresh again), after which the originator's fetch gets NotFound; and at most 2 GiB of
 *   them, the oldest going first but never one younger than 10 minutes (its originator may still be
 *   fetching it). Without the cap, a buyer of many big outputs from a free seller would fill its disk
 *   for a week (the `disk` rule would then stop all bidding). While the disk is below the `disk`
 *   rule's reserve, a pass (at most once a minute by default) removes every output older than 10 minutes.
 * Between the hourly passes a pass also runs after every `RETENTION.floodPass` skipped announcements
 * (a flood from many originators, each within its intake) and every `RETENTION.jobsPass` finished jobs.
 * Jobs, bids, receipts, earnings and announcements we bid on stay for good (the node's history).
 * Deletes go in batches, yielding between them, so a large first prune never stalls the node.
 */
import type { ExecutorBlockStore } from '../jobs/index.js'
import type { Ctx } from './setup.js'

export const RETENTION = {
  skippedAnnouncementsMs: 7 * 24 * 3_600_000,
  skippedAnnouncementsMax: 100_000,
  outputsMs: 7 * 24 * 3_600_000,
  outputsMaxBytes: 2 * 1024 ** 3,
  outputsKeepMs: 10 * 60_000,
  floodPass: 20_000,
  jobsPass: 100,
  batch: 2000
} as const

export interface Housekeeping {
  /** One pass now (the timer's work); resolves with what was removed. */
  run(): Promise<{ announcements: number, outputFiles: number, outputBytes: number }>
}

export interface HousekeepingOptions {
  /** The data dir's disk is below the `disk` rule's reserve (checked every `timers.machineGuardMs`). */
  diskLow?: () => boolean
}

export function setupHousekeeping (ctx: Ctx, blocks: Pick<ExecutorBlockStore, 'pruneOutputs'>, opts: HousekeepingOptions = {}): Housekeeping {
  let running: Promise<Awaited<ReturnType<Housekeeping['run']>>> | undefined
  let stopped = false
  const pass = async (): Promise<Awaited<ReturnType<Housekeeping['run']>>> => {
    const now = ctx.clock()
    // a disk too full to bid on: every output older than the keep time goes, so the node can sell again
    const urgent = opts.diskLow?.() === true
    let announcements = 0
    try {
      for (;;) {
        if (stopped) break
        const n = ctx.store.pruneSkippedAnnouncements({ beforeMs: now - RETENTION.skippedAnnouncementsMs, keepMax: RETENTION.skippedAnnouncementsMax, batch: RETENTION.batch })
        announcements += n
        if (n === 0) break
        await new Promise((resolve) => setImmediate(resolve))
      }
    } catch (err) {
      ctx.fail('housekeeping')(err) // a database that cannot write (a full disk) must not keep the outputs from going
    }
    const out = stopped ? { files: 0, bytes: 0 } : await blocks.pruneOutputs({ beforeMs: now - RETENTION.outputsMs, maxBytes: urgent ? 0 : RETENTION.outputsMaxBytes, keepAfterMs: now - RETENTION.outputsKeepMs })
    const removed = { announcements, outputFiles: out.files, outputBytes: out.bytes }
    if (announcements > 0 || out.files > 0) ctx.log.info({ sub: 'housekeeping', ...removed, urgent }, urgent ? 'disk almost full: outputs older than 10 minutes removed' : 'old records and outputs removed')
    return removed
  }
  const run: Housekeeping['run'] = async () => {
    running ??= pass().finally(() => { running = undefined })
    return await running
  }
  const tick = (): void => { run().catch(ctx.fail('housekeeping')) }
  tick()
  const timer = setInterval(tick, ctx.timers.housekeepingMs)
  let skipped = 0
  ctx.events.on('announcement:decided', (e) => {
    if (e.bid || ++skipped < RETENTION.floodPass) return
    skipped = 0
    tick()
  })
  let finished = 0
  ctx.events.on('job:finished', () => {
    if (++finished < RETENTION.jobsPass) return
    finished = 0
    tick()
  })
  timer.unref()
  let lastUrgent = -Infinity
  const diskTimer = setInterval(() => {
    // at most every 12 disk samples (a minute by default)
    if (opts.diskLow?.() !== true || ctx.clock() - lastUrgent < 12 * ctx.timers.machineGuardMs) return
    lastUrgent = ctx.clock()
    tick()
  }, ctx.timers.machineGuardMs)
  diskTimer.unref()
  ctx.cleanups.push(async () => {
    stopped = true
    clearInterval(timer)
    clearInterval(diskTimer)
    await running?.catch(() => {})
  })
  return { run }
}
