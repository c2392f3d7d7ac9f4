/**
 * What a seller sees, at the API: paid vs free jobs, bid outcomes, descriptions, the health check,
 * the logs, period exports (CSV/JSON) with receipt CIDs, the signed earnings statement (and that a
 * third party can check it offline and catches tampering), settings errors named by label, the market rate.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createFixture } from './fixture.js'
import { computeHealth, type HealthFacts, type RecentActivity } from '../../../src/main/api/health.js'
import { createApiService, type MarketRateSource } from '../../../src/main/api/index.js'
import { createMarketRateCollector, type MarketSample } from '../../../src/main/market-rate/index.js'
import { verifyStatementFile } from '../../../src/main/export/index.js'
import { TypedEmitter, type MeshEvents } from '../../../src/main/mesh/index.js'
import { formatTimestamp, generateIdentity, rawCid, signReceipt, verifyReceiptBlock } from '../../../src/shared/protocol/index.js'

const BIN = fileURLToPath(new URL('../../../bin/mesh-executor.js', import.meta.url))
const DAY = 86_400_000

test('earnings: a unit, paid jobs exclude free ones; jobs carry their description and what they earned', async () => {
  const f = await createFixture()
  try {
    const e0 = await f.api.invoke('earnings.get', {})
    assert.equal(e0.unit, 'tokens')
    assert.equal(e0.paidJobs, f.completedIds.length)
    assert.equal(e0.freeJobs, 0)
    // a job done for free: counted as a job, not as a paid one
    const id = f.runningId
    f.store.db.prepare('UPDATE jobs SET price = 0 WHERE announcement_id = ?').run(id)
    f.finishRunningJob(10n)
    const e1 = await f.api.invoke('earnings.get', {})
    assert.equal(e1.jobs, e0.jobs + 1)
    assert.equal(e1.paidJobs, e0.paidJobs)
    assert.equal(e1.freeJobs, 1)

    const jobs = await f.api.invoke('jobs.list', {})
    const done = jobs.find((j) => j.announcementId === f.completedIds[0])
    assert.ok(done !== undefined)
    assert.ok(['word count', 'mandelbrot tile', 'sha256 chain'].includes(done.description ?? ''))
    assert.equal(done.earned, done.price)
    const failed = jobs.find((j) => j.state === 'Failed')
    assert.equal(failed?.earned, null)
    assert.equal(failed?.failureReason, 'FuelExhausted')
    const receipts = await f.api.invoke('receipts.list', {})
    assert.ok(receipts.every((r) => r.description !== null))
  } finally { f.close() }
})

test('market: every bid says won / lost / refused / not delivered, and the stats count them', async () => {
  const f = await createFixture()
  try {
    // a bid that could not be delivered, and one delivered whose window closed long ago without a job
    const lost = await f.announce(60, { maxPrice: 1000, maxFuel: 1_000_000, at: Date.now() - 3 * 3_600_000 })
    const failed = await f.announce(61, { maxPrice: 1000, maxFuel: 1_000_000, at: Date.now() - 2 * 3_600_000 })
    f.store.markBidSent(lost, { ok: true })
    f.store.markBidSent(failed, { ok: false, error: 'BidRefusedError: originator refused the bid: Stale' })
    const waiting = await f.announce(62, { maxPrice: 1000, maxFuel: 1_000_000 })
    f.store.markBidSent(waiting, { ok: true })
    // the buyer chose us, but every job slot was taken by then: neither won nor lost
    const refused = await f.announce(64, { maxPrice: 1000, maxFuel: 1_000_000, at: Date.now() - 90 * 60_000 })
    f.store.markBidSent(refused, { ok: true })
    f.store.markBidRefused(refused, 'already running 1 job(s), limit 1')

    const anns = await f.api.invoke('market.announcements', { limit: 100 })
    const by = (id: string): string | undefined => anns.find((a) => a.announcementId === id)?.bid?.outcome
    assert.equal(by(lost), 'lost')
    assert.equal(by(failed), 'not_sent')
    assert.match(anns.find((a) => a.announcementId === failed)?.bid?.text ?? '', /never assigned: the bid was not delivered \(BidRefusedError/)
    assert.equal(by(waiting), 'waiting')
    assert.equal(by(refused), 'refused')
    assert.equal(anns.find((a) => a.announcementId === refused)?.bid?.text, 'refused: the buyer chose us, but already running 1 job(s), limit 1')
    for (const id of f.completedIds) assert.equal(by(id), 'won')
    assert.equal(by(f.runningId), 'won')
    for (const a of anns) {
      if (a.decision === 'no_bid') assert.equal(a.bid, null)
      assert.ok(a.description !== null)
    }
    const stats = await f.api.invoke('market.stats', {})
    assert.equal(stats.outcomes.won, f.completedIds.length + 2)
    assert.equal(stats.outcomes.notSent, 1)
    assert.equal(stats.outcomes.waiting, 1)
    assert.equal(stats.outcomes.refused, 1)
    assert.ok(stats.outcomes.lost >= 1)
  } finally { f.close() }
})

test('health: each reason names its fix; the state is idle (not bidding) when no work can come, paused wins over error', async () => {
  const base: HealthFacts = {
    online: true, peers: 3, draining: false, error: null, autoBid: true, pausedUntil: null, runtimeUnavailable: null,
    bootstrap: { configured: [], failures: [] }, schedule: null, onBattery: false, notIdle: null, tooHot: null, diskFull: null,
    slots: { active: 0, max: 1 }, reachability: 'public', free: false, priceText: '5 tokens per job', market: null
  }
  const quiet: RecentActivity = { announcementsLastHour: 3, priceSkips: { count: 0, of: 3, bestMaxPrice: null, ourPrice: null }, bids: { won: 1, lost: 0, notSent: 0, lastError: null } }
  const now = Date.now()
  const h = (f: Partial<HealthFacts>, r: Partial<RecentActivity> = {}): ReturnType<typeof computeHealth> => computeHealth({ ...base, ...f }, { ...quiet, ...r }, now)
  assert.deepEqual(h({}), { canBid: true, summary: 'Ready for work: bidding at 5 tokens per job', reasons: [] })
  const cases: Array<[Partial<HealthFacts>, Partial<RecentActivity>, string, 'blocking' | 'warning' | 'info']> = [
    [{ peers: 0 }, {}, 'no_peers', 'blocking'],
    [{ peers: 0, bootstrap: { configured: ['/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW'], failures: [{ addr: '/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW', error: 'connect ECONNREFUSED', at: now }] } }, {}, 'bootstrap_unreachable', 'blocking'],
    [{ pausedUntil: now + 3_600_000 }, {}, 'paused', 'blocking'],
    [{ autoBid: false }, {}, 'autobid_off', 'blocking'],
    [{ schedule: { inside: false, description: 'mon,tue 18:00-08:00', timezone: 'Europe/Berlin' } }, {}, 'outside_schedule', 'blocking'],
    [{ onBattery: true }, {}, 'on_battery', 'blocking'],
    [{ notIdle: 'load 0.80 per core > 0.5' }, {}, 'not_idle', 'blocking'],
    [{ tooHot: { tempC: 91, stopAboveC: 85, resumeBelowC: 75 } }, {}, 'too_hot', 'blocking'],
    [{ runtimeUnavailable: 'sandbox host not built' }, {}, 'no_runtime', 'blocking'],
    [{ diskFull: { freeBytes: 40 * 1024, neededBytes: 64 * 1024 * 1024 } }, {}, 'disk_full', 'blocking'],
    [{ free: true }, {}, 'selling_free', 'warning'],
    [{}, { priceSkips: { count: 3, of: 3, bestMaxPrice: '4', ourPrice: '5' } }, 'price_above_buyers', 'warning'],
    [{ market: { ours: '9', median: '2', p75: '3', samples: 10 } }, {}, 'price_above_market', 'warning'],
    [{ reachability: 'unreachable' }, {}, 'unreachable', 'warning'],
    [{}, { bids: { won: 0, lost: 7, notSent: 0, lastError: null } }, 'bids_losing', 'warning'],
    [{}, { bids: { won: 0, lost: 0, notSent: 3, lastError: 'connection refused' } }, 'bids_not_delivered', 'warning'],
    [{}, { announcementsLastHour: 0 }, 'no_announcements', 'info']
  ]
  for (const [facts, recent, code, severity] of cases) {
    const v = h(facts, recent)
    const r = v.reasons.find((x) => x.code === code)
    assert.ok(r !== undefined, `${code}: ${JSON.stringify(v)}`)
    assert.equal(r.severity, severity, code)
    assert.ok(r.title.length > 0 && r.detail.length > 0 && r.fix.length > 0, code)
    assert.equal(v.canBid, severity !== 'blocking', code)
    if (severity === 'blocking') assert.match(v.summary, /^No work can come: /)
    // the title's first letter is lowered in the summary, an acronym is not ("CPU too hot", never "cPU")
    if (severity === 'blocking') assert.doesNotMatch(v.summary, /: [a-z][A-Z]/, v.summary)
  }
  // a full disk says how full, and the SQLite error it causes is not a second, vaguer reason
  const disk = h({ diskFull: { freeBytes: 40 * 1024, neededBytes: 64 * 1024 * 1024 }, error: 'auto-bidder: database or disk is full' })
  assert.match(disk.reasons[0]?.detail ?? '', /has 40 KiB free; a job needs 64 MiB/)
  assert.equal(disk.reasons.some((x) => x.code === 'daemon_error'), false)
  assert.equal(h({ error: 'auto-bidder: database or disk is full' }).reasons.some((x) => x.code === 'daemon_error'), true)
  const boot = h(cases[1]?.[0] ?? {})
  assert.match(boot.reasons[0]?.detail ?? '', /203\.0\.113\.7.*ECONNREFUSED/)
  assert.equal(h({ pausedUntil: now + 1000 }).reasons[0]?.action?.kind, 'resume')

  // through the service: a node with no peers is idle, not "bidding"; a paused node with an error is paused
  const f = await createFixture({ announcements: 0 })
  try {
    f.runtime.running = []
    f.store.db.prepare("UPDATE jobs SET state = 'Failed', failure_reason = 'InternalError' WHERE state = 'Running'").run()
    f.runtime.peers = 0
    const s = await f.api.invoke('node.status', {})
    assert.equal(s.state, 'idle')
    assert.equal(s.health?.canBid, false)
    assert.equal(s.health?.reasons[0]?.code, 'no_peers')
    f.runtime.peers = 2
    assert.equal((await f.api.invoke('node.status', {})).state, 'bidding')
    f.runtime.error = 'capability ad (interval): publish failed'
    f.runtime.pausedUntil = Date.now() + 60_000
    assert.equal((await f.api.invoke('node.status', {})).state, 'paused')
  } finally { f.close() }
})

test('logs: newest first, filtered by level, subsystem, job and text, paged backwards across rotated files', async () => {
  const f = await createFixture()
  try {
    const all = await f.api.invoke('logs.tail', { level: 'trace' })
    assert.equal(all.dir, f.logDir)
    assert.equal(all.lines.length, f.completedIds.length + 4)
    assert.ok(all.lines.every((l, i) => i === 0 || (all.lines[i - 1]?.time ?? 0) >= l.time), 'newest first')
    assert.equal(all.lines[0]?.level, 'error')
    assert.equal(all.lines.at(-1)?.msg, 'ready')
    assert.equal(all.next, null)
    const info = await f.api.invoke('logs.tail', {})
    assert.ok(info.lines.every((l) => l.level !== 'debug'))
    const job = await f.api.invoke('logs.tail', { job: f.completedIds[0] ?? '' })
    assert.deepEqual(job.lines.map((l) => l.msg), ['job finished'])
    assert.equal(job.lines[0]?.extra.status, 'CompletedSuccessfully')
    const mesh = await f.api.invoke('logs.tail', { subs: ['mesh'], text: 'REFUSED' })
    assert.equal(mesh.lines.length, 1)
    assert.equal(mesh.lines[0]?.extra.addr, '/ip4/203.0.113.7/tcp/4001')
    // paging: two lines at a time, the cursors walk back through both files, no line twice
    const seen: string[] = []
    let before: string | undefined
    for (let i = 0; i < 20; i++) {
      const page = await f.api.invoke('logs.tail', before === undefined ? { level: 'trace', limit: 2 } : { level: 'trace', limit: 2, before })
      seen.push(...page.lines.map((l) => `${l.time} ${l.msg} ${l.job ?? ''}`))
      if (page.next === null) break
      before = page.next
    }
    assert.deepEqual(seen, all.lines.map((l) => `${l.time} ${l.msg} ${l.job ?? ''}`))
  } finally { f.close() }
})

test('exports: earnings and receipts as CSV and JSON for a period, each row with its receipt CID', async () => {
  const f = await createFixture()
  try {
    const from = Date.now() - 30 * DAY
    const to = Date.now() + DAY
    const csv = await f.api.invoke('export.earnings', { fromMs: from, toMs: to, format: 'csv' })
    const lines = csv.content.trim().split('\r\n')
    assert.equal(lines[0], 'earned_at,announcement_id,description,originator_did,region,amount,unit,fuel_used,receipt_cid')
    assert.equal(lines.length - 1, f.completedIds.length)
    assert.equal(csv.rows, f.completedIds.length)
    assert.equal(csv.mime, 'text/csv')
    assert.match(csv.filename, /^earnings_\d{4}-\d{2}-\d{2}_to_\d{4}-\d{2}-\d{2}\.csv$/)
    for (const id of f.completedIds) {
      const row = lines.find((l) => l.includes(`,${id},`))
      assert.ok(row !== undefined, id)
      const cid = row.split(',').at(-1) ?? ''
      const stored = f.store.getReceipt(cid)
      assert.ok(stored !== undefined && verifyReceiptBlock(stored.bytes, cid).ok, `${id}: the CSV's receipt CID verifies`)
      assert.ok(row.includes(',tokens,'))
    }
    const json = JSON.parse((await f.api.invoke('export.earnings', { fromMs: from, toMs: to, format: 'json' })).content) as { total: string, rows: Array<{ amount: string, receipt_cid: string }> }
    const all = await f.api.invoke('earnings.get', {})
    assert.equal(json.total, all.allTime)
    assert.ok(json.rows.every((r) => r.receipt_cid.startsWith('bafy')))
    // a period without earnings: a header only
    const empty = await f.api.invoke('export.earnings', { fromMs: 0, toMs: 1000, format: 'csv' })
    assert.equal(empty.rows, 0)
    const rcsv = await f.api.invoke('export.receipts', { fromMs: from, toMs: to, format: 'csv' })
    assert.equal(rcsv.rows, f.receiptCids.length)
    assert.match(rcsv.content, /FuelExhausted/)
    const rjson = JSON.parse((await f.api.invoke('export.receipts', { fromMs: from, toMs: to, format: 'json' })).content) as { rows: Array<{ receipt_cid: string, status: string, earned: string | null }> }
    assert.deepEqual(rjson.rows.map((r) => r.receipt_cid).sort(), [...f.receiptCids].sort())
    assert.ok(rjson.rows.filter((r) => r.status === 'Failed').every((r) => r.earned === null))
    await assert.rejects(f.api.invoke('export.earnings', { fromMs: to, toMs: from, format: 'csv' }), /the period must end after it starts/)
  } finally { f.close() }
})

test('earnings statement: signed by the node, checked offline by `mesh-executor receipt verify`, tampering caught', async () => {
  const f = await createFixture()
  const dir = mkdtempSync(join(tmpdir(), 'mesh-statement-'))
  try {
    const file = await f.api.invoke('export.statement', { fromMs: Date.now() - 30 * DAY, toMs: Date.now() + DAY })
    assert.equal(file.rows, f.completedIds.length)
    const check = verifyStatementFile(file.content)
    assert.equal(check.view.ok, true, JSON.stringify(check.view))
    assert.ok(check.view.ok && check.view.executorDid === f.executor.did && check.view.receiptsVerified === f.completedIds.length)
    assert.deepEqual(await f.api.invoke('statement.verify', { text: file.content }), check.view)

    const path = join(dir, file.filename)
    writeFileSync(path, file.content)
    const ok = spawnSync(process.execPath, [BIN, 'receipt', 'verify', path], { encoding: 'utf8' })
    assert.equal(ok.status, 0, ok.stderr + ok.stdout)
    assert.match(ok.stdout, /earnings statement VALID/)
    assert.match(ok.stdout, new RegExp(`receipts verified  ${f.completedIds.length} of ${f.completedIds.length}`))
    const okJson = JSON.parse(spawnSync(process.execPath, [BIN, 'receipt', 'verify', path, '--json'], { encoding: 'utf8' }).stdout) as { valid: boolean, total: string }
    assert.equal(okJson.valid, true)

    // a raised total in the readable summary changes nothing (the tool reads the signed block) …
    const doc = JSON.parse(file.content) as { summary: { total: string }, receipts: Record<string, string>, statement: string }
    doc.summary.total = '999999'
    assert.equal(verifyStatementFile(JSON.stringify(doc)).view.ok, true)
    // … but a changed statement block fails the signature, and a missing receipt fails its row
    const block = Buffer.from(doc.statement, 'base64')
    const i = block.indexOf(Buffer.from('period_end'))
    block[i + 14] = block[i + 14] === 0x31 ? 0x32 : 0x31
    const forged = verifyStatementFile(JSON.stringify({ ...doc, statement: block.toString('base64'), statement_cid: undefined }))
    assert.equal(forged.view.ok, false)
    assert.equal(!forged.view.ok && forged.view.reason, 'BadSignature')
    const first = Object.keys(doc.receipts)[0] ?? ''
    const { [first]: _gone, ...rest } = doc.receipts
    const missing = verifyStatementFile(JSON.stringify({ ...doc, receipts: rest }))
    assert.equal(!missing.view.ok && missing.view.reason, 'RowMismatch')
    assert.match(!missing.view.ok ? missing.view.detail : '', new RegExp(`receipt ${first} is not in the file`))
    writeFileSync(path, JSON.stringify({ ...doc, receipts: rest }))
    const bad = spawnSync(process.execPath, [BIN, 'receipt', 'verify', path], { encoding: 'utf8' })
    assert.equal(bad.status, 6)
    assert.match(bad.stdout, /earnings statement INVALID: RowMismatch/)
  } finally {
    f.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('settings: every problem at once, named by its label; no region the CLI rejects; no caps above the machine', async () => {
  const f = await createFixture({ announcements: 0 })
  try {
    const v = await f.api.invoke('settings.validate', { patch: { region: 'EU West', caps: { cpu: 64, ramBytes: 64 * 1024 ** 3 }, bootstrapPeers: ['/ip4/1.2.3.4/tcp/1'] } })
    assert.equal(v.ok, false)
    assert.deepEqual(v.errors.map((e) => `${e.label}: ${e.message}`), [
      'Region: "EU West" is not a region name: use 1–63 characters a–z, 0–9 and "-" (did you mean "eu-west"?)',
      'Bootstrap peers: "/ip4/1.2.3.4/tcp/1" must be a peer\'s address ending in /p2p/<peer id>, e.g. /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…',
      'CPU cores offered: this machine has 2 cores: offer at most 2',
      'Memory (RAM) offered: this machine has 2.0 GiB of memory: offer at most that'
    ])
    await assert.rejects(f.api.invoke('settings.update', { patch: { caps: { cpu: 64 } } }), /CPU cores offered: this machine has 2 cores/)
    assert.deepEqual(await f.api.invoke('settings.validate', { patch: { region: 'eu-west', caps: { cpu: 1.5 } } }), { ok: true, errors: [] })
  } finally { f.close() }
})

test('market rate: verified public receipts only, percentiles per million fuel, a suggested rate and what it would have won', async () => {
  const events = new TypedEmitter<MeshEvents>()
  const others = [generateIdentity(), generateIdentity()]
  const originator = generateIdentity()
  const blocks = new Map<string, Uint8Array>()
  const receipt = (i: number, price: number, fuel: number): { cid: string, executorDid: string } => {
    const ex = others[i % 2] ?? others[0]
    if (ex === undefined) throw new Error('no executor')
    const r = signReceipt({
      announcement_id: `pub-${i}`, originator_did: originator.did, executor_did: ex.did, wasm_cid: rawCid(new TextEncoder().encode('m')),
      status: 'CompletedSuccessfully', fuel_used: fuel, resource_usage: { wall_ms: 10, peak_memory_bytes: 1, output_bytes: 1 }, price,
      runtime: 'wasi-p1-fuel-v1', started_at: formatTimestamp(Date.now() - 20_000), finished_at: formatTimestamp(Date.now() - 10_000 + i)
    }, ex)
    blocks.set(r.cid, r.bytes)
    return { cid: r.cid, executorDid: ex.did }
  }
  let fetches = 0
  const node = {
    events,
    getReceipt: async (cid: string) => { fetches++; return blocks.get(cid) },
    fetchBlock: async () => { throw new Error('not reachable') }
  }
  const c = createMarketRateCollector({ node, ownDid: 'did:key:z6MkOurs', fetchesPerMinute: 1000 })
  const heard = (i: number, cid: string, executorDid: string): void => {
    events.emit('message:received', { message: { variant: 'ExecutionReceiptAvailableV1', body: { announcement_id: `pub-${i}`, originator_did: originator.did, executor_did: executorDid, receipt_cid: cid, timestamp: formatTimestamp(Date.now()), signature: new Uint8Array(64) }, raw: {}, signer: executorDid }, bytes: new Uint8Array(), channel: 'gossip', fromPeerId: 'x' } as unknown as MeshEvents['message:received'])
  }
  // 2, 4 and 6 tokens per million fuel; one announcement lies about its executor; one is ours; one repeats
  const rates = [[2, 1_000_000], [8, 2_000_000], [30, 5_000_000]] as const
  rates.forEach(([p, fuel], i) => { const r = receipt(i, p, fuel); heard(i, r.cid, r.executorDid) })
  const liar = receipt(3, 100, 1_000_000)
  heard(3, liar.cid, 'did:key:z6MkSomebodyElse')
  heard(4, liar.cid, 'did:key:z6MkOurs')
  const again = [...blocks.keys()][0] ?? ''
  heard(0, again, others[0]?.did ?? '')
  await c.idle()
  assert.equal(fetches, 4)
  const samples: MarketSample[] = c.samples()
  assert.equal(samples.length, 3)
  assert.deepEqual(c.stats(), { heard: 6, fetched: 4, rejected: 1, skipped: 2, lastError: c.stats().lastError })
  assert.match(c.stats().lastError ?? '', /not the announced executor/)

  const f = await createFixture()
  try {
    const source: MarketRateSource = { samples: (since) => c.samples(since), stats: () => c.stats() }
    const api = createApiService({ store: f.store, identity: { did: f.executor.did, peerId: f.executor.peerId }, node: { status: () => f.runtime, setAutoBid: () => {}, pauseUntil: () => {} }, policy: f.engine, settings: { get: () => { throw new Error('no') }, update: () => { throw new Error('no') } }, events: f.events, marketRate: source })
    const m = await api.invoke('market.rate', {})
    assert.equal(m.samples, 3)
    assert.equal(m.executors, 2)
    assert.deepEqual(m.ratePerMillionFuel, { p25: 4, median: 4, p75: 6 })
    assert.equal(m.price?.median, '8')
    assert.equal(m.suggestedPrice, '8', 'the median job price')
    assert.ok(m.ours.price !== null, 'our median quote')
    assert.ok(m.ours.ratePerMillionFuel !== null && m.ours.ratePerMillionFuel > 0, 'from our own receipts')
    const sim = await f.engine.simulate({ ...(f.store.currentPolicy()?.policy as Record<string, never>), pricing: { mode: 'fixed', price: 8 } }, 200)
    assert.deepEqual(m.wouldHaveWon, { considered: sim.considered, wouldBid: sim.wouldBid, impliedEarnings: sim.impliedEarnings })
    assert.equal(m.recent.length, 3)
  } finally {
    f.close()
    await c.close()
  }
})
