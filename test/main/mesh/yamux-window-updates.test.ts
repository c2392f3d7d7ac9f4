import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'
import { rawCid } from '../../../src/shared/protocol/index.js'
import { MemoryBlockStore } from '../../../src/main/mesh/index.js'
import { halfWindowUpdates, updateCanWait } from '../../../src/main/mesh/yamux-window-updates.js'
import { connect, spawn, stopAll } from './helpers.js'

const WINDOW = 256 * 1024

test('yamux window updates: an established stream waits until half its window is used; every other case goes to the library', () => {
  const est = (used: number, window = WINDOW): object => ({ state: StreamState.Established, recvWindow: window, recvWindowCapacity: window - used })
  assert.equal(updateCanWait(est(0)), true)
  assert.equal(updateCanWait(est(100)), true, 'a small message does not earn its own update')
  assert.equal(updateCanWait(est(WINDOW / 2 - 1)), true)
  assert.equal(updateCanWait(est(WINDOW / 2)), false, 'half the window used: the update goes')
  assert.equal(updateCanWait(est(WINDOW)), false)
  assert.equal(updateCanWait(est(WINDOW, 4 * WINDOW)), true, 'half of a grown window counts, not of the first')
  for (const state of [StreamState.Init, StreamState.SYNSent, StreamState.SYNReceived, StreamState.Paused, StreamState.Finished]) {
    assert.equal(updateCanWait({ state, recvWindow: WINDOW, recvWindowCapacity: WINDOW - 10 }), false, `state ${state} is the library's`)
  }
  assert.equal(updateCanWait({ state: StreamState.Established }), false, 'a stream without the expected fields is the library\'s')
  assert.equal(halfWindowUpdates(), true)
  assert.equal(halfWindowUpdates(), true, 'a second install is a no-op')
})

test('yamux window updates on real nodes: a 3 MiB block and many small ones cross with far fewer update frames than data frames', async (t) => {
  const P = YamuxStream.prototype as unknown as { sendWindowUpdate: () => void, handleData: (f: unknown) => void }
  const { sendWindowUpdate, handleData } = P
  let updateCalls = 0
  let dataFrames = 0
  // count around the installed threshold: every call it sees is one the library would have answered
  const counting = function (this: unknown): void { updateCalls++; sendWindowUpdate.call(this) }
  P.sendWindowUpdate = counting
  P.handleData = function (this: unknown, f: unknown) { dataFrames++; handleData.call(this, f) }
  t.after(() => { P.sendWindowUpdate = sendWindowUpdate; P.handleData = handleData })

  const store = new MemoryBlockStore()
  const server = await spawn({ blockStore: store })
  const client = await spawn()
  t.after(async () => { await stopAll([server.node, client.node]) })
  await connect(client.node, server.node)
  const big = new Uint8Array(randomBytes(3 * 1024 * 1024 + 7))
  const bigCid = rawCid(big)
  store.put(bigCid, big)
  const small = Array.from({ length: 30 }, () => new Uint8Array(randomBytes(2000)))
  for (const b of small) store.put(rawCid(b), b)

  // window-update frames on the wire, counted where they arrive (both nodes are in this process)
  let windowFrames = 0
  let granted = 0
  const W = YamuxStream.prototype as unknown as { handleWindowUpdate: (f: unknown) => void }
  const { handleWindowUpdate } = W
  W.handleWindowUpdate = function (this: unknown, f: unknown) {
    const h = (f as { header: { flag: number, length: number } }).header
    if (h.flag === 0 && h.length > 0) { windowFrames++; granted += h.length } // a pure update, not a SYN, ACK or FIN
    handleWindowUpdate.call(this, f)
  }
  t.after(() => { W.handleWindowUpdate = handleWindowUpdate })
  dataFrames = 0; updateCalls = 0; windowFrames = 0; granted = 0

  const got = await client.node.fetchBlock(bigCid, { from: server.node.peerId, providers: false })
  assert.equal(Buffer.compare(Buffer.from(got), Buffer.from(big)), 0, 'the big block arrived whole')
  for (const b of small) {
    const g = await client.node.fetchBlock(rawCid(b), { from: server.node.peerId, providers: false })
    assert.equal(g.byteLength, b.byteLength)
  }
  assert.ok(dataFrames > 60, `data frames were exchanged (${dataFrames})`)
  assert.ok(updateCalls >= dataFrames, `the library asked for an update after every data frame (${updateCalls})`)
  // 3 MiB through a 256 KiB first window: the receiver gave back at least all but that window (the
  // window also grows, so a few updates do it); small one-stream requests need none beyond SYN/ACK
  assert.ok(granted >= big.byteLength - WINDOW, `the big block's window was refilled (${granted} bytes in ${windowFrames} updates)`)
  assert.ok(windowFrames < dataFrames / 2, `far fewer window-update frames (${windowFrames}) than data frames (${dataFrames})`)
})
