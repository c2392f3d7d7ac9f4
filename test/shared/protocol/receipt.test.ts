import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 as mfSha256 } from 'multiformats/hashes/sha2'
import {
  decodeCbor, encodeCanonical, formatTimestamp, generateIdentity, rawCid, signReceipt, verifyReceiptBlock, type CborMap
} from '../../../src/shared/protocol/index.js'

const exec = generateIdentity()
const orig = generateIdentity()
const base = {
  announcement_id: 'a1', originator_did: orig.did, executor_did: exec.did, wasm_cid: rawCid(new Uint8Array([1])),
  output_cid: rawCid(new Uint8Array()), status: 'CompletedSuccessfully' as const, fuel_used: 2n ** 40n,
  resource_usage: { wall_ms: 5, peak_memory_bytes: 65536, output_bytes: 0 }, runtime: 'wasi-p1-fuel-v1',
  started_at: formatTimestamp(1000), finished_at: formatTimestamp(2000)
}

test('receipt CID is dag-cbor sha2-256 of the canonical signed envelope', async () => {
  const r = signReceipt(base, exec)
  const expected = CID.createV1(dagCbor.code, await mfSha256.digest(dagCbor.encode(dagCbor.decode(r.bytes)))).toString()
  assert.equal(r.cid, expected)
  assert.match(r.cid, /^bafyrei/)
  const v = verifyReceiptBlock(r.bytes, r.cid)
  assert.ok(v.ok)
  assert.equal(v.ok && BigInt(v.receipt.fuel_used), 2n ** 40n)
})

test('forged receipts are refused with a clear reason', () => {
  const r = signReceipt(base, exec)
  const struct = (decodeCbor(r.bytes) as CborMap).ExecutionReceiptV1 as CborMap
  const reason = (bytes: Uint8Array, cid?: string): string => { const v = verifyReceiptBlock(bytes, cid); return v.ok ? 'ok' : v.reason }
  assert.equal(reason(r.bytes, rawCid(r.bytes)), 'CidMismatch')
  const changed = encodeCanonical({ ExecutionReceiptV1: { ...struct, fuel_used: 1 } })
  assert.equal(reason(changed), 'BadSignature')
  const byOther = signReceipt({ ...base, executor_did: orig.did }, orig)
  assert.equal(reason(encodeCanonical({ ExecutionReceiptV1: { ...(decodeCbor(byOther.bytes) as CborMap).ExecutionReceiptV1 as CborMap, executor_did: exec.did } })), 'BadSignature')
  assert.equal(reason(encodeCanonical({ JobBidV1: struct })), 'Malformed')
  // failure_reason present iff not successful
  assert.throws(() => signReceipt({ ...base, status: 'Failed' }, exec), /failure_reason/)
  assert.throws(() => signReceipt({ ...base, failure_reason: 'Trap' }, exec), /failure_reason/)
  assert.ok(signReceipt({ ...base, status: 'Failed', failure_reason: 'FuelExhausted' }, exec))
  // a non-canonical block (keys reordered) is refused: receipts are content-addressed
  const keys = Object.keys(struct).sort() // alphabetical, not length-first
  const enc = (v: unknown): Buffer => Buffer.from(encodeCanonical(v))
  const parts = [Buffer.from([0xa1]), enc('ExecutionReceiptV1'), Buffer.from([0xa0 + keys.length])]
  for (const k of keys) parts.push(enc(k), enc(struct[k]))
  assert.equal(reason(Buffer.concat(parts)), 'Malformed')
  assert.equal(reason(new Uint8Array([1, 2, 3])), 'Malformed')
})

test('fast CID shape check agrees with multiformats parsing', async () => {
  const { cidCodecOf, parseCid, dagCborCid } = await import('../../../src/shared/protocol/index.js')
  for (let i = 0; i < 500; i++) {
    const bytes = Uint8Array.of(i & 255, i >> 8)
    for (const c of [rawCid(bytes), dagCborCid(bytes)]) assert.equal(cidCodecOf(c), parseCid(c)?.code)
  }
  const good = rawCid(new Uint8Array([1]))
  for (const bad of [good.slice(0, -1) + 'b', good.toUpperCase(), 'bafkreh' + good.slice(7), good + 'a', 'Qm' + good.slice(2), 'bafkrei' + 'z'.repeat(52)]) {
    assert.equal(cidCodecOf(bad), parseCid(bad)?.code, bad)
  }
})
