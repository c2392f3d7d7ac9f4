/** The housekeeping pass: at start, then on its timer, and after every RETENTION.floodPass skipped announcements (a flood between hourly passes). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TypedEmitter } from '../../../src/main/mesh/index.js'
import type { DaemonEvents } from '../../../src/main/daemon/index.js'
import { RETENTION, setupHousekeeping } from '../../../src/main/daemon/housekeeping.js'
import type { Ctx } from '../../../src/main/daemon/setup.js'

test('housekeeping: one pass at start, another after a flood of skipped announcements (not bids) or many finished jobs', async () => {
  const events = new TypedEmitter<DaemonEvents>()
  const calls: Array<{ beforeMs: number, keepMax: number }> = []
  let pending = 3 // the first pass finds three batches' worth
  const store = { pruneSkippedAnnouncements: (o: { beforeMs: number, keepMax: number }) => { calls.push(o); return pending-- > 0 ? RETENTION.batch : 0 } }
  const pruned: Array<{ beforeMs: number, maxBytes: number, keepAfterMs: number }> = []
  const blocks = { pruneOutputs: async (o: { beforeMs: number, maxBytes: number, keepAfterMs: number }) => { pruned.push(o); return { files: 1, bytes: 10 } } }
  const cleanups: Array<() => unknown> = []
  const now = 10 * 24 * 3_600_000
  const ctx = { events, store, cleanups, clock: () => now, timers: { housekeepingMs: 3_600_000, machineGuardMs: 3_600_000 }, log: { info: () => {} }, fail: () => (err: unknown) => { throw err } } as unknown as Ctx
  const hk = setupHousekeeping(ctx, blocks)
  const first = await hk.run() // joins the start-up pass
  assert.deepEqual(first, { announcements: 3 * RETENTION.batch, outputFiles: 1, outputBytes: 10 })
  assert.equal(calls[0]?.beforeMs, now - RETENTION.skippedAnnouncementsMs)
  assert.equal(calls[0]?.keepMax, RETENTION.skippedAnnouncementsMax)
  assert.deepEqual(pruned, [{ beforeMs: now - RETENTION.outputsMs, maxBytes: RETENTION.outputsMaxBytes, keepAfterMs: now - RETENTION.outputsKeepMs }])
  const decided = (bid: boolean): void => { events.emit('announcement:decided', { announcementId: 'a', originatorDid: 'did:key:z', bid, reasons: [] }) }
  for (let i = 0; i < RETENTION.floodPass; i++) decided(true)
  assert.equal(pruned.length, 1, 'announcements we bid on do not count')
  for (let i = 0; i < RETENTION.floodPass - 1; i++) decided(false)
  assert.equal(pruned.length, 1)
  decided(false)
  await hk.run()
  assert.equal(pruned.length, 2, 'a flood of skipped announcements triggers a pass')
  const done = (): void => { events.emit('job:finished', { announcementId: 'j', status: 'CompletedSuccessfully', fuelUsed: '1', wallMs: 1, receiptCid: 'bafy' }) }
  for (let i = 0; i < RETENTION.jobsPass - 1; i++) done()
  assert.equal(pruned.length, 2)
  done()
  await hk.run()
  assert.equal(pruned.length, 3, 'so do many finished jobs (outputs pile up between hourly passes)')
  for (const c of cleanups) await c()
})

test('housekeeping: a database that cannot write (a full disk) is reported, and the outputs are still pruned', async () => {
  const events = new TypedEmitter<DaemonEvents>()
  const failures: string[] = []
  const store = { pruneSkippedAnnouncements: () => { throw new Error('database or disk is full') } }
  let pruned = 0
  const blocks = { pruneOutputs: async () => { pruned++; return { files: 2, bytes: 20 } } }
  const cleanups: Array<() => unknown> = []
  const ctx = { events, store, cleanups, clock: () => Date.now(), timers: { housekeepingMs: 3_600_000, machineGuardMs: 3_600_000 }, log: { info: () => {} }, fail: (where: string) => (err: unknown) => { failures.push(`${where}: ${(err as Error).message}`) } } as unknown as Ctx
  const r = await setupHousekeeping(ctx, blocks).run()
  assert.deepEqual(r, { announcements: 0, outputFiles: 2, outputBytes: 20 })
  assert.equal(pruned, 1)
  assert.deepEqual(failures, ['housekeeping: database or disk is full'])
  for (const c of cleanups) await c()
})
