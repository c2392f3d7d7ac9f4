import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import {
  openStore, migrate, LATEST_VERSION, MIGRATIONS, schemaVersion, type Store
} from '../../../src/main/store/index.js'

const ORIG = 'did:key:z6MkOriginatorA'
const ORIG_B = 'did:key:z6MkOriginatorB'

function tempDir (): string {
  return mkdtempSync(join(tmpdir(), 'mesh-store-'))
}

function withStore (fn: (s: Store, dir: string) => void, opts: Parameters<typeof openStore>[1] = {}): void {
  const dir = tempDir()
  const s = openStore(dir, opts)
  try {
    fn(s, dir)
  } finally {
    s.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

function newJob (s: Store, id: string, opts: { price?: number, originator?: string, region?: string, at?: number } = {}): void {
  s.createJob({ announcementId: id, originatorDid: opts.originator ?? ORIG, price: opts.price ?? 10, wasmCid: 'bafkreimodule', maxFuel: 5_000_000, timeoutSeconds: 30, region: opts.region, at: opts.at })
}

function runToRunning (s: Store, id: string): void {
  s.transitionJob(id, 'Accepted')
  s.transitionJob(id, 'FetchingInputs')
  s.transitionJob(id, 'Running')
}

function tableSchema (db: Database.Database): string[] {
  return (db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as Array<{ type: string, name: string, sql: string | null }>)
    .map((r) => `${r.type} ${r.name} ${r.sql ?? ''}`)
}

test('opens with WAL, latest schema, integrity ok', () => {
  withStore((s) => {
    assert.equal(s.schemaVersion(), LATEST_VERSION)
    assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal')
    assert.equal(s.db.pragma('synchronous', { simple: true }), 1) // NORMAL between durable commits
    assert.equal(s.integrityCheck(), 'ok')
    s.checkpoint()
    s.checkpoint('TRUNCATE')
  })
})

test('migrations: versions are 1..N in order', () => {
  assert.deepEqual(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1))
})

test('migrations from empty and from every earlier version reach the same schema and keep data', () => {
  const fresh = new Database(':memory:')
  migrate(fresh)
  const expected = tableSchema(fresh)
  fresh.close()
  for (let v = 0; v <= LATEST_VERSION; v++) {
    const dir = tempDir()
    try {
      const db = new Database(join(dir, 'executor.db'))
      migrate(db, v)
      assert.equal(schemaVersion(db), v)
      if (v >= 1) {
        db.prepare("INSERT INTO settings (key, value_json, updated_at) VALUES ('region', '\"eu-west\"', 1)").run()
        db.prepare("INSERT INTO jobs (announcement_id, originator_did, state, price, wasm_cid, max_fuel, timeout_seconds, created_at, updated_at) VALUES ('old', ?, 'Completed', 4, 'bafkreix', 10, 5, 1, 1)").run(ORIG)
        db.prepare("INSERT INTO earnings (announcement_id, originator_did, amount, earned_at) VALUES ('old', ?, 4, 1)").run(ORIG)
      }
      db.close()
      const s = openStore(dir)
      try {
        assert.equal(s.schemaVersion(), LATEST_VERSION, `from v${v}`)
        assert.deepEqual(tableSchema(s.db), expected, `schema from v${v}`)
        if (v >= 1) {
          assert.equal(s.getSetting('region'), 'eu-west')
          assert.equal(s.getJob('old')?.state, 'Completed')
          assert.equal(s.earningsSummary().allTime, 4n)
          assert.deepEqual(s.earningsByRegion(), [{ region: 'unknown', amount: 4n, jobs: 1 }])
        }
        assert.equal(s.integrityCheck(), 'ok')
      } finally {
        s.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
})

test('a schema newer than this build is refused with SchemaTooNew', () => {
  const dir = tempDir()
  try {
    const db = new Database(join(dir, 'executor.db'))
    db.pragma(`user_version = ${LATEST_VERSION + 1}`)
    db.close()
    assert.throws(() => openStore(dir), { name: 'SchemaTooNew', code: 'SchemaTooNew' })
    // the lock was released on failure
    const db2 = new Database(join(dir, 'executor.db'))
    db2.pragma('user_version = 0')
    db2.close()
    openStore(dir).close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a second open of the same data dir fails with DataDirLocked; after close it opens', () => {
  withStore((_s, dir) => {
    assert.throws(() => openStore(dir), (err: unknown) => {
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'DataDirLocked')
      assert.equal((err as { code?: string }).code, 'DataDirLocked')
      assert.match(err.message, /in use by another mesh-executor instance \(pid \d+\)/)
      return true
    })
  })
})

test('settings, identity ref and versioned policies', () => {
  withStore((s) => {
    assert.equal(s.getSetting('missing'), undefined)
    s.setSetting('region', 'eu-west')
    s.setSetting('caps', { cpuFraction: 0.5 })
    s.setSetting('region', 'us-east')
    assert.deepEqual(s.allSettings(), { caps: { cpuFraction: 0.5 }, region: 'us-east' })
    s.setIdentityRef({ keyPath: '/x/identity.key', did: 'did:key:z6Mkme', peerId: '12D3KooWme' })
    assert.equal(s.getIdentityRef()?.did, 'did:key:z6Mkme')
    assert.equal(s.currentPolicy(), undefined)
    const v1 = s.savePolicy({ autoBid: true }, 'first')
    const v2 = s.savePolicy({ autoBid: false })
    assert.equal(v2, v1 + 1)
    assert.deepEqual(s.currentPolicy()?.policy, { autoBid: false })
    assert.equal(s.currentPolicy()?.version, v2)
    assert.deepEqual(s.getPolicyVersion(v1)?.policy, { autoBid: true })
    assert.equal(s.getPolicyVersion(v1)?.note, 'first')
    assert.deepEqual(s.policyHistory().map((p) => p.version), [v2, v1])
  })
})

test('pruning skipped announcements: by age, then the oldest beyond a count, in batches; bids and their announcements stay', () => {
  withStore((s) => {
    const rec = (id: string, at: number, bid: boolean): void => {
      s.recordAnnouncement({ announcementId: id, originatorDid: ORIG, raw: new Uint8Array([1]), summary: {}, decision: bid ? 'bid' : 'no_bid', receivedAt: at, reasons: [{ rule: 'price', ok: bid, text: 'price: x' }] })
    }
    for (let i = 0; i < 10; i++) rec(`old${i}`, 1000 + i, false)
    rec('oldbid', 1000, true)
    s.recordBid({ announcementId: 'oldbid', originatorDid: ORIG, price: 1n })
    for (let i = 0; i < 6; i++) rec(`new${i}`, 5000 + i, false)
    const prune = (): number => s.pruneSkippedAnnouncements({ beforeMs: 2000, keepMax: 4, batch: 3 })
    assert.equal(prune(), 3, 'a batch at most')
    assert.equal(prune(), 3)
    assert.equal(prune(), 3)
    assert.equal(prune(), 1, 'the last of the old ones')
    assert.equal(prune(), 2, 'then the oldest beyond keepMax')
    assert.equal(prune(), 0)
    assert.deepEqual(s.listAnnouncements({ decision: 'no_bid' }).map((a) => a.announcementId).sort(), ['new2', 'new3', 'new4', 'new5'])
    assert.equal(s.getAnnouncement('oldbid')?.decision, 'bid', 'an announcement we bid on stays')
    assert.notEqual(s.getBid('oldbid'), undefined)
    assert.equal(s.originatorRecord(ORIG)?.announcementsSeen, 17, 'the originator history counts stay')
  })
})

test('announcements with decisions, dedupe, counters by first failing rule, originator history', () => {
  let t = 1000
  withStore((s) => {
    const rec = (id: string, ok: boolean, failRule = 'price', orig = ORIG): boolean => s.recordAnnouncement({
      announcementId: id,
      originatorDid: orig,
      raw: new Uint8Array([1, 2, 3]),
      summary: { max_fuel: '100', qos: 'BestEffort' },
      decision: ok ? 'bid' : 'no_bid',
      price: ok ? 9n : undefined,
      reasons: [{ rule: 'autoBid', ok: true, text: 'autoBid: on' }, { rule: failRule, ok, text: `${failRule}: x` }, { rule: 'zzz', ok: false, text: 'zzz: later failure' }].slice(0, ok ? 2 : 3)
    })
    assert.equal(rec('a1', true), true)
    assert.equal(rec('a1', true), false, 'same announcement seen twice (global + region topic)')
    assert.equal(rec('a2', false, 'price'), true)
    assert.equal(rec('a3', false, 'price'), true)
    assert.equal(rec('a4', false, 'region', ORIG_B), true)
    const stats = s.announcementStats()
    assert.deepEqual(stats, { total: 4, bid: 1, noBid: 3, byFirstFailedRule: [{ rule: 'price', count: 2 }, { rule: 'region', count: 1 }] })
    const a2 = s.getAnnouncement('a2')
    assert.equal(a2?.firstFailedRule, 'price')
    assert.deepEqual(a2?.raw, new Uint8Array([1, 2, 3]))
    assert.equal(a2?.reasons.length, 3)
    assert.equal(s.getAnnouncement('a1')?.price, 9n)
    assert.deepEqual(s.listAnnouncements({ decision: 'no_bid' }).map((a) => a.announcementId).sort(), ['a2', 'a3', 'a4'])
    assert.deepEqual(s.listAnnouncements({ firstFailedRule: 'region' }).map((a) => a.announcementId), ['a4'])
    assert.equal(s.originatorRecord(ORIG)?.announcementsSeen, 3)
    assert.equal(s.originatorRecord(ORIG_B)?.announcementsSeen, 1)
    // one bid per announcement
    assert.equal(s.recordBid({ announcementId: 'a1', originatorDid: ORIG, price: 9n }), true)
    assert.equal(s.recordBid({ announcementId: 'a1', originatorDid: ORIG, price: 9n }), false)
    assert.equal(s.getBid('a1')?.sentOk, undefined)
    s.markBidSent('a1', { ok: false, error: 'dial failed' })
    assert.equal(s.getBid('a1')?.sentOk, false)
    assert.equal(s.getBid('a1')?.error, 'dial failed')
    assert.equal(s.originatorRecord(ORIG)?.bidsSent, 1)
  }, { now: () => t++ })
})

test('job state machine: timestamps every transition, invalid transitions throw InvalidTransition', () => {
  let t = 100
  withStore((s) => {
    newJob(s, 'j1')
    assert.equal(s.getJob('j1')?.state, 'Assigned')
    assert.equal(s.countActiveJobs(), 1)
    assert.throws(() => s.transitionJob('j1', 'Running'), { name: 'InvalidTransition', code: 'InvalidTransition' })
    runToRunning(s, 'j1')
    s.transitionJob('j1', 'Completed')
    assert.throws(() => s.transitionJob('j1', 'Running'), { name: 'InvalidTransition' })
    assert.throws(() => s.transitionJob('j1', 'Failed', { failureReason: 'Trap' }), { name: 'InvalidTransition' })
    assert.throws(() => s.transitionJob('nope', 'Accepted'), { name: 'UnknownJob' })
    assert.throws(() => newJob(s, 'j1'), { code: 'DuplicateJob' })
    const tl = s.jobTimeline('j1')
    assert.deepEqual(tl.map((x) => [x.from, x.to]), [[undefined, 'Assigned'], ['Assigned', 'Accepted'], ['Accepted', 'FetchingInputs'], ['FetchingInputs', 'Running'], ['Running', 'Completed']])
    assert.ok(tl.every((x, i) => i === 0 || x.at > (tl[i - 1]?.at ?? Infinity)), 'strictly increasing timestamps from the clock')
    newJob(s, 'j2')
    assert.throws(() => s.transitionJob('j2', 'Failed'), { code: 'BadValue' }, 'Failed needs a reason')
    s.transitionJob('j2', 'Failed', { failureReason: 'FetchFailed', details: 'FetchFailed: no provider' })
    assert.equal(s.getJob('j2')?.failureReason, 'FetchFailed')
    newJob(s, 'j3')
    s.transitionJob('j3', 'Accepted')
    s.transitionJob('j3', 'Cancelled')
    assert.equal(s.getJob('j3')?.failureReason, 'Cancelled')
    assert.equal(s.countActiveJobs(), 0)
    assert.deepEqual(s.listJobs({ states: ['Failed'] }).map((j) => j.announcementId), ['j2'])
    const h = s.originatorRecord(ORIG)
    assert.deepEqual([h?.assigned, h?.completed, h?.failed], [3, 1, 1])
  }, { now: () => t++ })
})

test('ledger: one row per completed job, a retry never double counts; receipts stored with the completion', () => {
  withStore((s) => {
    newJob(s, 'j1', { price: 12 })
    runToRunning(s, 'j1')
    const receipt = { cid: 'bafyreij1', bytes: new Uint8Array([9, 9]), announcementId: 'j1', status: 'CompletedSuccessfully', fuelUsed: 123n, price: 12 }
    s.transitionJob('j1', 'Completed', { receipt })
    assert.equal(s.earningsSummary().allTime, 12n)
    assert.equal(s.recordEarning('j1', 12), false, 'a retried ledger write is ignored')
    assert.throws(() => s.transitionJob('j1', 'Completed', { receipt }), { name: 'InvalidTransition' })
    assert.equal(s.earningsSummary().allTime, 12n)
    assert.equal(s.earningsSummary().jobs, 1)
    assert.equal(s.putReceipt(receipt), false, 'receipt CID is unique')
    assert.deepEqual(s.getReceipt('bafyreij1')?.bytes, new Uint8Array([9, 9]))
    assert.equal(s.getReceipt('bafyreij1')?.fuelUsed, 123n)
    assert.deepEqual(s.receiptsForJob('j1').map((r) => r.cid), ['bafyreij1'])
    // raw SQL cannot add a second row either
    assert.throws(() => s.db.prepare("INSERT INTO earnings (announcement_id, originator_did, amount, earned_at) VALUES ('j1', 'x', 1, 1)").run(), /UNIQUE/)
    // only completed jobs earn
    newJob(s, 'j2')
    assert.throws(() => s.recordEarning('j2', 5), { code: 'BadValue' })
    // a failed write inside the completion transaction rolls everything back
    runToRunning(s, 'j2')
    assert.throws(() => s.transitionJob('j2', 'Completed', { earning: -1 }), { code: 'BadValue' })
    assert.equal(s.getJob('j2')?.state, 'Running')
    assert.equal(s.jobTimeline('j2').at(-1)?.to, 'Running')
    assert.equal(s.earningsSummary().jobs, 1)
  })
})

test('earnings queries: today / 7 days / all time, by day, by originator, by region', () => {
  const DAY = 86_400_000
  const now = Date.UTC(2026, 10, 25, 12, 0, 0)
  withStore((s) => {
    const done = (id: string, price: number, at: number, orig: string, region?: string): void => {
      newJob(s, id, { price, originator: orig, region, at })
      s.transitionJob(id, 'Accepted', { at })
      s.transitionJob(id, 'FetchingInputs', { at })
      s.transitionJob(id, 'Running', { at })
      s.transitionJob(id, 'Completed', { at })
    }
    done('t1', 5, now - 1000, ORIG, 'eu-west')
    done('t2', 7, now - 2 * DAY, ORIG_B, 'us-east')
    done('t3', 11, now - 10 * DAY, ORIG, 'eu-west')
    done('t4', 3, now - 13 * 3600_000, ORIG) // yesterday in UTC, today in UTC+2? no: 23:00 UTC prev day → 01:00 local
    newJob(s, 'failed', { price: 100 })
    s.transitionJob('failed', 'Failed', { failureReason: 'Trap' })
    assert.deepEqual(s.earningsSummary({ now }), { today: 5n, last7d: 15n, allTime: 26n, jobs: 4 })
    assert.equal(s.earningsSummary({ now, tzOffsetMinutes: 120 }).today, 8n)
    assert.deepEqual(s.earningsByDay({ now, days: 3 }), [
      { day: '2026-11-23', amount: 7n, jobs: 1 },
      { day: '2026-11-24', amount: 3n, jobs: 1 },
      { day: '2026-11-25', amount: 5n, jobs: 1 }
    ])
    assert.deepEqual(s.earningsByOriginator(), [{ originatorDid: ORIG, amount: 19n, jobs: 3 }, { originatorDid: ORIG_B, amount: 7n, jobs: 1 }])
    assert.deepEqual(s.earningsByRegion(), [{ region: 'eu-west', amount: 16n, jobs: 2 }, { region: 'us-east', amount: 7n, jobs: 1 }, { region: 'unknown', amount: 3n, jobs: 1 }])
  })
})

test('job logs are capped per job with a truncation marker', () => {
  withStore((s) => {
    newJob(s, 'j1')
    newJob(s, 'j2')
    assert.deepEqual(s.appendJobLog('j1', 'stderr', 'a'.repeat(60)), { stored: true, truncated: false })
    assert.deepEqual(s.appendJobLog('j1', 'stderr', 'b'.repeat(60)), { stored: true, truncated: true })
    assert.deepEqual(s.appendJobLog('j1', 'stderr', 'c'), { stored: false, truncated: true })
    assert.deepEqual(s.appendJobLog('j2', 'stdout', 'other job unaffected'), { stored: true, truncated: false })
    const logs = s.jobLogs('j1')
    assert.deepEqual(logs.map((l) => l.text), ['a'.repeat(60), 'b'.repeat(40), '[log truncated at 100 bytes]'])
    assert.equal(s.getJob('j1')?.logTruncated, true)
    assert.throws(() => s.appendJobLog('zz', 'stderr', 'x'), { name: 'UnknownJob' })
  }, { logCapBytes: 100 })
})

test('failInterruptedJobs fails the jobs a previous process left active; unnotifiedFailures lists them until told', () => {
  const dir = tempDir()
  try {
    let s = openStore(dir)
    newJob(s, 'done', { price: 4 })
    runToRunning(s, 'done')
    s.transitionJob('done', 'Completed')
    newJob(s, 'assigned')
    newJob(s, 'running')
    runToRunning(s, 'running')
    newJob(s, 'fetching')
    s.transitionJob('fetching', 'Accepted')
    s.transitionJob('fetching', 'FetchingInputs')
    s.close()
    s = openStore(dir)
    const rec = s.failInterruptedJobs()
    assert.deepEqual(rec.map((r) => [r.job.announcementId, r.previousState, r.job.state, r.job.failureReason]).sort(), [
      ['assigned', 'Assigned', 'Failed', 'InternalError'],
      ['fetching', 'FetchingInputs', 'Failed', 'InternalError'],
      ['running', 'Running', 'Failed', 'InternalError']
    ])
    assert.equal(s.getJob('done')?.state, 'Completed')
    assert.equal(s.countActiveJobs(), 0)
    // a second call finds nothing active: no new transitions, counters unchanged
    assert.deepEqual(s.failInterruptedJobs(), [])
    assert.equal(s.jobTimeline('running').filter((t) => t.to === 'Failed').length, 1)
    assert.equal(s.originatorRecord(ORIG)?.failed, 3)
    // the notification list is separate and never touches jobs
    newJob(s, 'live')
    runToRunning(s, 'live')
    assert.deepEqual(s.unnotifiedFailures().map((r) => [r.job.announcementId, r.previousState]).sort(), [['assigned', 'Assigned'], ['fetching', 'FetchingInputs'], ['running', 'Running']])
    assert.equal(s.getJob('live')?.state, 'Running', 'listing unnotified failures never fails a running job')
    s.markFailureNotified('running')
    s.markFailureNotified('assigned')
    assert.deepEqual(s.unnotifiedFailures().map((r) => r.job.announcementId), ['fetching'])
    s.markFailureNotified('fetching')
    assert.deepEqual(s.unnotifiedFailures(), [])
    s.transitionJob('live', 'Completed')
    assert.equal(s.earningsSummary().allTime, 14n, 'the done job (4) and the live one (10)')
    s.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('originator side: submitted jobs, received bids, chosen executor, verified receipt', () => {
  withStore((s) => {
    assert.equal(s.recordSubmittedJob({ announcementId: 'o1', raw: new Uint8Array([1]), summary: { max_fuel: '10' } }), true)
    assert.equal(s.recordSubmittedJob({ announcementId: 'o1', raw: new Uint8Array([1]), summary: {} }), false)
    assert.equal(s.recordReceivedBid({ announcementId: 'o1', executorDid: 'did:key:z6MkE1', price: 3, raw: new Uint8Array([2]) }), true)
    assert.equal(s.recordReceivedBid({ announcementId: 'o1', executorDid: 'did:key:z6MkE1', price: 2, raw: new Uint8Array([2]) }), false)
    assert.equal(s.recordReceivedBid({ announcementId: 'o1', executorDid: 'did:key:z6MkE2', raw: new Uint8Array([3]), region: 'eu-west' }), true)
    assert.throws(() => s.recordReceivedBid({ announcementId: 'nope', executorDid: 'x', raw: new Uint8Array() }), { name: 'UnknownJob' })
    assert.deepEqual(s.receivedBids('o1').map((b) => [b.executorDid, b.price]), [['did:key:z6MkE1', 3n], ['did:key:z6MkE2', undefined]])
    s.chooseExecutor('o1', 'did:key:z6MkE1')
    s.setSubmittedState('o1', 'Running')
    s.setSubmittedReceipt('o1', 'bafyreir', true)
    const j = s.getSubmittedJob('o1')
    assert.equal(j?.chosenExecutorDid, 'did:key:z6MkE1')
    assert.equal(j?.state, 'Running')
    assert.equal(j?.receiptCid, 'bafyreir')
    assert.equal(j?.receiptVerified, true)
    assert.equal(s.listSubmittedJobs().length, 1)
  })
})

test('bad amounts are refused with a clear error', () => {
  withStore((s) => {
    assert.throws(() => newJob(s, 'neg', { price: -1 }), { code: 'BadValue', message: /price -1 is outside/ })
    assert.throws(() => s.createJob({ announcementId: 'big', originatorDid: ORIG, wasmCid: 'x', maxFuel: 1n << 64n, timeoutSeconds: 1 }), { code: 'BadValue' })
    assert.equal(s.getJob('neg'), undefined)
  })
})
