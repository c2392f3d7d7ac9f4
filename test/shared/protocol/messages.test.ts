import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import {
  createValidator, decodeCbor, decodeMessage, encodeCanonical, generateIdentity, ReplayCache, signBytes, signedBytesOf, signMessage,
  VARIANTS, formatTimestamp, type CborMap
} from '../../../src/shared/protocol/index.js'
import { unsignedFor } from './fixtures.js'

const alice = generateIdentity()
const bob = generateIdentity()
const NOW = Date.parse('2026-11-23T21:40:00.000Z')

test('every variant signs, encodes canonically and validates', () => {
  for (const variant of VARIANTS) {
    const { bytes, message } = signMessage(variant, unsignedFor(variant, alice, bob, NOW), alice)
    assert.equal(Buffer.from(bytes).toString('hex'), Buffer.from(dagCbor.encode(dagCbor.decode(bytes))).toString('hex'), `${variant} wire bytes are canonical`)
    const r = createValidator({ now: () => NOW }).validate(bytes)
    assert.ok(r.ok, `${variant}: ${r.ok ? '' : r.reason + ' ' + r.detail}`)
    assert.equal(r.message.variant, variant)
    assert.equal(r.message.signer, alice.did)
    assert.equal(message.body.signature.length, 64)
  }
})

test('signMessage refuses to sign as someone else or to emit a malformed message', () => {
  assert.throws(() => signMessage('JobBidV1', unsignedFor('JobBidV1', bob, alice, NOW), alice), /signing identity/)
  const bad = { ...unsignedFor('JobBidV1', alice, bob, NOW), region: 'US East' }
  assert.throws(() => signMessage('JobBidV1', bad, alice), /region/)
})

test('unknown fields are kept, signed and survive; null optional equals absent', () => {
  const body = { ...unsignedFor('AssignJobV1', alice, bob, NOW), x_new: { deep: [1, 'two'] } }
  const { bytes } = signMessage('AssignJobV1', body, alice)
  const d = decodeMessage(bytes)
  assert.equal(d.kind, 'message')
  if (d.kind !== 'message') return
  assert.deepEqual({ ...(d.message.raw.x_new as CborMap) }, { deep: [1, 'two'] })
  // removing the unknown field breaks the signature: it is covered
  const { x_new: _x, ...rest } = d.message.raw
  const stripped = encodeCanonical({ AssignJobV1: rest })
  const r = createValidator({ now: () => NOW }).validate(stripped)
  assert.equal(r.ok ? 'ok' : r.reason, 'BadSignature')

  // an explicit null optional field: valid, treated as absent in the body, still covered by the signature
  const withNull = Object.assign(Object.create(null) as CborMap, { ...unsignedFor('JobBidV1', alice, bob, NOW), region: null })
  delete withNull.price
  withNull.signature = signBytes(alice, signedBytesOf('JobBidV1', withNull))
  const v = createValidator({ now: () => NOW }).validate(encodeCanonical({ JobBidV1: withNull }))
  assert.ok(v.ok)
  assert.equal(v.ok && 'region' in v.message.body, false)
  assert.equal(v.ok && v.message.variant === 'JobBidV1' && v.message.body.price, undefined)
})

test('non-canonical key order on the wire is accepted and verified over the canonical form', () => {
  const { message } = signMessage('AssignJobV1', unsignedFor('AssignJobV1', alice, bob, NOW), alice)
  // hand-encode the struct with keys in reverse order (dag-cbor would sort them)
  const enc = (v: unknown): Buffer => Buffer.from(encodeCanonical(v))
  const keys = Object.keys(message.raw).sort() // alphabetical, not length-first
  const parts = [Buffer.from([0xa1]), enc('AssignJobV1'), Buffer.from([0xa0 + keys.length])]
  for (const k of keys) parts.push(enc(k), enc(message.raw[k]))
  const wire = Buffer.concat(parts)
  assert.notEqual(wire.toString('hex'), Buffer.from(encodeCanonical({ AssignJobV1: message.raw })).toString('hex'))
  assert.ok(createValidator({ now: () => NOW }).validate(wire).ok)
})

test('validation order: decode, schema, binding, signature, freshness, replay', () => {
  const v = (bytes: Uint8Array, opts = {}, ctx = {}): string => {
    const r = createValidator({ now: () => NOW, ...opts }).validate(bytes, ctx)
    return r.ok ? 'ok' : r.reason
  }
  const good = signMessage('JobBidV1', unsignedFor('JobBidV1', alice, bob, NOW), alice).bytes
  assert.equal(v(good), 'ok')
  assert.equal(v(good, {}, { remotePeerId: alice.peerId }), 'ok')
  assert.equal(v(good, {}, { remotePeerId: bob.peerId }), 'PeerMismatch')
  // a stale message with a bad signature is a BadSignature (signature comes before freshness)
  const staleBody = unsignedFor('JobBidV1', alice, bob, NOW - 10 * 60_000)
  const stale = signMessage('JobBidV1', staleBody, alice).bytes
  assert.equal(v(stale), 'Stale')
  const struct = (decodeCbor(stale) as CborMap).JobBidV1 as CborMap
  const sig = Uint8Array.from(struct.signature as Uint8Array); sig[0] = (sig[0] as number) ^ 1
  const tampered = encodeCanonical({ JobBidV1: { ...struct, signature: sig } })
  assert.equal(v(tampered), 'BadSignature')
  // freshness window and clock are injectable
  assert.equal(v(stale, { maxAgeMs: 11 * 60_000 }), 'ok')
  const future = signMessage('JobBidV1', unsignedFor('JobBidV1', alice, bob, NOW + 60_000), alice).bytes
  assert.equal(v(future), 'FromFuture')
  assert.equal(v(future, { maxFutureMs: 61_000 }), 'ok')
  assert.equal(v(future, { now: () => NOW + 60_000 }), 'ok')
  // oversize before anything else
  assert.equal(v(good, { maxBytes: 100 }), 'TooLarge')
})

test('replay: repeats are caught per natural id; memory is bounded by TTL and entry count', () => {
  let now = NOW
  const replay = new ReplayCache({ ttlMs: 1000, maxEntries: 3, now: () => now })
  const val = createValidator({ now: () => now, replay, maxAgeMs: 10 * 60_000 })
  const ann = signMessage('JobAnnouncementV1', unsignedFor('JobAnnouncementV1', alice, bob, NOW), alice).bytes
  assert.equal(val.validate(ann).ok, true)
  const again = val.validate(ann)
  assert.equal(again.ok ? 'ok' : again.reason, 'Replay')
  now += 1001
  assert.equal(val.validate(ann).ok, true, 'forgotten after the TTL')
  for (let i = 0; i < 10; i++) replay.seen(`k${i}`)
  assert.ok(replay.size <= 3)
  // assignments are not replay-filtered here: the executor answers a repeat of an accepted one {ok:true}
  const assign = signMessage('AssignJobV1', unsignedFor('AssignJobV1', alice, bob, NOW), alice).bytes
  assert.equal(val.validate(assign).ok, true)
  assert.equal(val.validate(assign).ok, true)
  // interactive input: per-job sequence numbers
  const in0 = signMessage('JobInteractiveInputV1', unsignedFor('JobInteractiveInputV1', alice, bob, NOW), alice).bytes
  assert.equal(val.validate(in0).ok, true)
  const dup = val.validate(in0)
  assert.equal(dup.ok ? 'ok' : dup.reason, 'Replay')
})

test('unknown variants are reported as such, not as errors', () => {
  const bytes = encodeCanonical({ JobCancelV7: { announcement_id: 'a', timestamp: formatTimestamp(NOW) } })
  assert.deepEqual(decodeMessage(bytes), { kind: 'unknown', variant: 'JobCancelV7' })
  const r = createValidator().validate(bytes)
  assert.equal(r.ok ? 'ok' : r.reason, 'UnknownVariant')
})

test('deferred replay: a refused message is not remembered until the caller commits it', () => {
  const val = createValidator({ now: () => NOW })
  const in0 = signMessage('JobInteractiveInputV1', unsignedFor('JobInteractiveInputV1', alice, bob, NOW), alice).bytes
  const first = val.validate(in0, { deferReplay: true })
  assert.ok(first.ok)
  assert.ok(val.validate(in0, { deferReplay: true }).ok, 'not remembered yet')
  val.commitReplay(first.ok ? first.replayKey as string : '')
  const again = val.validate(in0, { deferReplay: true })
  assert.equal(again.ok ? 'ok' : again.reason, 'Replay')
})
