/**
 * The same computation bought by several originators at the same moment: identical output blocks are
 * written concurrently (the empty output is the common case) and every originator gets its output —
 * block access follows the jobs, not the bytes (wire profile 4.3). Also: a third party never does.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rawCid, verifyReceiptBlock } from '../../../src/shared/protocol/index.js'
import { startDaemon, type DaemonEvents } from '../../../src/main/daemon/index.js'
import { JOBS_ANNOUNCE_TOPIC, TypedEmitter, type MeshNode } from '../../../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator, type Originator } from '../../../src/main/originator/index.js'
import { spawn, until } from '../mesh/helpers.js'

const asset = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../../assets/jobs/${name}`, import.meta.url)))

test('three originators buy the same computation at once; each gets its output, nobody else does', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mesh-shared-'))
  const events = new TypedEmitter<DaemonEvents>()
  const errors: string[] = []
  events.on('daemon:error', (e) => { errors.push(`${e.where}: ${e.error}`) })
  const daemon = await startDaemon({
    dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, events,
    policy: { pricing: { mode: 'fixed', price: 2 }, maxConcurrentJobs: 8, bidMarginMs: 0 }
  })
  const buyers: Array<{ node: MeshNode, originator: Originator }> = []
  t.after(async () => {
    for (const b of buyers) { b.originator.close(); await b.node.stop() }
    await daemon.stop({ graceMs: 1000 })
    await rm(dataDir, { recursive: true, force: true })
  })
  for (let i = 0; i < 3; i++) {
    const blocks = new AccessBlockStore()
    const o = await spawn({ blockStore: blocks })
    await o.node.dial(daemon.node.multiaddrs()[0] as string)
    buyers.push({ node: o.node, originator: createOriginator({ node: o.node, identity: o.id, blocks, bidGraceMs: 0, receiptDhtTimeoutMs: 500 }) })
  }
  await until(() => buyers.every((b) => b.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(daemon.identity.peerId)), 'executor subscribed')

  const input = new TextEncoder().encode('same bytes, bought three times\n'.repeat(1000))
  const digest = createHash('sha256').update(input).digest('hex') + '\n'
  const sha = asset('sha256.wasm')
  const empty = asset('fuel_empty.wasm')
  // six jobs at the same moment: three identical sha256 runs and three with an empty output
  const runs = buyers.flatMap((b) => [
    b.originator.submit({ module: sha, input, maxFuel: 500_000_000, timeoutSeconds: 20, biddingWindowMs: 500, description: 'shared sha256' }),
    b.originator.submit({ module: empty, maxFuel: 1000, timeoutSeconds: 20, biddingWindowMs: 500, description: 'shared empty' })
  ])
  const results = await Promise.all(runs)
  for (const [i, r] of results.entries()) {
    assert.equal(r.receipt.status, 'CompletedSuccessfully', `job ${i}`)
    assert.ok(verifyReceiptBlock(r.receiptBytes, r.receiptCid).ok)
    assert.equal(new TextDecoder().decode(r.output), i % 2 === 0 ? digest : '')
  }
  const shaCid = rawCid(new TextEncoder().encode(digest))
  const emptyCid = rawCid(new Uint8Array(0))
  assert.deepEqual(new Set(results.map((r) => r.receipt.output_cid)), new Set([shaCid, emptyCid]))
  assert.equal(daemon.store.jobsWithOutput(shaCid).length, 3)
  assert.equal(daemon.store.jobsWithOutput(emptyCid).length, 3)
  // stored once each, no temp files left behind
  const files = (await readdir(join(dataDir, 'blocks'))).sort()
  assert.deepEqual(files, [emptyCid, shaCid].sort())

  // later, from disk, each originator can fetch it again; a stranger cannot
  for (const b of buyers) {
    const bytes = await b.node.fetchBlock(shaCid, { from: daemon.identity.peerId, store: false })
    assert.equal(new TextDecoder().decode(bytes), digest)
  }
  const stranger = await spawn()
  t.after(async () => { await stranger.node.stop() })
  await stranger.node.dial(daemon.node.multiaddrs()[0] as string)
  await assert.rejects(stranger.node.fetchBlock(shaCid, { from: daemon.identity.peerId, store: false }), /NotFound|not found/i)
  assert.equal(daemon.store.integrityCheck(), 'ok')
  assert.equal(daemon.store.earningsSummary().allTime, 12n)
  assert.deepEqual(errors.filter((e) => !/DHT/.test(e)), [])
})
