import { test } from 'node:test'
import { randomUUID } from 'node:crypto'
import assert from 'node:assert/strict'
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeCbor, encodeCanonical, formatTimestamp, ProtocolError, signMessage } from '../../../src/shared/protocol/index.js'
import type { CborMap } from '../../../src/shared/protocol/index.js'
import { DIRECT_PROTOCOL } from '../../../src/main/mesh/index.js'
import { explainDialFailure } from '../../../src/main/mesh/peer-links.js'
import type { MeshEvents } from '../../../src/main/mesh/index.js'
import { bid, capabilityAd, connect, corruptSignature, spawn, stopAll } from './helpers.js'

test('direct protocol: round trip and every refusal', async (t) => {
  const a = await spawn()
  const b = await spawn()
  const c = await spawn()
  // a listener with a tight per-peer rate limit
  const l = await spawn({ directRateLimit: { burst: 3, perSecond: 0.5 } })
  t.after(async () => { await stopAll([a.node, b.node, c.node, l.node]) })
  await connect(a.node, b.node)
  await connect(c.node, b.node)

  const received: Array<MeshEvents['message:received']> = []
  const rejected: Array<MeshEvents['message:rejected']> = []
  b.node.events.on('message:received', (e) => { received.push(e) })
  b.node.events.on('message:rejected', (e) => { rejected.push(e) })
  b.node.handleDirect('JobBidV1', (m, ctx) => {
    assert.equal(ctx.remotePeerId, m.body.executor_peer_id)
    if (m.body.price === 666) throw new ProtocolError('UnknownJob', 'no such job')
  })

  await t.test('ok round trip', async () => {
    const answer = await a.node.sendDirect(b.node.peerId, bid(a.id))
    assert.deepEqual(answer, { ok: true })
    assert.equal(received.length, 1)
    assert.equal(received[0]?.message.variant, 'JobBidV1')
    assert.equal(received[0]?.channel, 'direct')
    assert.equal(received[0]?.fromPeerId, a.node.peerId)
  })

  await t.test('handler refusal carries its reason code', async () => {
    const answer = await a.node.sendDirect(b.node.peerId, bid(a.id, undefined, 666))
    assert.equal(answer.ok, false)
    assert.equal(!answer.ok && answer.error, 'UnknownJob')
  })

  await t.test('bad signature', async () => {
    const answer = await a.node.sendDirect(b.node.peerId, corruptSignature(bid(a.id)))
    assert.equal(!answer.ok && answer.error, 'BadSignature')
    assert.equal(rejected.at(-1)?.reason, 'BadSignature')
  })

  await t.test('PeerMismatch: c relays a message signed by a', async () => {
    const answer = await c.node.sendDirect(b.node.peerId, bid(a.id))
    assert.equal(!answer.ok && answer.error, 'PeerMismatch')
  })

  await t.test('replayed message', async () => {
    const bytes = bid(a.id)
    assert.deepEqual(await a.node.sendDirect(b.node.peerId, bytes), { ok: true })
    const again = await a.node.sendDirect(b.node.peerId, bytes)
    assert.equal(!again.ok && again.error, 'Replay')
  })

  await t.test('variant without a handler is refused (PolicyRejected)', async () => {
    const answer = await a.node.sendDirect(b.node.peerId, capabilityAd(a.id))
    assert.equal(!answer.ok && answer.error, 'PolicyRejected')
  })

  await t.test('unknown variant: answered UnknownVariant, connection kept', async () => {
    const before = a.node.libp2p.getConnections(peerIdFromString(b.node.peerId)).map((x) => x.id)
    const frame = encodeCanonical({ FutureThingV7: { hello: 'world', signature: new Uint8Array(64) } })
    const answer = await a.node.sendDirect(b.node.peerId, frame)
    assert.equal(!answer.ok && answer.error, 'UnknownVariant')
    const after = a.node.libp2p.getConnections(peerIdFromString(b.node.peerId)).map((x) => x.id)
    assert.deepEqual(after, before)
    assert.deepEqual(await a.node.sendDirect(b.node.peerId, bid(a.id)), { ok: true })
  })

  await t.test('oversize frame: refused locally and by the listener while reading', async () => {
    const big = new Uint8Array(1024 * 1024 + 1)
    await assert.rejects(a.node.sendDirect(b.node.peerId, big), { name: 'MeshError', code: 'TooLarge' })
    // bypass the sender-side check: write a 2 MiB frame on a raw stream
    const stream = await a.node.libp2p.dialProtocol(peerIdFromString(b.node.peerId), DIRECT_PROTOCOL)
    const lp = lpStream(stream)
    const writing = lp.write(new Uint8Array(2 * 1024 * 1024)).catch((err: unknown) => err)
    let outcome: string
    try {
      const answer = decodeCbor((await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray()) as CborMap
      outcome = `answer:${String(answer.error)}`
    } catch (err) {
      outcome = `reset:${(err as Error).name}`
    }
    stream.abort(new Error('done'))
    await writing
    assert.ok(outcome === 'answer:TooLarge' || outcome.startsWith('reset:'), outcome)
    assert.equal(outcome, 'answer:TooLarge')
    // the connection is still usable
    assert.deepEqual(await a.node.sendDirect(b.node.peerId, bid(a.id)), { ok: true })
  })

  await t.test('rate limit per peer', async () => {
    l.node.handleDirect('JobBidV1', () => {})
    await connect(c.node, l.node)
    await connect(a.node, l.node)
    const answers = []
    for (let i = 0; i < 6; i++) answers.push(await c.node.sendDirect(l.node.peerId, bid(c.id)))
    assert.deepEqual(answers.slice(0, 3), [{ ok: true }, { ok: true }, { ok: true }])
    const limited = answers.slice(3).filter((x) => !x.ok && x.error === 'RateLimited').length
    assert.ok(limited >= 2, `expected RateLimited answers, got ${JSON.stringify(answers)}`)
    // other peers are not affected
    assert.deepEqual(await a.node.sendDirect(l.node.peerId, bid(a.id)), { ok: true })
  })

  await t.test('past the limit: one bid per open announcement of ours; a job session widens the limit; big frames get no credit', async () => {
    const limited = async (bytes: Uint8Array): Promise<boolean> => {
      const answer = await c.node.sendDirect(l.node.peerId, bytes)
      return !answer.ok && answer.error === 'RateLimited'
    }
    assert.equal(await limited(bid(c.id)), true, 'c is still past its limit')
    const [open, other, bigId] = [randomUUID(), randomUUID(), randomUUID()]
    const close = l.node.openBidding(open)
    assert.equal(await limited(bid(c.id, open)), false, 'its bid for our open announcement gets through')
    assert.equal(await limited(bid(c.id, open, 11)), true, 'only once per announcement')
    assert.equal(await limited(bid(c.id, other)), true, 'not for an announcement that is not ours')
    // a key the profile does not define is kept and ignored (profile 2): a bid padded to 20 KiB
    const padded = { announcement_id: bigId, executor_did: c.id.did, executor_peer_id: c.id.peerId, price: 1, timestamp: formatTimestamp(Date.now()), padding: 'x'.repeat(20_000) }
    const big = signMessage('JobBidV1', padded as Parameters<typeof signMessage<'JobBidV1'>>[1], c.id).bytes
    l.node.openBidding(bigId)
    assert.equal(await limited(big), true, 'a 20 KiB frame is not decoded for a credit')
    close()
    assert.equal(await limited(bid(c.id, open)), true, 'window closed')
    const end = l.node.openDirectSession(c.id.peerId)
    const answers = []
    for (let i = 0; i < 20; i++) answers.push(await limited(bid(c.id)))
    assert.ok(answers.every((x) => !x), 'a session peer gets its allowance at once (the bucket refills at the widened rate)')
    end()
  })

  await t.test('bad input is a clear error', async () => {
    await assert.rejects(a.node.sendDirect('not-a-peer-id', bid(a.id)), { name: 'MeshError', code: 'InvalidInput' })
  })
})


test('a dial with no usable address, outside LAN mode, names the likely cause and its fix; other errors pass as they are', () => {
  const noAddr = new Error('The dial request has no valid addresses for peer: 12D3KooW…')
  noAddr.name = 'NoValidAddressesError'
  const e = explainDialFailure(noAddr, false) as Error
  assert.equal(e.name, 'NoValidAddressesError', 'still matched by name')
  assert.match(e.message, /^The dial request has no valid addresses for peer: 12D3KooW… \(no usable address is known for it: .*--lan\)$/)
  assert.equal(e.cause, noAddr)
  assert.equal(explainDialFailure(noAddr, true), noAddr, 'in LAN mode the addresses were kept: no such hint')
  const other = new Error('timed out')
  assert.equal(explainDialFailure(other, false), other)
  assert.equal(explainDialFailure('x', false), 'x')
})
