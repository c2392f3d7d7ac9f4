import { test } from 'node:test'
import assert from 'node:assert/strict'
import { YamuxStream } from '@libp2p/yamux/stream'
import { peerIdFromString } from '@libp2p/peer-id'
import { expectEcho, openOptimistic, proposal } from '../../../src/main/mesh/optimistic-select.js'
import { DIRECT_PROTOCOL, KAD_PROTOCOL } from '../../../src/main/mesh/index.js'
import { capabilityAd, connect, spawn, stopAll } from './helpers.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

test('optimistic select: the proposal is the two multistream lines; the echo is consumed before the reader sees a byte, a mismatch aborts', () => {
  const p = proposal('/x/1')
  assert.deepEqual([...p], [19, ...enc('/multistream/1.0.0\n'), 5, ...enc('/x/1\n')])

  const seen: number[][] = []
  const aborted: Error[] = []
  let refused = 0
  const stream = {
    protocol: '',
    direction: 'outbound',
    onData (d: { subarray: () => Uint8Array }) { seen.push([...d.subarray()]) },
    abort (err: Error) { aborted.push(err) }
  }
  const original = stream.onData
  assert.equal(expectEcho(stream, p, '/x/1', () => { refused++ }), true)
  const chunk = (b: number[]): { byteLength: number, subarray: () => Uint8Array } => ({ byteLength: b.length, subarray: () => new Uint8Array(b) })
  stream.onData(chunk([...p.subarray(0, 7)]))
  stream.onData(chunk([...p.subarray(7, 21)]))
  assert.deepEqual(seen, [], 'echo bytes are not the reader\'s')
  stream.onData(chunk([...p.subarray(21), 2, 0xa1, 0x01]))
  assert.deepEqual(seen, [[2, 0xa1, 0x01]], 'what follows the echo in the same chunk passes on')
  assert.equal(stream.onData, original, 'the reader\'s own onData is back')
  assert.equal(aborted.length + refused, 0)

  // the listener does not speak it: header echo, then "na"
  const s2 = { ...stream, onData: stream.onData }
  seen.length = 0
  assert.equal(expectEcho(s2, p, '/x/1', () => { refused++ }), true)
  s2.onData(chunk([19, ...enc('/multistream/1.0.0\n'), 3, ...enc('na\n')]))
  assert.deepEqual(seen, [])
  assert.equal(aborted.length, 1)
  assert.equal(aborted[0]?.name, 'UnsupportedProtocolError')
  assert.equal(refused, 1)
  assert.equal(expectEcho({ protocol: '', direction: 'outbound', abort () {} }, p, '/x/1'), false, 'a stream without onData is left alone')
})

test('optimistic select falls back to full negotiation: muxer not open, unknown internals, at the outbound stream limit', async () => {
  const sent: Uint8Array[] = []
  const made = (): object => ({ protocol: '', direction: 'outbound', onData () {}, abort () {}, send (d: Uint8Array) { sent.push(d); return true } })
  const conn = (streams: number, muxer: object | undefined, limit?: number): never => ({
    status: 'open',
    muxer,
    streams: Array.from({ length: streams }, () => ({ direction: 'outbound', protocol: '/x/1' })),
    components: { registrar: { getHandler: () => ({ options: limit === undefined ? {} : { maxOutboundStreams: limit } }) } }
  }) as never
  const open = { status: 'open', createStream: made }
  assert.equal(await openOptimistic(conn(0, undefined), '/x/1'), undefined, 'no muxer')
  assert.equal(await openOptimistic(conn(0, { status: 'closing', createStream: made }), '/x/1'), undefined, 'muxer closing')
  assert.equal(await openOptimistic(conn(64, open), '/x/1'), undefined, 'libp2p default limit of 64 reached')
  assert.equal(await openOptimistic(conn(2, open, 2), '/x/1'), undefined, 'the handler\'s own limit reached')
  assert.equal(await openOptimistic(conn(1, open), '/x/1', undefined, 1), undefined, 'the call\'s limit reached')
  assert.equal(sent.length, 0)
  const s = await openOptimistic(conn(63, open), '/x/1')
  assert.ok(s !== undefined)
  assert.equal((s as unknown as { protocol: string }).protocol, '/x/1')
  assert.deepEqual([...(sent[0] ?? [])], [...proposal('/x/1')], 'the proposal went out at once')
})

interface Spy { protocol?: string, out: number, inAt: number[] }

test('optimistic select on real nodes: a direct message and a DHT query leave with their proposal before any echo; a peer that stopped speaking it gets a full negotiation next', async (t) => {
  // every outbound yamux stream: its sends, and how many it had made when each data frame came back
  const P = YamuxStream.prototype as unknown as { send: (d: Uint8Array) => boolean, handleData: (f: unknown) => void, direction: string }
  const hadOwnSend = Object.prototype.hasOwnProperty.call(YamuxStream.prototype, 'send')
  const { handleData, send } = P
  const spies = new Map<object, Spy>()
  const spy = (s: object): Spy => { let x = spies.get(s); if (x === undefined) { x = { out: 0, inAt: [] }; spies.set(s, x) } return x }
  P.send = function (this: typeof P, d: Uint8Array) {
    if (this.direction === 'outbound') {
      const x = spy(this)
      if (x.out === 0) x.protocol = [DIRECT_PROTOCOL, KAD_PROTOCOL].find((p) => Buffer.from(d.subarray()).includes(Buffer.from(p)))
      x.out++
    }
    return send.call(this, d)
  }
  P.handleData = function (this: typeof P, f: unknown) {
    if (this.direction === 'outbound') spy(this).inAt.push(spy(this).out)
    handleData.call(this, f)
  }
  t.after(() => {
    if (hadOwnSend) P.send = send
    else delete (P as { send?: unknown }).send
    P.handleData = handleData
  })
  const streamsOf = (protocol: string): Spy[] => [...spies.values()].filter((x) => x.protocol === protocol)
  const directStreams = (): Spy[] => streamsOf(DIRECT_PROTOCOL)

  const a = await spawn()
  const b = await spawn()
  t.after(async () => { await stopAll([a.node, b.node]) })
  let got = 0
  b.node.handleDirect('CapabilityAdvertisementV1', () => { got++ })
  await connect(a.node, b.node)
  const bId = peerIdFromString(b.node.peerId)
  const speaks = async (): Promise<boolean> => (await a.node.libp2p.peerStore.get(bId)).protocols.includes(DIRECT_PROTOCOL)
  for (let i = 0; i < 50 && !(await speaks()); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(await speaks(), true, 'identify told a that b speaks the direct protocol')

  assert.deepEqual(await a.node.sendDirect(b.node.peerId, capabilityAd(a.id)), { ok: true })
  assert.equal(got, 1)
  const streams = directStreams()
  assert.equal(streams.length, 1, 'one stream for the message')
  const s = streams[0] as Spy
  assert.ok(s.out >= 2 && s.inAt[0] !== undefined && s.inAt[0] >= 2, `proposal and frame sent (${s.out}) before the first byte back (after ${String(s.inAt[0])} sends)`)

  // kad-dht's streams (one per query message) go the same way
  spies.clear()
  const dht = a.node.libp2p.services.dht as unknown as { getClosestPeers: (key: Uint8Array) => AsyncIterable<unknown> }
  for await (const _ of dht.getClosestPeers(new TextEncoder().encode('any key'))) { /* drain */ }
  const kad = streamsOf(KAD_PROTOCOL)
  assert.ok(kad.length >= 1, 'the query asked b')
  for (const k of kad) assert.ok(k.out >= 2 && k.inAt[0] !== undefined && k.inAt[0] >= 2, `kad proposal and query sent (${k.out}) before the first byte back (after ${String(k.inAt[0])} sends)`)

  // b stops speaking it, but a's peer store still says it does: one optimistic try is refused, the
  // retry negotiates fully and fails like any unsupported protocol
  await b.node.libp2p.unhandle(DIRECT_PROTOCOL)
  for (let i = 0; i < 50 && await speaks(); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  await a.node.libp2p.peerStore.merge(bId, { protocols: [DIRECT_PROTOCOL] })
  spies.clear()
  await assert.rejects(a.node.sendDirect(b.node.peerId, capabilityAd(a.id), { attempts: 2 }), (err: Error) => /protocol/i.test(err.message))
  const tries = directStreams()
  assert.equal(tries.length, 2, 'two attempts')
  assert.ok((tries[0]?.out ?? 0) >= 2, 'the first was optimistic (proposal and frame at once)')
  assert.equal(tries[1]?.out, 1, 'the second negotiated fully: its proposal alone, never its frame')
  assert.equal(got, 1, 'the refused frame was never handled')
})
