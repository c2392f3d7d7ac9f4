import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { decodeCbor, encodeCanonical, ProtocolError, rawCid } from '../../../src/shared/protocol/index.js'

/** Deterministic PRNG so failures are reproducible. */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const KEY_POOL = ['a', 'b', 'aa', 'ab', 'z', 'é', 'ü', '日本', '€uro', 'announcement_id', 'signature', 'x_y', '', 'AB', 'ßß', '🙂', 'k'.repeat(30)]

function randomValue (r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 7 : 10))
  switch (pick) {
    case 0: return Math.floor(r() * 30) - 5 // small ints incl. negatives
    case 1: { // integers across every head size, including above 2^32 and 2^53
      const choices = [23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER]
      const v = choices[Math.floor(r() * choices.length)] as number
      if (r() < 0.25) return BigInt(v) * 1000n + 17n // beyond the safe range
      return r() < 0.3 ? -v : v
    }
    case 2: return KEY_POOL[Math.floor(r() * KEY_POOL.length)] as string + String.fromCodePoint(0x20 + Math.floor(r() * 0x2000))
    case 3: return Uint8Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256))
    case 4: return r() < 0.5
    case 5: return null
    case 6: return CID.parse(rawCid(Uint8Array.of(Math.floor(r() * 256))))
    case 7: case 8: {
      const o: Record<string, unknown> = {}
      const n = Math.floor(r() * 6)
      for (let i = 0; i < n; i++) o[KEY_POOL[Math.floor(r() * KEY_POOL.length)] as string] = randomValue(r, depth + 1)
      return o
    }
    default: return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1))
  }
}

/** @ipld/dag-cbor wants bigints only outside the safe range (it encodes both the same way). */
function normalize (v: unknown): unknown {
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v)
  if (Array.isArray(v)) return v.map(normalize)
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && CID.asCID(v) === null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]))
  }
  return v
}

test('canonical encoding is byte-identical to @ipld/dag-cbor over 3000 random values', () => {
  const r = rng(42)
  for (let i = 0; i < 3000; i++) {
    const v = randomValue(r, 0)
    const ours = encodeCanonical(v)
    const theirs = dagCbor.encode(normalize(v))
    assert.deepEqual(Buffer.from(ours).toString('hex'), Buffer.from(theirs).toString('hex'), `value #${i}`)
    // and our decoder reads back what dag-cbor reads
    assert.deepEqual(normalize(decodeCbor(ours, { maxDepth: 64 })), normalize(dagCbor.decode(ours)))
  }
})

test('integer edge cases encode like dag-cbor, including above 2^32 and 2^53', () => {
  const values = [0, 23, 24, 255, 256, 65535, 65536, 4294967295, 4294967296, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER, -1, -24, -25, -256, -257, -4294967296, -4294967297]
  for (const v of values) assert.deepEqual(encodeCanonical(v), dagCbor.encode(v), String(v))
  for (const v of [2n ** 53n, 2n ** 64n - 1n, -(2n ** 64n)]) assert.deepEqual(encodeCanonical(v), dagCbor.encode(v), String(v))
  assert.equal(decodeCbor(encodeCanonical(2n ** 64n - 1n)), 2n ** 64n - 1n)
  assert.equal(decodeCbor(encodeCanonical(2 ** 33)), 2 ** 33)
  assert.equal(decodeCbor(encodeCanonical(-(2n ** 64n))), -(2n ** 64n))
})

test('map keys sort by encoded length then bytewise; byte strings stay byte strings', () => {
  const bytes = encodeCanonical({ bb: 1, a: 2, ü: 3, b: 4, data: new Uint8Array([1, 2]) })
  assert.deepEqual(bytes, dagCbor.encode({ bb: 1, a: 2, ü: 3, b: 4, data: new Uint8Array([1, 2]) }))
  const back = decodeCbor(bytes) as Record<string, unknown>
  assert.deepEqual(Object.keys(back), ['a', 'b', 'bb', 'ü', 'data'])
  assert.ok(back.data instanceof Uint8Array)
})

test('encoder refuses floats and non-data values', () => {
  assert.throws(() => encodeCanonical(1.5), /non-integer/)
  assert.throws(() => encodeCanonical(2 ** 60), /safe range/)
  assert.throws(() => encodeCanonical(() => 1), /cannot encode/)
  assert.deepEqual(encodeCanonical({ a: undefined, b: 1 }), encodeCanonical({ b: 1 }))
})

function rejects (hex: string, reason: string, pattern: RegExp): void {
  assert.throws(() => decodeCbor(Buffer.from(hex, 'hex')), (err: unknown) => {
    assert.ok(err instanceof ProtocolError, 'ProtocolError')
    assert.equal(err.reason, reason)
    assert.match(err.message, pattern)
    return true
  })
}

test('decoder rejects everything outside the DAG-CBOR V1 subset with a typed error', () => {
  rejects('', 'Malformed', /empty/)
  rejects('f93e00', 'Malformed', /floats/)
  rejects('fb3ff8000000000000', 'Malformed', /floats/)
  rejects('f7', 'Malformed', /undefined/)
  rejects('c1 01'.replace(' ', ''), 'Malformed', /tag 1/)
  rejects('bf6161 01ff'.replace(' ', ''), 'Malformed', /indefinite/)
  rejects('5f41 01ff'.replace(' ', ''), 'Malformed', /indefinite/)
  rejects('a2616101616102', 'Malformed', /duplicate map key "a"/)
  rejects('a1 01 02'.replaceAll(' ', ''), 'Malformed', /keys must be text/)
  rejects('a169 5f5f70726f746f5f5f 01'.replaceAll(' ', ''), 'Malformed', /forbidden map key "__proto__"/)
  rejects('a16b 636f6e7374727563746f72 01'.replaceAll(' ', ''), 'Malformed', /forbidden map key "constructor"/)
  rejects('62c328', 'Malformed', /UTF-8/)
  rejects('0101', 'Malformed', /trailing/)
  rejects('9a ffffffff'.replace(' ', ''), 'Malformed', /length exceeds/)
  rejects('5b 0000000100000000'.replace(' ', ''), 'Malformed', /length exceeds/)
  rejects('1c', 'Malformed', /reserved/)
  rejects('f0', 'Malformed', /simple value/)
  rejects('d82a 4100'.replace(' ', ''), 'Malformed', /tag 42/)
  assert.throws(() => decodeCbor(new Uint8Array(11), { maxBytes: 10 }), (e: unknown) => e instanceof ProtocolError && e.reason === 'TooLarge')
  const deep = Buffer.concat([Buffer.alloc(40, 0x81), Buffer.from([0x01])])
  assert.throws(() => decodeCbor(deep), (e: unknown) => e instanceof ProtocolError && /nesting deeper than 32/.test(e.message))
  assert.doesNotThrow(() => decodeCbor(deep, { maxDepth: 64 }))
})

test('tag 42 CIDs round-trip; decoded maps are plain objects that cannot pollute', () => {
  const cid = CID.parse(rawCid(new Uint8Array([9])))
  const bytes = encodeCanonical({ link: cid })
  assert.deepEqual(bytes, dagCbor.encode({ link: cid }))
  const back = decodeCbor(bytes) as Record<string, unknown>
  assert.equal(String(back.link), cid.toString())
  assert.equal(Object.getPrototypeOf(back), Object.prototype)
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
})

test('decoder accepts non-canonical key order and non-minimal integer heads on the wire', () => {
  // {"b": 1, "a": 2} (unsorted) and 0x1801 (1 in a 1-byte head)
  const v = decodeCbor(Buffer.from('a2616201616102', 'hex')) as Record<string, unknown>
  assert.deepEqual({ ...v }, { a: 2, b: 1 })
  assert.equal(decodeCbor(Buffer.from('1801', 'hex')), 1)
})
