/**
 * Every periodic timer of the executor daemon and the originator fires while a job runs, and the job
 * still completes correctly: the real daemon (executor, auto-bidder, capability ads, machine sampler,
 * mesh heartbeat and bootstrap retry, sandbox progress, crash-news retry) with all its intervals cut
 * to tens of milliseconds, the real originator with short accept and result timers, and `slow.wasm`,
 * which runs for seconds alternating work and sleeps.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity, rawCid, verifyReceiptBlock } from '../../../src/shared/protocol/index.js'
import { startDaemon, type DaemonEvents } from '../../../src/main/daemon/index.js'
import { TypedEmitter } from '../../../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator, type OriginatorEvent } from '../../../src/main/originator/index.js'
import { JOBS_ANNOUNCE_TOPIC } from '../../../src/main/mesh/index.js'
import { spawn, until } from '../mesh/helpers.js'

const slowWasm = new Uint8Array(readFileSync(new URL('../../../assets/jobs/slow.wasm', import.meta.url)))

test('all periodic timers fire mid-job (tens of ms) and a 3 s job still completes with one receipt', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mesh-timers-'))
  const events = new TypedEmitter<DaemonEvents>()
  const errors: Array<DaemonEvents['daemon:error']> = []
  const published: number[] = []
  events.on('daemon:error', (e) => { errors.push(e) })
  events.on('capability:published', () => { published.push(Date.now()) })
  // a bootstrap peer that never answers keeps the bootstrap retry timer firing throughout
  const deadPeer = generateIdentity().peerId
  const daemon = await startDaemon({
    dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, events,
    bootstrap: [`/ip4/127.0.0.1/tcp/9/p2p/${deadPeer}`],
    policy: { pricing: { mode: 'fixed', price: 3 }, maxConcurrentJobs: 2, bidMarginMs: 0 },
    timers: {
      recoveryRetryMs: 40, progressStatusMs: 30, sandboxProgressMs: 20, capabilityIntervalMs: 150,
      machineSampleMs: 50, heartbeatMs: 100, bootstrapRetryMs: 120, machineGuardMs: 30, housekeepingMs: 60
    }
  })
  const blocks = new AccessBlockStore()
  // progress every 30 ms is more than the default direct rate limit allows a peer
  const o = await spawn({ blockStore: blocks, heartbeatMs: 100, directRateLimit: { burst: 1000, perSecond: 1000 } })
  const originator = createOriginator({ node: o.node, identity: o.id, blocks, acceptTimeoutMs: 400, resultGraceMs: 800, receiptDhtTimeoutMs: 300, bidGraceMs: 0 })
  t.after(async () => {
    originator.close()
    await o.node.stop()
    await daemon.stop({ graceMs: 1000 })
    await rm(dataDir, { recursive: true, force: true })
  })
  const ads: string[][] = []
  o.node.events.on('message:received', (e) => { if (e.message.variant === 'CapabilityAdvertisementV1') ads.push([...e.message.body.supported_runtimes]) })
  await o.node.dial(daemon.node.multiaddrs()[0] as string)
  await until(() => o.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(daemon.identity.peerId), 'executor subscribed')

  const seen: OriginatorEvent[] = []
  const t0 = Date.now()
  // mid-job, an output and a skipped announcement from 8 days ago appear: housekeeping removes them while the job runs
  const staleCid = rawCid(new TextEncoder().encode('stale output'))
  const eightDaysAgo = Date.now() - 8 * 24 * 3_600_000
  let planted: Promise<void> | undefined
  const plant = async (): Promise<void> => {
    await mkdir(join(dataDir, 'blocks'), { recursive: true })
    await writeFile(join(dataDir, 'blocks', staleCid), 'stale output')
    await utimes(join(dataDir, 'blocks', staleCid), new Date(eightDaysAgo), new Date(eightDaysAgo))
    daemon.store.recordAnnouncement({ announcementId: 'stale-announcement', originatorDid: generateIdentity().did, raw: new Uint8Array([1]), summary: {}, decision: 'no_bid', receivedAt: eightDaysAgo, reasons: [{ rule: 'price', ok: false, text: 'price: x' }] })
  }
  const r = await originator.submit(
    { module: slowWasm, input: new TextEncoder().encode('3'), maxFuel: 5_000_000_000, timeoutSeconds: 6, biddingWindowMs: 400, description: 'timers' },
    { onEvent: (e) => { seen.push(e); if (e.type === 'status:received' && e.status === 'Running') planted ??= plant() } })
  const wall = Date.now() - t0
  assert.equal(new TextDecoder().decode(r.output), 'done after 3 s\n')
  assert.equal(r.receipt.status, 'CompletedSuccessfully')
  assert.ok(verifyReceiptBlock(r.receiptBytes, r.receiptCid).ok)
  assert.ok(wall >= 3000, `the job really ran its 3 s (${wall} ms)`)
  assert.deepEqual(r.attempts.map((a) => a.outcome), ['accepted'], 'the accept timer never fired after Accepted')
  // the node advertises the profile's runtime id and its engine (profile 7), and the receipt names one of them
  const advertised = ads.at(-1) ?? []
  assert.equal(advertised[0], 'wasi-p1-fuel-v1', JSON.stringify(ads.at(-1)))
  assert.match(advertised[1] ?? '', /^wasmtime-\d+\.\d+\.\d+$/)
  assert.ok(advertised.includes(r.receipt.runtime), `receipt runtime ${r.receipt.runtime} is advertised`)

  // progress statuses flowed while it ran, with fuel rising
  const running = seen.flatMap((e) => e.type === 'status:received' && e.status === 'Running' && e.details !== undefined ? [e.details] : [])
  const fuels = running.flatMap((d) => { const m = /^fuel (\d+) of/.exec(d); return m === null ? [] : [BigInt(m[1] as string)] })
  assert.ok(fuels.length >= 10, `Running progress statuses during the job (${fuels.length})`)
  for (let i = 1; i < fuels.length; i++) assert.ok((fuels[i] as bigint) >= (fuels[i - 1] as bigint), 'fuel never goes back')
  assert.ok((fuels.at(-1) as bigint) > (fuels[0] as bigint), 'fuel moved')

  // the executor's own view: one terminal state, one receipt, one earning
  const job = daemon.store.getJob(r.announcementId)
  assert.equal(job?.state, 'Completed')
  const tl = daemon.store.jobTimeline(r.announcementId)
  assert.equal(tl.filter((x) => x.to === 'Completed' || x.to === 'Failed' || x.to === 'Cancelled').length, 1)
  assert.equal(daemon.store.receiptsForJob(r.announcementId).length, 1)
  assert.equal(daemon.store.earningsSummary().allTime, 3n)
  // the timers did fire while the job ran
  assert.ok(published.filter((at) => at > t0 && at < t0 + wall).length >= 10, `capability ads re-published mid-job (${published.length})`)
  await planted
  const stale = readdirSync(join(dataDir, 'blocks'))
  assert.equal(stale.includes(staleCid), false, 'the stale output was pruned mid-job')
  assert.equal(daemon.store.getAnnouncement('stale-announcement'), undefined, 'the stale announcement was pruned mid-job')
  assert.ok(stale.includes(rawCid(r.output)), "the job's own output stays")
  assert.notEqual(daemon.store.getAnnouncement(r.announcementId), undefined, 'the announcement we bid on stays')
  const jobErrors = errors.filter((e) => !/bootstrap/i.test(e.where + e.error))
  assert.deepEqual(jobErrors, [], 'no daemon errors besides the dead bootstrap peer')
})
