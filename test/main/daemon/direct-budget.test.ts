/**
 * Both ends at their default direct-message limits (20 at once, then 10/s per peer): a real executor
 * daemon and an originator whose node is configured as `mesh-executor submit` configures it. A
 * script feeding an interactive job a line every millisecond, and a buyer announcing 40 jobs at
 * once, used to be refused `RateLimited` (the 24th input line; the 21st bid) — the job then hung
 * until its timeout.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '../../../src/main/daemon/index.js'
import { JOBS_ANNOUNCE_TOPIC } from '../../../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator, type OriginatorEvent } from '../../../src/main/originator/index.js'
import { spawn, until } from '../mesh/helpers.js'

const asset = (n: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../../assets/jobs/${n}`, import.meta.url)))

async function setup (t: { after: (fn: () => Promise<void>) => void }, maxConcurrentJobs: number): Promise<{ originator: ReturnType<typeof createOriginator>, refused: string[] }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mesh-budget-'))
  const daemon = await startDaemon({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false, policy: { pricing: { mode: 'fixed', price: 1 }, maxConcurrentJobs, bidMarginMs: 0 } })
  const blocks = new AccessBlockStore()
  const o = await spawn({ blockStore: blocks }) // the default directRateLimit
  const originator = createOriginator({ node: o.node, identity: o.id, blocks })
  const refused: string[] = []
  for (const node of [o.node, daemon.node]) {
    node.events.on('message:rejected', (e) => { if (e.reason === 'RateLimited') refused.push(`${e.variant ?? '?'} at ${node === o.node ? 'originator' : 'executor'}`) })
  }
  t.after(async () => {
    originator.close()
    await o.node.stop()
    await daemon.stop({ graceMs: 1000 })
    await rm(dataDir, { recursive: true, force: true })
  })
  await o.node.dial(daemon.node.multiaddrs()[0] as string)
  await until(() => o.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(daemon.identity.peerId), 'executor subscribed')
  await until(() => daemon.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(o.id.peerId), 'originator subscribed')
  return { originator, refused }
}

test('an interactive job fed 300 lines as fast as a script writes them: every answer, in order, nothing refused', async (t) => {
  const { originator, refused } = await setup(t, 1)
  const N = 300
  async function * lines (): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < N; i++) {
      yield new TextEncoder().encode(`${i} + 1\n`)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }
  const streamed: string[] = []
  const seen: OriginatorEvent[] = []
  const r = await originator.submit(
    { module: asset('calc.wasm'), maxFuel: 100_000_000, timeoutSeconds: 30, biddingWindowMs: 300, interactive: true, selection: 'first-valid-bid' },
    { stdin: lines(), onOutput: (c) => { streamed.push(Buffer.from(c).toString()) }, onEvent: (e) => { seen.push(e) } })
  const out = new TextDecoder().decode(r.output).split('\n').filter((l) => l.startsWith('='))
  assert.equal(out.length, N)
  for (let i = 0; i < N; i++) assert.equal(out[i], `= ${i + 1}`)
  assert.equal(streamed.join(''), new TextDecoder().decode(r.output), 'the live stream is the whole output')
  assert.deepEqual(refused, [])
  assert.equal(seen.filter((e) => e.type === 'stdin:failed').length, 0)
  const inputs = seen.filter((e) => e.type === 'stdin:sent').length
  assert.ok(inputs < N, `lines coalesced into fewer messages (${inputs} for ${N})`)
})

test('40 jobs announced at once to one executor with 40 slots: 40 bids heard, 40 receipts, nothing refused', async (t) => {
  const { originator, refused } = await setup(t, 40)
  const results = await Promise.all(Array.from({ length: 40 }, async () =>
    await originator.submit({ module: asset('fuel_basic.wasm'), maxFuel: 1_000_000, timeoutSeconds: 20, biddingWindowMs: 2000, selection: 'first-valid-bid' })))
  assert.equal(results.length, 40)
  for (const r of results) {
    assert.equal(new TextDecoder().decode(r.output), 'hello\n')
    assert.equal(r.receipt.status, 'CompletedSuccessfully')
    assert.deepEqual(r.attempts.map((a) => a.outcome), ['accepted'])
  }
  assert.deepEqual(refused, [])
})
