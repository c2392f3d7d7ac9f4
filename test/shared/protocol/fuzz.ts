/** Fuzz driver shared by the bounded test and `npm run fuzz`: mutated and random frames through decode + validation. */
import { readFileSync } from 'node:fs'
import { createValidator, verifyReceiptBlock, ProtocolError, ReplayCache } from '../../../src/shared/protocol/index.js'
import { VECTORS_PATH } from '../../../scripts/gen-vectors.js'

export interface FuzzStats { inputs: number, accepted: number, rejected: Record<string, number> }

export function fuzz (iterations: number, seed = 1): FuzzStats {
  const V = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as { now: string, messages: Array<{ wire_hex: string }>, receipts: Array<{ wire_hex: string }> }
  const corpus = [...V.messages, ...V.receipts].map((m) => Uint8Array.from(Buffer.from(m.wire_hex, 'hex')))
  const now = Date.parse(V.now)
  const validator = createValidator({ now: () => now, replay: new ReplayCache({ maxEntries: 1000, now: () => now }) })
  let s = seed >>> 0
  const rnd = (n: number): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s % n }
  const interesting = [0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x40, 0x5f, 0x60, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xd8, 0xf4, 0xf6, 0xf7, 0xf9, 0xfb, 0xff]
  const stats: FuzzStats = { inputs: 0, accepted: 0, rejected: {} }
  for (let i = 0; i < iterations; i++) {
    let input: Uint8Array
    const mode = rnd(10)
    if (mode === 0) {
      input = Uint8Array.from({ length: rnd(64) }, () => rnd(256))
    } else {
      const base = corpus[rnd(corpus.length)] as Uint8Array
      input = Uint8Array.from(base)
      const edits = 1 + rnd(4)
      for (let e = 0; e < edits; e++) {
        const op = rnd(5)
        const at = rnd(Math.max(1, input.length))
        if (op === 0) input[at] = rnd(256)
        else if (op === 1) input[at] = interesting[rnd(interesting.length)] as number
        else if (op === 2) input = input.subarray(0, at)
        else if (op === 3) input = Uint8Array.from([...input.subarray(0, at), rnd(256), ...input.subarray(at)])
        else input[at] = (input[at] ?? 0) ^ (1 << rnd(8))
      }
    }
    stats.inputs++
    let result: { ok: boolean, reason?: string }
    try {
      result = mode === 9 ? verifyReceiptBlock(input) : validator.validate(input)
    } catch (err) {
      const e = new Error(`fuzz input #${i} threw ${err instanceof ProtocolError ? 'ProtocolError' : String(err)}: ${Buffer.from(input).toString('hex')}`)
      throw e
    }
    if (result.ok) stats.accepted++
    else stats.rejected[result.reason as string] = (stats.rejected[result.reason as string] ?? 0) + 1
  }
  return stats
}
