/**
 * kill -9 of the executor process mid-job: on restart the job is failed honestly (InternalError),
 * the originator is told once (status + receipt), the store is intact, and nothing is counted.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import {
  formatTimestamp, generateIdentity, rawCid, signMessage, verifyReceiptBlock, type MeshMessage
} from '../../../src/shared/protocol/index.js'
import { createMeshNode, MemoryBlockStore } from '../../../src/main/mesh/index.js'
import { jobsTopic } from '../../../src/main/mesh/topics.js'
import { openStore } from '../../../src/main/store/index.js'

const BIN = fileURLToPath(new URL('../../../bin/mesh-executor.js', import.meta.url))

interface Proc { child: ChildProcess, events: Array<Record<string, unknown>>, wait: (pred: (e: Record<string, unknown>) => boolean, what: string) => Promise<Record<string, unknown>> }

function startExecutor (args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, 'start', '--json', '--lan', '--listen', '/ip4/127.0.0.1/tcp/0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const events: Array<Record<string, unknown>> = []
  const waiters: Array<{ pred: (e: Record<string, unknown>) => boolean, resolve: (e: Record<string, unknown>) => void }> = []
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let e: Record<string, unknown>
    try { e = JSON.parse(line) as Record<string, unknown> } catch { return }
    events.push(e)
    for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e) }
  })
  const wait = (pred: (e: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> => {
    const found = events.find(pred)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { reject(new Error(`timed out waiting for ${what}`)) }, 60_000)
      waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e) } })
      child.once('exit', (code) => { reject(new Error(`executor exited (${String(code)}) while waiting for ${what}`)) })
    })
  }
  return { child, events, wait }
}

test('kill -9 mid-job: restart fails the job honestly, tells the originator once, counts nothing', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-crash-'))
  const policyFile = join(dir, 'policy.json')
  await writeFile(policyFile, JSON.stringify({ pricing: { mode: 'fixed', price: 3 }, stopOnBattery: false, bidMarginMs: 0 }))
  const origId = generateIdentity()
  const orig = await createMeshNode({ identity: origId, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, blockStore: new MemoryBlockStore(), heartbeatMs: 200 })
  await orig.start()
  const inbox: MeshMessage[] = []
  let notify: (() => void) | undefined
  for (const v of ['JobBidV1', 'JobStatusUpdateV1', 'ExecutionReceiptAvailableV1'] as const) orig.handleDirect(v, (m) => { inbox.push(m); notify?.() })
  const until = async (cond: () => boolean, what: string): Promise<void> => {
    const end = Date.now() + 60_000
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
      await new Promise<void>((resolve) => { notify = resolve; setTimeout(resolve, 100) })
    }
  }
  let ex: Proc | undefined
  try {
    ex = startExecutor(['--data-dir', dir, '--policy', policyFile])
    const ready = await ex.wait((e) => e.event === 'ready', 'ready')
    const exPeer = String(ready.peerId)
    await orig.dial((ready.multiaddrs as string[])[0] as string)
    await until(() => orig.topicPeers(jobsTopic()).includes(exPeer), 'executor in the jobs topic')

    // a job that spins until its (long) limits: it will be running when we kill the executor
    const module = new Uint8Array(await readFile(new URL('../../../assets/jobs/hostile_loop.wasm', import.meta.url)))
    orig.blockStore.put(rawCid(module), module)
    const id = randomUUID()
    await orig.publishAnnouncement(signMessage('JobAnnouncementV1', {
      announcement_id: id, originator_did: origId.did, timestamp: formatTimestamp(Date.now()), bidding_duration: 'PT5S',
      job_params: { wasm_cid: rawCid(module), description: 'spins', resources_required: {}, max_fuel: 10n ** 15n, timeout_seconds: 120, is_interactive: false, qos_profile: 'BestEffort' }
    }, origId).bytes)
    await until(() => inbox.some((m) => m.variant === 'JobBidV1' && m.body.announcement_id === id), 'bid')
    const assign = signMessage('AssignJobV1', { announcement_id: id, originator_did: origId.did, executor_did: String(ready.did), timestamp: formatTimestamp(Date.now()) }, origId).bytes
    assert.deepEqual(await orig.sendDirect(exPeer, assign), { ok: true })
    await ex.wait((e) => e.event === 'job:state' && e.state === 'Running' && e.announcementId === id, 'job running')

    ex.child.kill('SIGKILL')
    await new Promise((resolve) => ex?.child.once('exit', resolve))
    const before = inbox.length

    // restart on the same data dir; it reaches the originator through --bootstrap
    const origAddr = orig.multiaddrs()[0] as string
    ex = startExecutor(['--data-dir', dir, '--bootstrap', origAddr])
    await ex.wait((e) => e.event === 'job:finished' && e.announcementId === id, 'recovered job settled')
    await until(() => inbox.slice(before).some((m) => m.variant === 'ExecutionReceiptAvailableV1' && m.body.announcement_id === id), 'receipt available after restart')
    const failed = inbox.slice(before).filter((m) => m.variant === 'JobStatusUpdateV1' && m.body.announcement_id === id)
    assert.equal(failed.length, 1)
    assert.equal(failed[0]?.variant === 'JobStatusUpdateV1' && failed[0].body.p2p_job_status, 'Failed')
    assert.match(failed[0]?.variant === 'JobStatusUpdateV1' ? failed[0].body.details ?? '' : '', /^InternalError/)
    const avail = inbox.slice(before).find((m) => m.variant === 'ExecutionReceiptAvailableV1')
    const cid = avail?.variant === 'ExecutionReceiptAvailableV1' ? avail.body.receipt_cid : ''
    const v = verifyReceiptBlock(await orig.fetchBlock(cid, { from: exPeer, store: false }), cid)
    assert.ok(v.ok)
    assert.equal(v.receipt.status, 'Failed')
    assert.equal(v.receipt.failure_reason, 'InternalError')

    // a second restart does not notify again
    ex.child.kill('SIGTERM')
    await new Promise((resolve) => ex?.child.once('exit', resolve))
    const afterFirst = inbox.length
    ex = startExecutor(['--data-dir', dir, '--bootstrap', origAddr])
    await ex.wait((e) => e.event === 'ready', 'ready again')
    ex.child.kill('SIGTERM')
    const code = await new Promise((resolve) => ex?.child.once('exit', resolve))
    assert.equal(code, 0, 'graceful stop exits 0')
    assert.equal(inbox.slice(afterFirst).filter((m) => m.variant === 'JobStatusUpdateV1').length, 0)

    // the books: intact, the job Failed once, no earning, one receipt
    const store = openStore(dir)
    try {
      assert.equal(store.integrityCheck(), 'ok')
      assert.equal(store.getJob(id)?.state, 'Failed')
      assert.equal(store.getJob(id)?.failureReason, 'InternalError')
      assert.equal(store.earningsSummary().allTime, 0n)
      assert.equal(store.receiptsForJob(id).length, 1)
    } finally {
      store.close()
    }
  } finally {
    if (ex !== undefined && ex.child.exitCode === null) ex.child.kill('SIGKILL')
    await orig.stop()
    await rm(dir, { recursive: true, force: true })
  }
})
