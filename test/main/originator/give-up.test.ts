/**
 * A buyer who gives up on an interactive job (Ctrl+C) while it runs on a real executor daemon. V1 has
 * no cancel message, so the originator closes the job's stdin before it goes (an empty final
 * JobInteractiveInputV1): the program reads the end of its input and ends by itself. It used to stay
 * blocked on stdin, holding the seller's slot until its time limit, and end Failed (Timeout).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon, type DaemonEvents } from '../../../src/main/daemon/index.js'
import { JOBS_ANNOUNCE_TOPIC, TypedEmitter } from '../../../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator } from '../../../src/main/originator/index.js'
import { spawn, until } from '../mesh/helpers.js'

const calc = new Uint8Array(readFileSync(new URL('../../../assets/jobs/calc.wasm', import.meta.url)))

test('Ctrl+C on a running interactive job closes its stdin: the job ends Completed at once, not by its 60 s timeout', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mesh-give-up-'))
  const events = new TypedEmitter<DaemonEvents>()
  const daemon = await startDaemon({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, events, policy: { stopOnBattery: false, bidMarginMs: 0 } })
  const blocks = new AccessBlockStore()
  const buyer = await spawn({ blockStore: blocks })
  const originator = createOriginator({ node: buyer.node, identity: buyer.id, blocks, bidGraceMs: 0 })
  t.after(async () => {
    originator.close()
    await buyer.node.stop()
    await daemon.stop({ graceMs: 1000 })
    await rm(dataDir, { recursive: true, force: true })
  })
  await buyer.node.dial(daemon.node.multiaddrs()[0] as string)
  await until(() => buyer.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(daemon.identity.peerId), 'executor subscribed')

  // one line typed, then a terminal nobody types into: this source never yields again
  async function * terminal (): AsyncGenerator<Uint8Array> {
    yield new TextEncoder().encode('1+2\n')
    await new Promise(() => {})
  }
  const ctl = new AbortController()
  let output = ''
  let closedStdin = false
  const submitted = originator.submit({ module: calc, maxFuel: 10_000_000, timeoutSeconds: 60, biddingWindowMs: 300, interactive: true }, {
    signal: ctl.signal,
    stdin: terminal(),
    onOutput: (c) => { output += new TextDecoder().decode(c); if (output.includes('= 3')) ctl.abort() },
    onEvent: (e) => { if (e.type === 'stdin:sent' && e.isFinal) closedStdin = true }
  })
  const finished = events.waitFor('job:finished')
  const givenUpAt = await assert.rejects(submitted, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'Aborted', err.message)
    return true
  }).then(() => Date.now())
  assert.equal(closedStdin, true, 'the closing chunk went out before submit() returned')
  const end = await finished
  assert.equal(end.status, 'CompletedSuccessfully', JSON.stringify(end))
  assert.ok(Date.now() - givenUpAt < 20_000, 'ended by its input, long before its 60 s time limit')
  assert.equal(daemon.store.getJob(end.announcementId)?.state, 'Completed')
})
