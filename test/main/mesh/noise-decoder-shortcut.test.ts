import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { quietEmptyFrameReads } from '../../../src/main/mesh/noise-decoder-shortcut.js'
import { connect, spawn, stopAll } from './helpers.js'

/** Noise's framing: a 2-byte big-endian length, throwing RangeError while fewer than 2 bytes are buffered. */
function noiseLikeDecoder (): { decoder: LengthPrefixedDecoder, throws: () => number } {
  let throws = 0
  const decoder = new LengthPrefixedDecoder({
    lengthDecoder: (b) => {
      if (b.byteLength < 2) { throws++; throw new RangeError('Could not decode int16BE') }
      const at = (i: number): number => b instanceof Uint8Array ? b[i] as number : b.get(i)
      return at(0) * 256 + at(1)
    },
    encodingLength: () => 2
  })
  return { decoder, throws: () => throws }
}

const frame = (body: number[]): number[] => [body.length >> 8, body.length & 255, ...body]

test('Noise frame decoder shortcut: same frames from any split, no exception for an emptied buffer, a partial prefix still waits', () => {
  assert.equal(quietEmptyFrameReads(), true, 'the pinned @libp2p/utils has the expected decoder')
  const bytes = new Uint8Array([...frame([1, 2, 3]), ...frame([4]), ...frame(Array.from({ length: 300 }, (_, i) => i & 255))])
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { decoder } = noiseLikeDecoder()
    const out: number[][] = []
    for (const part of [bytes.subarray(0, cut), bytes.subarray(cut)]) {
      for (const f of decoder.decode(part)) out.push([...f.subarray()])
    }
    assert.deepEqual(out.map((f) => f.length), [3, 1, 300], `split at ${cut}`)
    assert.deepEqual(out[0], [1, 2, 3])
  }
  const { decoder, throws } = noiseLikeDecoder()
  assert.equal([...decoder.decode(new Uint8Array(frame([9, 9])))].length, 1)
  assert.equal(throws(), 0, 'an emptied buffer ends the loop without an exception')
  assert.equal([...decoder.decode(new Uint8Array([0]))].length, 0, 'one byte of a prefix: nothing yet')
  assert.equal(throws(), 1, 'a partial prefix still goes to the original decoder')
  assert.deepEqual([...decoder.decode(new Uint8Array([1, 7]))].map((f) => [...f.subarray()]), [[7]])
})

test('Noise frame decoder shortcut: real Noise connections still carry traffic', async (t) => {
  const a = await spawn()
  const b = await spawn()
  t.after(async () => { await stopAll([a.node, b.node]) })
  await connect(a.node, b.node)
  const rtt = await a.node.libp2p.services.ping.ping(b.node.libp2p.peerId, { signal: AbortSignal.timeout(10_000) })
  assert.ok(rtt >= 0)
})
