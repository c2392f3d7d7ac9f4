import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BidRefusedError, createBidSender, type BidSenderOptions } from '../../../src/main/market/index.js'

const bytes = new Uint8Array([1])
const later = (ms: number): number => Date.now() + ms

/** A deliver() whose calls stay pending until the test settles them. */
function controllable (): { deliver: BidSenderOptions['deliver'], calls: Array<{ peer: string, cold: boolean, ok: () => void, fail: (e: Error) => void }> } {
  const calls: Array<{ peer: string, cold: boolean, ok: () => void, fail: (e: Error) => void }> = []
  return {
    calls,
    deliver: async (peer, _b, o) => await new Promise<void>((resolve, reject) => {
      calls.push({ peer, cold: o.cold, ok: resolve, fail: reject })
    })
  }
}

test('a bid to a connected originator never waits behind bids to unreachable ones', async () => {
  const c = controllable()
  const s = createBidSender({ deliver: c.deliver, connected: (p) => p === 'warm', maxColdInFlight: 2, maxInFlight: 16 })
  const cold = Array.from({ length: 50 }, (_, i) => s.send({ announcementId: `c${i}`, originatorPeerId: `cold${i}`, bytes, closesAt: later(30_000) }))
  cold.forEach((p) => { p.catch(() => {}) })
  assert.equal(c.calls.length, 2, 'only two cold deliveries at once')
  assert.equal(s.stats().queued, 48)
  const warm = s.send({ announcementId: 'w', originatorPeerId: 'warm', bytes, closesAt: later(30_000) })
  assert.equal(c.calls.length, 3)
  assert.deepEqual(c.calls.map((x) => x.cold), [true, true, false])
  c.calls[2]?.ok()
  await warm
  s.close()
  for (const call of c.calls.slice(0, 2)) call.fail(new Error('unreachable'))
  const settled = await Promise.allSettled(cold)
  assert.ok(settled.every((r) => r.status === 'rejected'))
})

test('waiting bids go out earliest-closing first; one whose window closed while waiting is dropped', async () => {
  const c = controllable()
  const s = createBidSender({ deliver: c.deliver, connected: () => true, maxInFlight: 1 })
  const first = s.send({ announcementId: 'a', originatorPeerId: 'p1', bytes, closesAt: later(60_000) })
  const late = s.send({ announcementId: 'late', originatorPeerId: 'p2', bytes, closesAt: later(50_000) })
  const soon = s.send({ announcementId: 'soon', originatorPeerId: 'p3', bytes, closesAt: later(10_000) })
  const expiring = s.send({ announcementId: 'x', originatorPeerId: 'p4', bytes, closesAt: later(30) })
  await new Promise((r) => setTimeout(r, 60))
  c.calls[0]?.ok()
  await first
  await assert.rejects(expiring, { name: 'BidNotSent', code: 'WindowClosed' })
  assert.equal(c.calls[1]?.peer, 'p3', 'the soonest-closing waiting bid goes next')
  c.calls[1]?.ok()
  await soon
  assert.equal(c.calls[2]?.peer, 'p2')
  c.calls[2]?.ok()
  await late
})

test('an originator a bid could not reach fails the next bids at once; a refusal does not count as unreachable', async () => {
  const c = controllable()
  let t = 1_000_000
  const s = createBidSender({ deliver: c.deliver, connected: () => false, unreachableMs: 60_000, now: () => t })
  const one = s.send({ announcementId: '1', originatorPeerId: 'gone', bytes, closesAt: t + 30_000 })
  c.calls[0]?.fail(new Error('dial timed out'))
  await assert.rejects(one, /dial timed out/)
  t += 5000
  await assert.rejects(s.send({ announcementId: '2', originatorPeerId: 'gone', bytes, closesAt: t + 30_000 }),
    (err: Error & { code?: string }) => err.name === 'BidNotSent' && err.code === 'Unreachable' && /failed 5 s ago \(dial timed out\)/.test(err.message))
  assert.equal(c.calls.length, 1, 'no second dial')
  t += 60_000
  const retry = s.send({ announcementId: '3', originatorPeerId: 'gone', bytes, closesAt: t + 30_000 })
  assert.equal(c.calls.length, 2, 'tried again after the cool-down')
  c.calls[1]?.ok()
  await retry

  const refused = s.send({ announcementId: '4', originatorPeerId: 'picky', bytes, closesAt: t + 30_000 })
  c.calls[2]?.fail(new BidRefusedError('originator refused the bid: Stale'))
  await assert.rejects(refused, { name: 'BidRefused' })
  const again = s.send({ announcementId: '5', originatorPeerId: 'picky', bytes, closesAt: t + 30_000 })
  assert.equal(c.calls.length, 4, 'a refusing originator is still reachable')
  c.calls[3]?.ok()
  await again
})

test('the queue of bids to unconnected originators is bounded', async () => {
  const c = controllable()
  const s = createBidSender({ deliver: c.deliver, connected: () => false, maxColdInFlight: 1, maxQueued: 3 })
  const ps = Array.from({ length: 4 }, (_, i) => s.send({ announcementId: `${i}`, originatorPeerId: `p${i}`, bytes, closesAt: later(30_000) }))
  ps.forEach((p) => { p.catch(() => {}) })
  await assert.rejects(s.send({ announcementId: 'x', originatorPeerId: 'px', bytes, closesAt: later(30_000) }), { name: 'BidNotSent', code: 'QueueFull' })
  assert.deepEqual(s.stats(), { inFlight: 1, coldInFlight: 1, queued: 3, unreachable: 0, dropped: 1 })
  s.close()
  c.calls[0]?.fail(new Error('unreachable'))
  const settled = await Promise.allSettled(ps)
  assert.ok(settled.every((r) => r.status === 'rejected'))
})

test('cannotSend says why a bid would fail at once, so the caller need not sign or store it', async () => {
  const c = controllable()
  const s = createBidSender({ deliver: c.deliver, connected: (p) => p === 'warm', maxColdInFlight: 1, maxQueued: 1 })
  assert.equal(s.cannotSend('cold1'), undefined)
  const a = s.send({ announcementId: 'a', originatorPeerId: 'cold1', bytes, closesAt: later(30_000) })
  const b = s.send({ announcementId: 'b', originatorPeerId: 'cold2', bytes, closesAt: later(30_000) })
  assert.match(s.cannotSend('cold3') ?? '', /not connected to the originator, and 1 bids/)
  assert.equal(s.cannotSend('warm'), undefined, 'a connected originator can always be bid to')
  c.calls[0]?.fail(new Error('no route'))
  await assert.rejects(a)
  assert.match(s.cannotSend('cold1') ?? '', /unreachable: a bid to it failed/)
  c.calls[1]?.ok()
  await b
})

test('reach: connections to learn the path share the bid lane (cold ones bounded); a failed one marks the originator unreachable', async () => {
  const c = controllable()
  const connects: Array<{ peer: string, ok: (l: { bytes?: bigint } | undefined) => void, fail: (e: Error) => void }> = []
  const s = createBidSender({
    deliver: c.deliver,
    connected: () => false,
    connect: async (peer) => await new Promise((resolve, reject) => { connects.push({ peer, ok: resolve, fail: reject }) }),
    maxColdInFlight: 2
  })
  const coldBid = s.send({ announcementId: 'b', originatorPeerId: 'bidee', bytes, closesAt: later(30_000) })
  const reaches = Array.from({ length: 5 }, async (_, i) => await s.reach(`p${i}`, { closesAt: later(30_000) }))
  reaches.forEach((p) => { p.catch(() => {}) })
  assert.equal(c.calls.length + connects.length, 2, 'a cold bid and the connections count against the same two cold slots')
  assert.equal(s.stats().queued, 4)
  c.calls[0]?.ok()
  await coldBid
  assert.equal(connects.length, 2)
  connects[0]?.ok({ bytes: 131072n })
  assert.deepEqual(await reaches[0], { bytes: 131072n })
  connects[1]?.fail(new Error('no addresses for p1'))
  await assert.rejects(reaches[1] as Promise<unknown>, /no addresses/)
  assert.match(s.cannotSend('p1') ?? '', /^originator unreachable: connecting to it failed 0 s ago \(no addresses for p1\)/)
  await assert.rejects(s.reach('p1', { closesAt: later(30_000) }), { name: 'BidNotSent', code: 'Unreachable' })
  await assert.rejects(s.send({ announcementId: 'x', originatorPeerId: 'p1', bytes, closesAt: later(30_000) }), { name: 'BidNotSent', code: 'Unreachable' })
  await new Promise((resolve) => setImmediate(resolve))
  for (const x of connects.slice(2)) x.ok(undefined)
  assert.equal(await reaches[2], undefined, 'undefined: a direct connection')
  s.close()
  await new Promise((resolve) => setImmediate(resolve))
  for (const x of connects.slice(4)) x.fail(new Error('stopped'))
  await Promise.allSettled(reaches)
})

test('reach: without a connect option it fails at once, naming why', async () => {
  const s = createBidSender({ deliver: async () => {}, connected: () => false })
  await assert.rejects(s.reach('p', { closesAt: later(30_000) }), { name: 'BidNotSent', code: 'Unreachable', message: /no connect option/ })
})
