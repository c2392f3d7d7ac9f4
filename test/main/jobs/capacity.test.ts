/**
 * Capacity: with maxConcurrentJobs 1 the executor takes jobs one after another — a job's slot is
 * freed once its receipt is announced (before, it was held until the receipt's DHT publication
 * ended, which can take seconds on a sparse mesh, and the next assignment was refused).
 */
import '../../../src/main/polyfills.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatTimestamp, generateIdentity, rawCid, signMessage, type MeshMessage } from '../../../src/shared/protocol/index.js'
import { createMeshNode, JOBS_ANNOUNCE_TOPIC, MemoryBlockStore } from '../../../src/main/mesh/index.js'
import { startDaemon } from '../../../src/main/daemon/index.js'

test('maxConcurrentJobs 1: consecutive jobs are accepted one after another, each right after the last receipt', { timeout: 90_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cap-'))
  const daemon = await startDaemon({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false, policy: { pricing: { mode: 'fixed', price: 1 }, maxConcurrentJobs: 1, stopOnBattery: false, bidMarginMs: 0 } })
  const origId = generateIdentity()
  const orig = await createMeshNode({ identity: origId, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false, blockStore: new MemoryBlockStore(), heartbeatMs: 200 })
  await orig.start()
  const inbox: MeshMessage[] = []
  let wake: (() => void) | undefined
  for (const v of ['JobBidV1', 'JobStatusUpdateV1', 'ExecutionReceiptAvailableV1'] as const) orig.handleDirect(v, (m) => { inbox.push(m); wake?.() })
  const until = async (cond: () => boolean, what: string): Promise<void> => {
    const end = Date.now() + 30_000
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
      await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 50) })
    }
  }
  try {
    await orig.dial(daemon.node.multiaddrs()[0] as string)
    await until(() => orig.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(daemon.identity.peerId), 'executor in the announce topic')
    const module = new Uint8Array(await readFile(new URL('../../../assets/jobs/fuel_basic.wasm', import.meta.url)))
    orig.blockStore.put(rawCid(module), module)

    const runJob = async (): Promise<string> => {
      const id = randomUUID()
      await orig.publishAnnouncement(signMessage('JobAnnouncementV1', {
        announcement_id: id, originator_did: origId.did, timestamp: formatTimestamp(Date.now()), bidding_duration: 'PT5S',
        job_params: { wasm_cid: rawCid(module), description: 'tiny', resources_required: {}, max_fuel: 1_000_000, timeout_seconds: 10, is_interactive: false, qos_profile: 'BestEffort' }
      }, origId).bytes)
      await until(() => inbox.some((m) => m.variant === 'JobBidV1' && m.body.announcement_id === id), `bid on ${id}`)
      const answer = await orig.sendDirect(daemon.identity.peerId, signMessage('AssignJobV1', {
        announcement_id: id, originator_did: origId.did, executor_did: daemon.identity.did, timestamp: formatTimestamp(Date.now())
      }, origId).bytes)
      assert.deepEqual(answer, { ok: true }, `assignment of ${id}`)
      await until(() => inbox.some((m) => m.variant === 'ExecutionReceiptAvailableV1' && m.body.announcement_id === id), `receipt of ${id}`)
      return id
    }
    const first = await runJob()
    const second = await runJob()
    assert.equal(daemon.store.getJob(first)?.state, 'Completed')
    assert.equal(daemon.store.getJob(second)?.state, 'Completed')
    assert.equal(daemon.executor.runningJobs().length, 0)

    // while a job runs, the next announcement is not bid on (concurrency) and its assignment is refused;
    // one bid on before the slot was taken is refused when chosen, and the bid says so
    const loop = new Uint8Array(await readFile(new URL('../../../assets/jobs/hostile_loop.wasm', import.meta.url)))
    orig.blockStore.put(rawCid(loop), loop)
    const announce = async (wasm: Uint8Array): Promise<string> => {
      const id = randomUUID()
      await orig.publishAnnouncement(signMessage('JobAnnouncementV1', {
        announcement_id: id, originator_did: origId.did, timestamp: formatTimestamp(Date.now()), bidding_duration: 'PT5S',
        job_params: { wasm_cid: rawCid(wasm), description: 'x', resources_required: {}, max_fuel: 10n ** 15n, timeout_seconds: 60, is_interactive: false, qos_profile: 'BestEffort' }
      }, origId).bytes)
      return id
    }
    const assign = async (id: string): Promise<string> => {
      const a = await orig.sendDirect(daemon.identity.peerId, signMessage('AssignJobV1', {
        announcement_id: id, originator_did: origId.did, executor_did: daemon.identity.did, timestamp: formatTimestamp(Date.now())
      }, origId).bytes)
      return a.ok ? 'ok' : a.error
    }
    const busy = await announce(loop)
    await until(() => inbox.some((m) => m.variant === 'JobBidV1' && m.body.announcement_id === busy), 'bid on the long job')
    // bid on while the slot was still free, chosen after it was taken
    const chosenLate = await announce(module)
    await until(() => inbox.some((m) => m.variant === 'JobBidV1' && m.body.announcement_id === chosenLate), 'bid on the second job')
    assert.equal(await assign(busy), 'ok')
    await until(() => daemon.store.getJob(busy)?.state === 'Running', 'long job running')
    const next = await announce(module)
    await until(() => daemon.store.getAnnouncement(next) !== undefined, 'next announcement decided')
    const row = daemon.store.getAnnouncement(next)
    assert.equal(row?.decision, 'no_bid')
    assert.ok(row?.reasons.some((r) => r.rule === 'concurrency' && !r.ok), JSON.stringify(row?.reasons.filter((r) => !r.ok)))
    assert.equal(await assign(next), 'PolicyRejected')
    // the buyer chose our bid, we refused: the bid records why (the dashboard says refused, not lost)
    assert.equal(await assign(chosenLate), 'PolicyRejected')
    const refused = (daemon.store.db.prepare('SELECT refused FROM bids WHERE announcement_id = ?').get(chosenLate) as { refused: string | null }).refused
    assert.equal(refused, 'already running 1 job(s), limit 1')
    assert.equal((daemon.store.db.prepare('SELECT refused FROM bids WHERE announcement_id = ?').get(busy) as { refused: string | null }).refused, null)
    // the owner cancels the long job: it ends Cancelled, with a receipt
    assert.equal(daemon.executor.cancel(busy), true)
    await until(() => inbox.some((m) => m.variant === 'ExecutionReceiptAvailableV1' && m.body.announcement_id === busy), 'receipt of the cancelled job')
    assert.equal(daemon.store.getJob(busy)?.state, 'Cancelled')
  } finally {
    await orig.stop()
    await daemon.stop({ graceMs: 0 })
    await rm(dir, { recursive: true, force: true })
  }
})
