/**
 * The executor daemon over real libp2p on 127.0.0.1, against an originator written here from the
 * protocol core and a bare MeshNode (none of the executor's or originator's own code paths):
 * announcement → bid → assignment → statuses → receipt, and each contextual refusal.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  formatTimestamp, generateIdentity, rawCid, signMessage, verifyReceiptBlock, type Identity, type MeshMessage
} from '../../../src/shared/protocol/index.js'
import { createMeshNode, MemoryBlockStore, type MeshNode, type DirectAnswer } from '../../../src/main/mesh/index.js'
import { startDaemon, type Daemon } from '../../../src/main/daemon/index.js'
import { jobsTopic } from '../../../src/main/mesh/topics.js'

const ASSETS = new URL('../../../assets/jobs/', import.meta.url)
let dataDir: string
let daemon: Daemon
let origId: Identity
let orig: MeshNode
const inbox: MeshMessage[] = []
const waiters: Array<{ pred: (m: MeshMessage) => boolean, resolve: (m: MeshMessage) => void }> = []

function expectMessage (pred: (m: MeshMessage) => boolean, what: string, timeoutMs = 20_000): Promise<MeshMessage> {
  const found = inbox.find(pred)
  if (found !== undefined) return Promise.resolve(found)
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { reject(new Error(`timed out waiting for ${what}`)) }, timeoutMs)
    waiters.push({ pred, resolve: (m) => { clearTimeout(t); resolve(m) } })
  })
}

function deliver (m: MeshMessage): void {
  inbox.push(m)
  for (const w of [...waiters]) {
    if (w.pred(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m) }
  }
}

async function until (cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mesh-exec-'))
  daemon = await startDaemon({
    dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, region: 'eu-west',
    policy: { pricing: { mode: 'fixed', price: 7 }, maxConcurrentJobs: 4, stopOnBattery: false, bidMarginMs: 0 }
  })
  origId = generateIdentity()
  orig = await createMeshNode({ identity: origId, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, regions: ['eu-west'], blockStore: new MemoryBlockStore(), heartbeatMs: 200 })
  await orig.start()
  for (const v of ['JobBidV1', 'JobStatusUpdateV1', 'ExecutionReceiptAvailableV1', 'JobInteractiveOutputV1'] as const) {
    orig.handleDirect(v, (m) => { deliver(m) })
  }
  await orig.dial(daemon.node.multiaddrs()[0] as string)
  await until(() => orig.topicPeers(jobsTopic()).includes(daemon.identity.peerId), 'executor subscribed to the jobs topic')
})

after(async () => {
  await orig.stop()
  await daemon.stop({ graceMs: 1000 })
  await rm(dataDir, { recursive: true, force: true })
})

function announce (module: Uint8Array, input: Uint8Array | undefined, extra: { maxPrice?: number, interactive?: boolean, id?: string } = {}): { id: string, bytes: Uint8Array } {
  const id = extra.id ?? randomUUID()
  const cid = rawCid(module)
  orig.blockStore.put(cid, module)
  const jp: Record<string, unknown> = {
    wasm_cid: cid, description: 'lifecycle test', resources_required: { CPU: '1c', RAM: '64MiB' }, max_fuel: 5_000_000_000,
    timeout_seconds: 20, is_interactive: extra.interactive === true, qos_profile: 'BestEffort',
    execution_policy: { rep_weight: 500, price_weight: 500, ...(extra.maxPrice !== undefined ? { max_price: extra.maxPrice } : {}) }
  }
  if (input !== undefined) {
    jp.input_data_cid = rawCid(input)
    orig.blockStore.put(rawCid(input), input)
  }
  const { bytes } = signMessage('JobAnnouncementV1', {
    announcement_id: id, originator_did: origId.did, timestamp: formatTimestamp(Date.now()), bidding_duration: 'PT5S', job_params: jp as never
  }, origId)
  return { id, bytes }
}

function assignment (id: string, executorDid: string, signer: Identity = origId): Uint8Array {
  return signMessage('AssignJobV1', { announcement_id: id, originator_did: signer.did, executor_did: executorDid, timestamp: formatTimestamp(Date.now()) }, signer).bytes
}

test('announcement → bid → assignment → statuses in order → verified receipt and output', async () => {
  const module = new Uint8Array(await readFile(new URL('sha256.wasm', ASSETS)))
  const input = new TextEncoder().encode('the quick brown fox\n'.repeat(100))
  const { id, bytes } = announce(module, input)
  await orig.publishAnnouncement(bytes, 'eu-west')
  const bid = await expectMessage((m) => m.variant === 'JobBidV1' && m.body.announcement_id === id, 'bid')
  assert.equal(bid.signer, daemon.identity.did)
  assert.equal(bid.variant === 'JobBidV1' && bid.body.price, 7)
  assert.equal(bid.variant === 'JobBidV1' && bid.body.region, 'eu-west')

  const answer: DirectAnswer = await orig.sendDirect(daemon.identity.peerId, assignment(id, daemon.identity.did))
  assert.deepEqual(answer, { ok: true })
  // a repeat of the accepted assignment is answered ok and does not run the job again
  assert.deepEqual(await orig.sendDirect(daemon.identity.peerId, assignment(id, daemon.identity.did)), { ok: true })

  const avail = await expectMessage((m) => m.variant === 'ExecutionReceiptAvailableV1' && m.body.announcement_id === id, 'receipt available', 30_000)
  const statuses = inbox.filter((m) => m.variant === 'JobStatusUpdateV1' && m.body.announcement_id === id).map((m) => m.variant === 'JobStatusUpdateV1' ? m.body.p2p_job_status : '')
  assert.deepEqual(statuses.filter((s) => s !== 'Running').slice(0, 2), ['Accepted', 'FetchingInputs'])
  assert.ok(statuses.includes('Running'))
  assert.equal(statuses.at(-1), 'Completed')
  assert.equal(statuses.filter((s) => s === 'Completed').length, 1, 'the job ran once')

  // the receipt: fetched from the executor, verified completely
  const receiptCid = avail.variant === 'ExecutionReceiptAvailableV1' ? avail.body.receipt_cid : ''
  const block = await orig.fetchBlock(receiptCid, { from: daemon.identity.peerId, store: false })
  const v = verifyReceiptBlock(block, receiptCid)
  assert.ok(v.ok, v.ok ? '' : v.detail)
  const r = v.receipt
  assert.equal(r.status, 'CompletedSuccessfully')
  assert.equal(r.executor_did, daemon.identity.did)
  assert.equal(r.originator_did, origId.did)
  assert.equal(r.wasm_cid, rawCid(module))
  assert.equal(r.input_data_cid, rawCid(input))
  assert.equal(r.price, 7)
  assert.ok(BigInt(r.fuel_used) > 0n)
  // the output block: served to us (the originator), matches output_cid and is the real digest
  const output = await orig.fetchBlock(r.output_cid as string, { from: daemon.identity.peerId, store: false })
  assert.equal(Buffer.from(output).toString().trim(), createHash('sha256').update(input).digest('hex'))
  // ... and the executor's books
  assert.equal(daemon.store.getJob(id)?.state, 'Completed')
  assert.equal(daemon.store.earningsSummary().allTime, 7n)
  assert.deepEqual(daemon.store.jobTimeline(id).map((t) => t.to), ['Assigned', 'Accepted', 'FetchingInputs', 'Running', 'Completed'])
})

test('the output is served to the originator only', async () => {
  const stranger = await createMeshNode({ identity: generateIdentity(), listen: ['/ip4/127.0.0.1/tcp/0'], lan: true })
  await stranger.start()
  try {
    await stranger.dial(daemon.node.multiaddrs()[0] as string)
    const rc = daemon.store.listReceipts()[0]
    assert.ok(rc)
    const v = verifyReceiptBlock((daemon.store.getReceipt(rc.cid) as { bytes: Uint8Array }).bytes)
    assert.ok(v.ok)
    // receipts are public
    assert.ok((await stranger.fetchBlock(rc.cid, { from: daemon.identity.peerId, store: false, providers: false })).length > 0)
    await assert.rejects(stranger.fetchBlock(v.receipt.output_cid as string, { from: daemon.identity.peerId, store: false, providers: false, timeoutMs: 3000 }))
  } finally {
    await stranger.stop()
  }
})

test('contextual refusals: not ours, unknown job, other originator, no bid', async () => {
  const module = new Uint8Array(await readFile(new URL('wordcount.wasm', ASSETS)))
  const { id, bytes } = announce(module, new TextEncoder().encode('a b c'))
  await orig.publishAnnouncement(bytes, 'eu-west')
  await expectMessage((m) => m.variant === 'JobBidV1' && m.body.announcement_id === id, 'bid')
  const refusal = async (bytesOut: Uint8Array, from: MeshNode = orig): Promise<string | undefined> => {
    const a = await from.sendDirect(daemon.identity.peerId, bytesOut)
    return a.ok ? 'ok' : a.error
  }
  // an assignment for another executor
  assert.equal(await refusal(assignment(id, generateIdentity().did)), 'NotAssignedToYou')
  // a job never announced
  assert.equal(await refusal(assignment(randomUUID(), daemon.identity.did)), 'UnknownJob')
  // a different originator assigning our job (sent from its own node, so the signer matches the connection)
  const otherId = generateIdentity()
  const other = await createMeshNode({ identity: otherId, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true })
  await other.start()
  try {
    await other.dial(daemon.node.multiaddrs()[0] as string)
    assert.equal(await refusal(assignment(id, daemon.identity.did, otherId), other), 'NotYourJob')
    // a message signed by someone else than the connection's peer
    assert.equal(await refusal(assignment(id, daemon.identity.did, origId), other), 'PeerMismatch')
  } finally {
    await other.stop()
  }
  // a job our policy did not bid on (max_price below our price 7)
  const cheap = announce(module, undefined, { maxPrice: 5 })
  await orig.publishAnnouncement(cheap.bytes, 'eu-west')
  await until(() => daemon.store.getAnnouncement(cheap.id) !== undefined, 'announcement recorded')
  const row = daemon.store.getAnnouncement(cheap.id)
  assert.equal(row?.decision, 'no_bid')
  assert.ok(row?.reasons.some((r) => !r.ok && r.rule === 'price' && /max_price 5/.test(r.text)), JSON.stringify(row?.reasons))
  assert.equal(await refusal(assignment(cheap.id, daemon.identity.did)), 'PolicyRejected')
  // the first job is still assignable after all that, and nothing was run for the refused ones
  assert.equal(daemon.store.getJob(cheap.id), undefined)
  assert.deepEqual(await orig.sendDirect(daemon.identity.peerId, assignment(id, daemon.identity.did)), { ok: true })
  await expectMessage((m) => m.variant === 'ExecutionReceiptAvailableV1' && m.body.announcement_id === id, 'receipt available', 30_000)
})

test('interactive job: inputs in order, outputs in order; gaps and repeats refused', async () => {
  const module = new Uint8Array(await readFile(new URL('calc.wasm', ASSETS)))
  const { id, bytes } = announce(module, undefined, { interactive: true })
  await orig.publishAnnouncement(bytes, 'eu-west')
  await expectMessage((m) => m.variant === 'JobBidV1' && m.body.announcement_id === id, 'bid')
  assert.deepEqual(await orig.sendDirect(daemon.identity.peerId, assignment(id, daemon.identity.did)), { ok: true })
  const input = (seq: number, text: string, isFinal = false): Uint8Array => signMessage('JobInteractiveInputV1', {
    originator_did: origId.did, executor_did: daemon.identity.did, input_id: `${id}/in/${seq}`, announcement_id: id,
    sequence_number: seq, is_final: isFinal, timestamp: formatTimestamp(Date.now()), data: new TextEncoder().encode(text)
  }, origId).bytes
  assert.deepEqual(await orig.sendDirect(daemon.identity.peerId, input(0, '2 + 3\n')), { ok: true })
  const gap = await orig.sendDirect(daemon.identity.peerId, input(2, '1 + 1\n'))
  assert.equal(gap.ok ? 'ok' : gap.error, 'WrongState')
  assert.deepEqual(await orig.sendDirect(daemon.identity.peerId, input(1, '6 * 7\n', true)), { ok: true })
  const after = await orig.sendDirect(daemon.identity.peerId, input(2, '1 + 1\n'))
  assert.equal(after.ok ? 'ok' : after.error, 'WrongState')
  await expectMessage((m) => m.variant === 'JobInteractiveOutputV1' && m.body.announcement_id === id && m.body.is_final, 'final output', 30_000)
  const outs = inbox.filter((m) => m.variant === 'JobInteractiveOutputV1' && m.body.announcement_id === id)
    .map((m) => m.variant === 'JobInteractiveOutputV1' ? m.body : undefined).filter((b) => b !== undefined)
  assert.deepEqual(outs.map((o) => o.sequence_number), outs.map((_, i) => i), 'consecutive sequence numbers')
  const text = Buffer.concat(outs.map((o) => Buffer.from(o.data))).toString()
  assert.match(text, /5/)
  assert.match(text, /42/)
  const avail = await expectMessage((m) => m.variant === 'ExecutionReceiptAvailableV1' && m.body.announcement_id === id, 'receipt available', 30_000)
  const cid = avail.variant === 'ExecutionReceiptAvailableV1' ? avail.body.receipt_cid : ''
  const v = verifyReceiptBlock(await orig.fetchBlock(cid, { from: daemon.identity.peerId, store: false }), cid)
  assert.ok(v.ok)
  assert.equal(v.receipt.status, 'CompletedSuccessfully')
})
