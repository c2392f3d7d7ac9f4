import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { formatTimestamp, signMessage, verifyReceiptBlock } from '../../../src/shared/protocol/index.js'
import { createSandbox } from '../../../src/main/sandbox/index.js'
import type { OriginatorEvent } from '../../../src/main/originator/index.js'
import { startExecutors, startOriginator, stopExecutors } from './harness.js'

const asset = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../../assets/jobs/${name}`, import.meta.url)))
const sha256Wasm = asset('sha256.wasm')
const calcWasm = asset('calc.wasm')
const loopWasm = asset('hostile_loop.wasm')

test('originator against in-test executors over real libp2p', async (t) => {
  const sandbox = createSandbox()
  const o = await startOriginator({ acceptTimeoutMs: 1500, receiptDhtTimeoutMs: 1000, bidGraceMs: 0 })
  t.after(async () => {
    o.originator.close()
    await o.node.stop()
    await sandbox.close()
  })
  const input = new TextEncoder().encode('the quick brown fox jumps over the lazy dog\n'.repeat(100))
  const digest = createHash('sha256').update(input).digest('hex') + '\n'
  const job = { module: sha256Wasm, input, maxFuel: 50_000_000, timeoutSeconds: 20, biddingWindowMs: 700 }

  await t.test('sha256 job: right digest and a receipt that verifies', async () => {
    const execs = await startExecutors(o, [{ price: 10, region: 'west' }, { price: 12, region: 'east' }], sandbox)
    try {
      const events: OriginatorEvent[] = []
      const r = await o.originator.submit(job, { onEvent: (e) => { events.push(e) } })
      assert.equal(new TextDecoder().decode(r.output), digest)
      assert.equal(r.executorDid, execs[0]?.id.did, 'the cheaper bid wins')
      assert.equal(r.price, 10n)
      assert.equal(r.bidCount, 2)
      assert.equal(r.receipt.status, 'CompletedSuccessfully')
      assert.equal(r.receipt.announcement_id, r.announcementId)
      const v = verifyReceiptBlock(r.receiptBytes, r.receiptCid)
      assert.ok(v.ok)
      const types = events.map((e) => e.type)
      for (const ty of ['job:announced', 'bid:received', 'selection:made', 'job:assigned', 'status:received', 'receipt:available', 'receipt:fetched', 'receipt:verified']) {
        assert.ok(types.includes(ty as OriginatorEvent['type']), `event ${ty} missing: ${types.join(',')}`)
      }
      const statuses = events.flatMap((e) => e.type === 'status:received' && e.executorDid === r.executorDid ? [e.status] : [])
      assert.deepEqual(statuses, ['Accepted', 'FetchingInputs', 'Running', 'Completed'])
      assert.equal(o.originator.reputation.get(r.executorDid), 100)
      // the input was served to the assignee only, the module to anyone; both withdrawn after the job
      assert.equal(o.originator.blocks.size, 0)
      assert.deepEqual(o.originator.pending(), [])
    } finally {
      await stopExecutors(execs)
    }
  })

  await t.test('first-valid-bid mode assigns without waiting for the window', async () => {
    const execs = await startExecutors(o, [{ price: 3 }], sandbox)
    try {
      const t0 = Date.now()
      const r = await o.originator.submit({ ...job, biddingWindowMs: 20_000, selection: 'first-valid-bid' })
      assert.equal(new TextDecoder().decode(r.output), digest)
      assert.ok(Date.now() - t0 < 15_000, 'did not wait for the 20 s window')
    } finally {
      await stopExecutors(execs)
    }
  })

  await t.test('a silent assignee is replaced by the next bidder', async () => {
    const execs = await startExecutors(o, [{ price: 1, behaviour: 'silent' }, { price: 2, behaviour: 'refuse' }, { price: 5 }], sandbox)
    try {
      const events: OriginatorEvent[] = []
      const r = await o.originator.submit(job, { onEvent: (e) => { events.push(e) } })
      assert.equal(new TextDecoder().decode(r.output), digest)
      assert.equal(r.executorDid, execs[2]?.id.did)
      assert.deepEqual(r.attempts.map((a) => a.outcome), ['silent', 'refused', 'accepted'])
      assert.ok(events.some((e) => e.type === 'assignee:silent' && e.executorDid === execs[0]?.id.did))
      assert.ok(events.some((e) => e.type === 'assign:refused' && e.executorDid === execs[1]?.id.did && e.error === 'WrongState'))
      assert.equal(o.originator.reputation.get(execs[0]?.id.did ?? ''), 0, 'silence counts against the executor')
    } finally {
      await stopExecutors(execs)
    }
  })

  await t.test('no bids → NoBidsError', async () => {
    const execs = await startExecutors(o, [{ behaviour: 'no-bid' }], sandbox)
    try {
      await assert.rejects(o.originator.submit({ ...job, biddingWindowMs: 400 }), { name: 'NoBidsError', code: 'NoBids' })
      // the announcement reached the silent executor: the message says so, and where its reasons are
      await assert.rejects(o.originator.submit({ ...job, biddingWindowMs: 400 }), { message: /it reached 1 peer\(s\); an executor does not bid while its job slots are full, while it is paused, or when its policy refuses the job/ })
    } finally {
      await stopExecutors(execs)
    }
  })

  await t.test('bids that fail the policy → NoValidBidsError with the why-not reasons', async () => {
    const execs = await startExecutors(o, [{ price: 50, region: 'east' }], sandbox)
    try {
      await assert.rejects(o.originator.submit({ ...job, biddingWindowMs: 500, maxPrice: 20 }), (err: Error & { code?: string, why?: Array<{ reasons: string[] }> }) => {
        assert.equal(err.name, 'NoValidBidsError')
        assert.equal(err.code, 'NoValidBids')
        assert.match(err.why?.[0]?.reasons.join() ?? '', /price 50 is above max_price 20/)
        return true
      })
    } finally {
      await stopExecutors(execs)
    }
  })

  await t.test('forged receipts are refused with a clear message', async () => {
    for (const [forge, check, msg] of [
      ['signature', 'signature', /BadSignature: receipt signature does not verify/],
      ['cid', 'cid', /do not hash to|CidMismatch/],
      ['output', 'output', /output block .* could not be fetched or does not match/],
      ['announcement', 'announcement', /announcement_id is .*, expected/]
    ] as const) {
      const execs = await startExecutors(o, [{ price: 1, forge }], sandbox)
      try {
        await assert.rejects(o.originator.submit(job), (err: Error & { code?: string, check?: string }) => {
          assert.equal(err.name, 'ReceiptInvalidError', `${forge}: ${err.message}`)
          assert.equal(err.check, check, `${forge}: ${err.message}`)
          assert.match(err.message, msg)
          return true
        })
      } finally {
        await stopExecutors(execs)
      }
    }
  })

  await t.test('a job that exhausts its fuel → ExecutorFailedError(FuelExhausted) with a verified receipt', async () => {
    const execs = await startExecutors(o, [{ price: 1 }], sandbox)
    try {
      await assert.rejects(o.originator.submit({ module: loopWasm, maxFuel: 200_000, timeoutSeconds: 10, biddingWindowMs: 400 }), (err: Error & { reason?: string, receiptCid?: string }) => {
        assert.equal(err.name, 'ExecutorFailedError')
        assert.equal(err.reason, 'FuelExhausted')
        assert.ok(err.receiptCid?.startsWith('bafyrei'))
        return true
      })
      assert.equal(o.originator.reputation.get(execs[0]?.id.did ?? ''), 100, 'an honest FuelExhausted report is not held against the executor')
    } finally {
      await stopExecutors(execs)
    }
  })

  await t.test('interactive job: stdin chunks in, output chunks out in order', async () => {
    const execs = await startExecutors(o, [{ price: 1 }], sandbox)
    try {
      async function * lines (): AsyncGenerator<Uint8Array> {
        yield new TextEncoder().encode('1+2\n')
        yield new TextEncoder().encode('6*7\n')
      }
      const chunks: string[] = []
      const r = await o.originator.submit({ module: calcWasm, maxFuel: 10_000_000, timeoutSeconds: 10, biddingWindowMs: 400, interactive: true },
        { stdin: lines(), onOutput: (c) => { chunks.push(new TextDecoder().decode(c)) } })
      assert.equal(new TextDecoder().decode(r.output), '= 3\n= 42\nbye\n')
      assert.equal(chunks.join(''), '= 3\n= 42\nbye\n')
    } finally {
      await stopExecutors(execs)
    }
  })

  await t.test('refusals: unknown job, late bid, status from a non-assignee', async () => {
    const execs = await startExecutors(o, [{ price: 1 }, { price: 9 }, { behaviour: 'no-bid' }], sandbox)
    try {
      const other = execs[1]
      const late = execs[2]
      assert.ok(other !== undefined && late !== undefined)
      const status = (announcementId: string): Uint8Array => signMessage('JobStatusUpdateV1', {
        announcement_id: announcementId, executor_did: other.id.did, p2p_job_status: 'Completed', timestamp: formatTimestamp(Date.now())
      }, other.id).bytes
      const unknown = await other.node.sendDirect(o.node.peerId, status(randomUUID()))
      assert.equal(!unknown.ok && unknown.error, 'UnknownJob')
      let answers: Array<Promise<{ ok: boolean, error?: string }>> = []
      const r = await o.originator.submit(job, {
        onEvent: (e) => {
          if (e.type === 'job:assigned') {
            answers = [
              other.node.sendDirect(o.node.peerId, status(e.announcementId)),
              other.node.sendDirect(o.node.peerId, signMessage('JobBidV1', {
                announcement_id: e.announcementId, executor_did: other.id.did, executor_peer_id: other.id.peerId, price: 1, timestamp: formatTimestamp(Date.now())
              }, other.id).bytes),
              late.node.sendDirect(o.node.peerId, signMessage('JobBidV1', {
                announcement_id: e.announcementId, executor_did: late.id.did, executor_peer_id: late.id.peerId, price: 1, timestamp: formatTimestamp(Date.now())
              }, late.id).bytes)
            ]
          }
        }
      })
      assert.equal(r.executorDid, execs[0]?.id.did)
      const [st, again, lateBid] = await Promise.all(answers)
      assert.equal(st?.error, 'NotAssignedToYou')
      assert.equal(again?.error, 'Replay') // a second bid of the same executor: dropped by the mesh's replay check
      assert.equal(lateBid?.error, 'WrongState') // a first bid after the window closed
    } finally {
      await stopExecutors(execs)
    }
  })
})
