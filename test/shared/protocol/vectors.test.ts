/**
 * The published vectors (test/vectors/v1.json) checked two ways: by an independent path
 * (@ipld/dag-cbor + @noble/ed25519 + multiformats, none of our codec or crypto code) and by our validator.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as dagCbor from '@ipld/dag-cbor'
import * as ed from '@noble/ed25519'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { base58btc } from 'multiformats/bases/base58'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { createValidator, verifyReceiptBlock, VARIANTS } from '../../../src/shared/protocol/index.js'
import { buildVectors, serializeVectors, VECTORS_PATH } from '../../../scripts/gen-vectors.js'

interface Key { name: string, seed_hex: string, public_key_hex: string, did: string, peer_id: string }
interface Msg { name: string, variant: string, signer: string, wire_hex: string, signed_bytes_hex: string, signature_hex: string }
interface Rcpt { name: string, signer: string, wire_hex: string, signed_bytes_hex: string, signature_hex: string, cid: string }
interface Vectors {
  profile: string, now: string, keys: Key[], messages: Msg[], receipts: Rcpt[],
  blocks: Array<{ name: string, bytes_hex: string, cid: string }>, invalid: Array<{ name: string, wire_hex: string, reason: string }>
}

const text = readFileSync(VECTORS_PATH, 'utf8')
const V = JSON.parse(text) as Vectors
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const keyOf = (name: string): Key => { const k = V.keys.find((x) => x.name === name); assert.ok(k, name); return k }

test('vectors file has the published shape and is what the generator produces', () => {
  assert.equal(V.profile, 'mesh-wire-profile-v1')
  assert.ok(!Number.isNaN(Date.parse(V.now)))
  assert.equal(text, serializeVectors(buildVectors()), 'test/vectors/v1.json is stale: run npm run vectors')
  const variants = new Set(V.messages.map((m) => m.variant))
  for (const v of VARIANTS) assert.ok(variants.has(v), `a valid vector for ${v}`)
  assert.ok(V.receipts.length >= 1)
  const reasons = new Set(V.invalid.map((i) => i.reason))
  for (const r of ['Malformed', 'BadSignature', 'Stale', 'FromFuture', 'UnsupportedDid', 'PeerMismatch', 'TooLarge', 'UnknownVariant']) assert.ok(reasons.has(r), r)
})

test('keys: did:key and PeerId derive from the seed (independent path)', async () => {
  for (const k of V.keys) {
    const pub = await ed.getPublicKeyAsync(hex(k.seed_hex))
    assert.equal(toHex(pub), k.public_key_hex)
    assert.equal(k.did, 'did:key:' + base58btc.encode(Uint8Array.from([0xed, 0x01, ...pub])))
    assert.equal(k.peer_id, peerIdFromPublicKey(publicKeyFromRaw(pub)).toString())
  }
})

async function checkSigned (v: { name: string, signer: string, wire_hex: string, signed_bytes_hex: string, signature_hex: string }, variant: string): Promise<Record<string, unknown>> {
  const wire = hex(v.wire_hex)
  const envelope = dagCbor.decode(wire) as Record<string, Record<string, unknown>>
  assert.deepEqual(Object.keys(envelope), [variant], `${v.name}: one-key envelope`)
  assert.equal(toHex(dagCbor.encode(envelope)), v.wire_hex, `${v.name}: wire bytes are canonical DAG-CBOR`)
  const struct = envelope[variant] as Record<string, unknown>
  assert.ok(struct.signature instanceof Uint8Array, `${v.name}: signature is a byte string`)
  assert.equal(toHex(struct.signature as Uint8Array), v.signature_hex)
  const { signature: _s, ...unsigned } = struct
  assert.equal(toHex(dagCbor.encode({ [variant]: unsigned })), v.signed_bytes_hex, `${v.name}: signed bytes`)
  assert.ok(await ed.verifyAsync(hex(v.signature_hex), hex(v.signed_bytes_hex), hex(keyOf(v.signer).public_key_hex)), `${v.name}: signature verifies`)
  return struct
}

test('messages: canonical bytes, signed bytes and signatures verify independently, and with our validator', async () => {
  const now = Date.parse(V.now)
  for (const m of V.messages) {
    const struct = await checkSigned(m, m.variant)
    const signerField = Object.entries(struct).find(([k]) => k.endsWith('_did') && ['node_did', 'originator_did', 'executor_did'].includes(k) && struct[k] === keyOf(m.signer).did)
    assert.ok(signerField, `${m.name}: signer DID appears in the struct`)
    const r = createValidator({ now: () => now }).validate(hex(m.wire_hex))
    assert.ok(r.ok, `${m.name}: ${r.ok ? '' : r.reason + ' ' + r.detail}`)
  }
})

test('receipts: dag-cbor CIDs over the signed envelope (independent path) and our verifier', async () => {
  for (const r of V.receipts) {
    await checkSigned(r, 'ExecutionReceiptV1')
    const cid = CID.createV1(dagCbor.code, await sha256.digest(hex(r.wire_hex)))
    assert.equal(cid.toString(), r.cid)
    const ours = verifyReceiptBlock(hex(r.wire_hex), r.cid)
    assert.ok(ours.ok, r.name)
  }
})

test('blocks: raw CIDs (independent path)', async () => {
  for (const b of V.blocks) {
    assert.equal(CID.createV1(raw.code, await sha256.digest(hex(b.bytes_hex))).toString(), b.cid, b.name)
  }
})

test('invalid vectors are refused with their stated reason', async () => {
  const now = Date.parse(V.now)
  for (const inv of V.invalid) {
    const r = createValidator({ now: () => now }).validate(hex(inv.wire_hex))
    assert.equal(r.ok ? 'ok' : r.reason, inv.reason, `${inv.name}: ${r.ok ? '' : r.detail}`)
  }
  // independent confirmation of the BadSignature vectors that decode as DAG-CBOR
  for (const inv of V.invalid.filter((i) => i.reason === 'BadSignature')) {
    const env = dagCbor.decode(hex(inv.wire_hex)) as Record<string, Record<string, unknown>>
    const [variant, struct] = Object.entries(env)[0] as [string, Record<string, unknown>]
    const { signature, ...unsigned } = struct
    const signerDid = (struct.originator_did ?? struct.executor_did) as string
    const signer = V.keys.find((k) => k.did === (variant === 'AssignJobV1' ? struct.originator_did : signerDid))
    assert.ok(signer)
    const ok = (signature as Uint8Array).length === 64 && await ed.verifyAsync(signature as Uint8Array, dagCbor.encode({ [variant]: unsigned }), hex(signer.public_key_hex))
    assert.equal(ok, false, inv.name)
  }
})
