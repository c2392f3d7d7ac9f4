/** Interactive bytes as paced messages: coalesced while one is in flight, ≥ minInterval apart, bounded reads, errors kept. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createChunkPacer } from '../../../src/main/mesh/chunk-pacer.js'

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

test('a fast producer: every byte arrives in order, coalesced into messages at least minInterval apart; the first goes at once', async () => {
  const sent: Array<{ at: number, data: string }> = []
  const t0 = Date.now()
  const pacer = createChunkPacer({
    maxBytes: 1000,
    minIntervalMs: 30,
    send: async (d) => { sent.push({ at: Date.now(), data: Buffer.from(d).toString() }); await sleep(2) }
  })
  let expected = ''
  for (let i = 0; i < 100; i++) {
    const line = `line ${i}\n`
    expected += line
    pacer.push(new TextEncoder().encode(line))
    if (i % 10 === 0) await sleep(5)
  }
  await pacer.drain()
  assert.equal(sent.map((s) => s.data).join(''), expected, 'nothing lost, nothing reordered')
  assert.ok((sent[0]?.at ?? Infinity) - t0 < 25, 'the first chunk is not delayed')
  assert.ok(sent.length < 100 / 3, `coalesced: ${sent.length} messages for 100 chunks`)
  for (let i = 1; i < sent.length; i++) {
    assert.ok((sent[i]?.at as number) - (sent[i - 1]?.at as number) >= 29, `messages ${i - 1} and ${i} are ≥ 30 ms apart`)
  }
})

test('messages are at most maxBytes; a chunk larger than that is split', async () => {
  const sizes: number[] = []
  const pacer = createChunkPacer({ maxBytes: 100, minIntervalMs: 0, send: async (d) => { sizes.push(d.byteLength) } })
  pacer.push(new Uint8Array(250))
  pacer.push(new Uint8Array(30))
  await pacer.drain()
  assert.equal(sizes.reduce((a, b) => a + b, 0), 280)
  assert.ok(sizes.every((n) => n <= 100), sizes.join(','))
})

test('ready() holds the reader back while more than highWaterBytes wait to be sent', async () => {
  let release: () => void = () => {}
  const pacer = createChunkPacer({ maxBytes: 10, minIntervalMs: 0, highWaterBytes: 25, send: async () => { await new Promise<void>((resolve) => { release = resolve }) } })
  pacer.push(new Uint8Array(10)) // taken at once, in flight
  pacer.push(new Uint8Array(30)) // 30 queued > 25
  let ready = false
  void pacer.ready().then(() => { ready = true })
  await sleep(10)
  assert.equal(ready, false, 'blocked above the high-water mark')
  release() // the next 10 bytes are taken: 20 queued
  await sleep(10)
  assert.equal(ready, true)
  for (let i = 0; i < 5; i++) { release(); await sleep(2) }
  await pacer.drain()
})

test('a failed send is reported by drain() and ready(); later pushes are dropped', async () => {
  let n = 0
  const pacer = createChunkPacer({ maxBytes: 10, minIntervalMs: 0, send: async () => { if (n++ === 1) throw new Error('refused') } })
  pacer.push(new Uint8Array(10))
  pacer.push(new Uint8Array(10))
  pacer.push(new Uint8Array(10))
  await assert.rejects(pacer.drain(), /refused/)
  await assert.rejects(pacer.ready(), /refused/)
  pacer.push(new Uint8Array(10))
  assert.equal(n, 2, 'nothing sent after the failure')
})
