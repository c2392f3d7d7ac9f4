import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import { batchTcpWrites } from '../../../src/main/mesh/tcp-write-batching.js'
import { JOBS_ANNOUNCE_TOPIC } from '../../../src/main/mesh/index.js'
import { announcement, connect, spawn, stopAll, until } from './helpers.js'

test('TCP write batching: sends in one tick run under one cork, released on the next tick; answers pass through; installed once; other shapes left alone', async () => {
  const log: string[] = []
  const socket = { cork: () => { log.push('cork') }, uncork: () => { log.push('uncork') } }
  const maConn = {
    socket,
    sendData (data: string[]) { for (const d of data) log.push(`write ${d}`); return { sentBytes: data.length, canSendMore: false } }
  }
  const tick = async (): Promise<void> => { await new Promise<void>((resolve) => { process.nextTick(resolve) }) }
  assert.equal(batchTcpWrites({ maConn }), true)
  assert.equal(batchTcpWrites({ maConn }), true, 'a second install is a no-op')
  assert.deepEqual(maConn.sendData(['a', 'b']), { sentBytes: 2, canSendMore: false })
  maConn.sendData(['c'])
  assert.deepEqual(log, ['cork', 'write a', 'write b', 'write c'], 'still corked within the tick')
  await tick()
  assert.deepEqual(log, ['cork', 'write a', 'write b', 'write c', 'uncork'])
  log.length = 0
  maConn.sendData(['d'])
  await tick()
  assert.deepEqual(log, ['cork', 'write d', 'uncork'], 'a later tick corks again')
  // a throwing send still uncorks
  const failing = { socket, sendData () { throw new Error('boom') } }
  batchTcpWrites({ maConn: failing })
  log.length = 0
  assert.throws(() => failing.sendData(), /boom/)
  await tick()
  assert.deepEqual(log, ['cork', 'uncork'])
  for (const shape of [undefined, {}, { maConn: {} }, { maConn: { sendData () {} } }, { maConn: { socket: {}, sendData () {} } }]) {
    assert.equal(batchTcpWrites(shape), false)
  }
})

test('TCP write batching on the pinned @libp2p/tcp: each Noise frame leaves in one writev, never as a separate 2-byte write', async (t) => {
  let writes = 0
  let twoByte = 0
  let writevs = 0
  const P = Socket.prototype as unknown as { _write: (...a: unknown[]) => unknown, _writev: (...a: unknown[]) => unknown }
  const { _write: write, _writev: writev } = P
  P._write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (this.remoteAddress !== undefined) { writes++; if ((chunk as Uint8Array).byteLength <= 2) twoByte++ }
    return write.call(this, chunk, ...rest)
  }
  P._writev = function (this: Socket, ...rest: unknown[]) {
    if (this.remoteAddress !== undefined) writevs++
    return writev.call(this, ...rest)
  }
  t.after(() => { P._write = write; P._writev = writev })
  const a = await spawn()
  const b = await spawn()
  t.after(async () => { await stopAll([a.node, b.node]) })
  await connect(a.node, b.node)
  await until(() => a.node.meshPeers(JOBS_ANNOUNCE_TOPIC).length === 1 && b.node.meshPeers(JOBS_ANNOUNCE_TOPIC).length === 1, 'gossip mesh')
  writes = 0; twoByte = 0; writevs = 0
  let got = 0
  b.node.events.on('message:received', () => { got++ })
  for (let i = 0; i < 20; i++) await a.node.publishAnnouncement(announcement(a.id))
  await until(() => got === 20, 'every announcement')
  assert.equal(twoByte, 0, `no Noise length prefix written on its own (${writes} writes, ${writevs} writevs)`)
  assert.ok(writevs >= 1, `the announcements went out as writevs (${writevs})`)
  assert.ok(writes + writevs < 20, `20 announcements published in a row shared writes (${writes} writes, ${writevs} writevs)`)
})
