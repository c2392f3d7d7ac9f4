import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { dagCborCid, formatTimestamp, generateIdentity, rawCid, signReceipt } from '../../../src/shared/protocol/index.js'
import type { ExecutionReceiptV1, Unsigned } from '../../../src/shared/protocol/index.js'
import { checkOutput, verifyJobReceipt } from '../../../src/main/originator/index.js'
import type { ExpectedReceipt } from '../../../src/main/originator/index.js'

const executor = generateIdentity()
const originator = generateIdentity()
const other = generateIdentity()
const output = new TextEncoder().encode('hello\n')
const announcementId = randomUUID()
const wasmCid = rawCid(new Uint8Array([0, 97, 115, 109, 1]))
const inputCid = rawCid(new Uint8Array([7]))

function unsigned (over: Partial<Unsigned<ExecutionReceiptV1>> = {}): Unsigned<ExecutionReceiptV1> {
  const t = Date.now()
  return {
    announcement_id: announcementId,
    originator_did: originator.did,
    executor_did: executor.did,
    wasm_cid: wasmCid,
    input_data_cid: inputCid,
    output_cid: rawCid(output),
    status: 'CompletedSuccessfully',
    fuel_used: 1000,
    resource_usage: { wall_ms: 3, peak_memory_bytes: 65536, output_bytes: output.byteLength },
    price: 7,
    runtime: 'test',
    started_at: formatTimestamp(t - 5),
    finished_at: formatTimestamp(t),
    ...over
  }
}

function expected (cid: string, over: Partial<ExpectedReceipt> = {}): ExpectedReceipt {
  return { receiptCid: cid, announcementId, originatorDid: originator.did, executorDid: executor.did, wasmCid, inputCid, price: 7n, ...over }
}

function flipSignature (bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes)
  for (let i = 0; i < out.length - 65; i++) {
    if (out[i] === 0x58 && out[i + 1] === 0x40) { out[i + 2] = (out[i + 2] ?? 0) ^ 1; return out }
  }
  throw new Error('no signature')
}

test('an honest receipt verifies, and its output matches', () => {
  const r = signReceipt(unsigned(), executor)
  const v = verifyJobReceipt(r.bytes, expected(r.cid))
  assert.equal(v.ok, true)
  assert.ok(v.ok && checkOutput(v.receipt, output).ok)
})

interface Forgery { name: string, make: () => { bytes: Uint8Array, exp: ExpectedReceipt }, check: string, message: RegExp }

const forgeries: Forgery[] = [
  {
    name: 'bad signature (CID recomputed over the tampered bytes)',
    make: () => { const b = flipSignature(signReceipt(unsigned(), executor).bytes); return { bytes: b, exp: expected(dagCborCid(b)) } },
    check: 'signature', message: /BadSignature: receipt signature does not verify/
  },
  {
    name: 'wrong CID (bytes of another receipt)',
    make: () => { const a = signReceipt(unsigned(), executor); const b = signReceipt(unsigned({ fuel_used: 999 }), executor); return { bytes: b.bytes, exp: expected(a.cid) } },
    check: 'cid', message: /CidMismatch: receipt block hashes to .*, expected/
  },
  {
    name: 'signed by someone else than the assignee',
    make: () => { const r = signReceipt(unsigned({ executor_did: other.did }), other); return { bytes: r.bytes, exp: expected(r.cid) } },
    check: 'executor', message: /executor_did is did:key:.*, expected did:key:/
  },
  {
    name: 'receipt for another announcement',
    make: () => { const r = signReceipt(unsigned({ announcement_id: randomUUID() }), executor); return { bytes: r.bytes, exp: expected(r.cid) } },
    check: 'announcement', message: /announcement_id is .*, expected/
  },
  {
    name: 'another originator',
    make: () => { const r = signReceipt(unsigned({ originator_did: other.did }), executor); return { bytes: r.bytes, exp: expected(r.cid) } },
    check: 'originator', message: /originator_did/
  },
  {
    name: 'another module',
    make: () => { const r = signReceipt(unsigned({ wasm_cid: rawCid(new Uint8Array([9])) }), executor); return { bytes: r.bytes, exp: expected(r.cid) } },
    check: 'wasm', message: /wasm_cid/
  },
  {
    name: 'input missing',
    make: () => { const { input_data_cid: _i, ...rest } = unsigned(); const r = signReceipt(rest, executor); return { bytes: r.bytes, exp: expected(r.cid) } },
    check: 'input', message: /input_data_cid is absent, expected bafkrei/
  },
  {
    name: 'price other than the bid',
    make: () => { const r = signReceipt(unsigned({ price: 8 }), executor); return { bytes: r.bytes, exp: expected(r.cid) } },
    check: 'price', message: /price is 8, expected 7/
  },
  {
    name: 'success without output_cid',
    make: () => { const { output_cid: _o, ...rest } = unsigned(); const r = signReceipt(rest, executor); return { bytes: r.bytes, exp: expected(r.cid) } },
    check: 'status', message: /must name its output_cid/
  },
  {
    name: 'not a receipt at all',
    make: () => { const b = new TextEncoder().encode('garbage'); return { bytes: b, exp: expected(dagCborCid(b)) } },
    check: 'block', message: /Malformed/
  }
]

for (const f of forgeries) {
  test(`forged receipt refused: ${f.name}`, () => {
    const { bytes, exp } = f.make()
    const v = verifyJobReceipt(bytes, exp)
    assert.equal(v.ok, false)
    assert.ok(!v.ok)
    assert.equal(v.check, f.check)
    assert.match(v.detail, f.message)
  })
}

test('wrong output bytes and wrong output size are refused', () => {
  const r = signReceipt(unsigned(), executor)
  const v = verifyJobReceipt(r.bytes, expected(r.cid))
  assert.ok(v.ok)
  const bad = checkOutput(v.receipt, new TextEncoder().encode('forged\n'))
  assert.deepEqual(bad.ok ? undefined : bad.check, 'output')
  assert.match(bad.ok ? '' : bad.detail, /output bytes hash to .*, receipt says/)
  const r2 = signReceipt(unsigned({ resource_usage: { wall_ms: 1, peak_memory_bytes: 1, output_bytes: 99 } }), executor)
  const v2 = verifyJobReceipt(r2.bytes, expected(r2.cid))
  assert.ok(v2.ok)
  const size = checkOutput(v2.receipt, output)
  assert.equal(size.ok ? undefined : size.check, 'output-size')
})
