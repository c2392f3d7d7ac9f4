/**
 * Generates the published protocol test vectors, test/vectors/v1.json, from fixed seeds.
 * Run: npm run vectors  (the output is checked into git; the test suite checks that it is current).
 */
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  encodeCanonical, formatTimestamp, identityFromSeed, rawCid, signBytes, signMessage, signReceipt,
  signedBytesOf, type CborMap, type Identity, type Variant, type VariantBodies, type Unsigned
} from '../src/shared/protocol/index.js'

export const VECTOR_NOW = '2026-11-23T21:40:00.000Z'
const NOW = Date.parse(VECTOR_NOW)
const at = (offsetMs: number): string => formatTimestamp(NOW + offsetMs)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const seedOf = (name: string): Uint8Array => new Uint8Array(createHash('sha256').update(`mesh-wire-profile-v1 test key ${name}`).digest())

export function buildVectors (): unknown {
  const names = ['alice', 'bob', 'carol'] as const
  const ids = Object.fromEntries(names.map((n) => [n, identityFromSeed(seedOf(n))])) as Record<(typeof names)[number], Identity>
  const { alice, bob, carol } = ids
  const keys = names.map((n) => ({ name: n, seed_hex: hex(ids[n].seed), public_key_hex: hex(ids[n].publicKey), did: ids[n].did, peer_id: ids[n].peerId }))
  const keyName = (id: Identity): string => names.find((n) => ids[n] === id) as string

  const moduleBytes = new TextEncoder().encode('\0asm\x01\0\0\0')
  const inputBytes = new TextEncoder().encode('hello mesh\n')
  const outputBytes = new TextEncoder().encode('b5f1c5e3c0a2 sha256 output example\n')
  const wasmCid = rawCid(moduleBytes)
  const inputCid = rawCid(inputBytes)
  const annId = 'ann-0001-3f9c2a'

  const messages: unknown[] = []
  function msg<V extends Variant> (name: string, variant: V, body: Unsigned<VariantBodies[V]>, signer: Identity): Uint8Array {
    const { bytes, message } = signMessage(variant, body, signer)
    const signed = signedBytesOf(variant, message.raw)
    messages.push({ name, variant, signer: keyName(signer), wire_hex: hex(bytes), signed_bytes_hex: hex(signed), signature_hex: hex(message.body.signature) })
    return bytes
  }

  // runtime ids as profile section 7 has them: every V1 executor lists `wasi-p1-fuel-v1`, its engine
  // beside it, and a receipt names one it advertised (the vectors were first published with an older
  // example id, 'wasi-preview1-v8-fuel-v1'; regenerated, which changed two receipt CIDs)
  msg('capability_advertisement', 'CapabilityAdvertisementV1', {
    node_did: alice.did, peer_id: alice.peerId, alias: 'alice-desktop', region: 'eu-west',
    supported_runtimes: ['wasi-p1-fuel-v1', 'wasmtime-48.0.8'],
    available_resources: { CPU: '3.5c', RAM: '8GiB', DISK: '50GiB', GPU_NVIDIA_GEFORCE_RTX_4070: '1' },
    specialized_features: [], timestamp: at(-2_000)
  }, alice)
  msg('capability_advertisement_minimal', 'CapabilityAdvertisementV1', {
    node_did: carol.did, peer_id: carol.peerId, supported_runtimes: [], available_resources: {}, specialized_features: [], timestamp: at(-1_000)
  }, carol)
  msg('job_announcement', 'JobAnnouncementV1', {
    announcement_id: annId, originator_did: bob.did, timestamp: at(-60_000), bidding_duration: 'PT30S',
    job_params: {
      wasm_cid: wasmCid, input_data_cid: inputCid, description: 'sha256 of the input — ünïcödé ok',
      resources_required: { CPU: '1c', RAM: '256MiB' }, max_fuel: 5_000_000_000, timeout_seconds: 60,
      is_interactive: false, qos_profile: 'BestEffort', deadline: at(600_000),
      execution_policy: { region_filter: 'eu-west', max_price: 100, min_reputation: 50, rep_weight: 400, price_weight: 600 }
    }
  }, bob)
  msg('job_announcement_minimal', 'JobAnnouncementV1', {
    announcement_id: 'ann-0002', originator_did: bob.did, timestamp: at(-30_000),
    job_params: { wasm_cid: wasmCid, description: '', resources_required: {}, max_fuel: 1000, timeout_seconds: 5, is_interactive: false, qos_profile: 'CostOptimized' }
  }, bob)
  // An unknown field is kept and covered by the signature (profile section 2/3).
  msg('job_announcement_unknown_field', 'JobAnnouncementV1', {
    announcement_id: 'ann-0003', originator_did: bob.did, timestamp: at(-30_000),
    job_params: { wasm_cid: wasmCid, description: 'x', resources_required: { CPU: '0.5c', FPGA: 'whatever' }, max_fuel: 18_446_744_073_709_551_615n, timeout_seconds: 5, is_interactive: true, qos_profile: 'LowLatency', x_future_param: 'kept' },
    x_future_field: { nested: [1, 2, 3] }
  } as Unsigned<VariantBodies['JobAnnouncementV1']>, bob)
  msg('job_bid', 'JobBidV1', { announcement_id: annId, executor_did: alice.did, executor_peer_id: alice.peerId, price: 42, region: 'eu-west', timestamp: at(-55_000) }, alice)
  msg('job_bid_free', 'JobBidV1', { announcement_id: annId, executor_did: carol.did, executor_peer_id: carol.peerId, timestamp: at(-54_000) }, carol)
  msg('assign_job', 'AssignJobV1', { announcement_id: annId, originator_did: bob.did, executor_did: alice.did, timestamp: at(-20_000) }, bob)
  msg('job_status_update', 'JobStatusUpdateV1', { announcement_id: annId, executor_did: alice.did, p2p_job_status: 'Running', details: 'fuel 1200000 of 5000000000', timestamp: at(-15_000) }, alice)
  msg('job_status_update_failed', 'JobStatusUpdateV1', { announcement_id: annId, executor_did: alice.did, p2p_job_status: 'Failed', details: 'FuelExhausted: used 5000000000', timestamp: at(-14_000) }, alice)

  const receipts: unknown[] = []
  function receipt (name: string, body: Unsigned<import('../src/shared/protocol/index.js').ExecutionReceiptV1>): string {
    const r = signReceipt(body, alice)
    const struct = Object.assign(Object.create(null) as CborMap, r.receipt as unknown as CborMap)
    receipts.push({ name, signer: 'alice', wire_hex: hex(r.bytes), signed_bytes_hex: hex(signedBytesOf('ExecutionReceiptV1', struct)), signature_hex: hex(r.receipt.signature), cid: r.cid })
    return r.cid
  }
  const okCid = receipt('receipt_completed', {
    announcement_id: annId, originator_did: bob.did, executor_did: alice.did, wasm_cid: wasmCid, input_data_cid: inputCid,
    output_cid: rawCid(outputBytes), status: 'CompletedSuccessfully', fuel_used: 1_234_567,
    resource_usage: { wall_ms: 12, peak_memory_bytes: 131072, output_bytes: outputBytes.length }, price: 42,
    runtime: 'wasi-p1-fuel-v1', started_at: at(-13_000), finished_at: at(-12_988)
  })
  receipt('receipt_fuel_exhausted', {
    announcement_id: 'ann-0002', originator_did: bob.did, executor_did: alice.did, wasm_cid: wasmCid,
    output_cid: rawCid(new Uint8Array()), status: 'Failed', failure_reason: 'FuelExhausted', fuel_used: 1000,
    resource_usage: { wall_ms: 1, peak_memory_bytes: 65536, output_bytes: 0 },
    runtime: 'wasi-p1-fuel-v1', started_at: at(-10_000), finished_at: at(-9_999)
  })

  msg('execution_receipt_available', 'ExecutionReceiptAvailableV1', { announcement_id: annId, originator_did: bob.did, executor_did: alice.did, receipt_cid: okCid, timestamp: at(-12_000) }, alice)
  msg('job_interactive_input', 'JobInteractiveInputV1', { originator_did: bob.did, executor_did: alice.did, input_id: `${annId}/in/0`, announcement_id: annId, sequence_number: 0, is_final: false, timestamp: at(-16_000), data: new TextEncoder().encode('1 + 2\n') }, bob)
  msg('job_interactive_input_final', 'JobInteractiveInputV1', { originator_did: bob.did, executor_did: alice.did, input_id: `${annId}/in/1`, announcement_id: annId, sequence_number: 1, is_final: true, timestamp: at(-15_500), data: new Uint8Array() }, bob)
  msg('job_interactive_output', 'JobInteractiveOutputV1', { executor_did: alice.did, originator_did: bob.did, output_id: `${annId}/out/0`, announcement_id: annId, sequence_number: 0, is_final: false, timestamp: at(-15_900), data: new TextEncoder().encode('3\n') }, alice)

  const blocks = [
    { name: 'empty', bytes_hex: '', cid: rawCid(new Uint8Array()) },
    { name: 'input_hello_mesh', bytes_hex: hex(inputBytes), cid: inputCid },
    { name: 'module_header', bytes_hex: hex(moduleBytes), cid: wasmCid },
    { name: 'output_example', bytes_hex: hex(outputBytes), cid: rawCid(outputBytes) }
  ]

  // ----- invalid vectors: judged at `now`, without a connection PeerId -----
  const invalid: Array<{ name: string, wire_hex: string, reason: string }> = []
  const bad = (name: string, bytes: Uint8Array, reason: string): void => { invalid.push({ name, wire_hex: hex(bytes), reason }) }
  /** Signs an arbitrary struct (bypassing our schema checks) to build invalid-but-signed messages. */
  const forge = (variant: string, struct: Record<string, unknown>, signer: Identity): Uint8Array => {
    const m = Object.assign(Object.create(null) as CborMap, struct) as CborMap
    m.signature = signBytes(signer, signedBytesOf(variant, m))
    return encodeCanonical({ [variant]: m })
  }
  const assign = { announcement_id: annId, originator_did: bob.did, executor_did: alice.did, timestamp: at(-20_000) }

  bad('not_a_map', encodeCanonical(['AssignJobV1']), 'Malformed')
  bad('two_variant_keys', encodeCanonical({ AssignJobV1: {}, JobBidV1: {} }), 'Malformed')
  bad('missing_required_field', forge('AssignJobV1', { announcement_id: annId, originator_did: bob.did, timestamp: at(-20_000) }, bob), 'Malformed')
  bad('wrong_field_type', forge('JobBidV1', { announcement_id: annId, executor_did: alice.did, executor_peer_id: alice.peerId, price: '42', timestamp: at(-1000) }, alice), 'Malformed')
  bad('signature_as_int_array', encodeCanonical({ AssignJobV1: { ...assign, signature: Array.from(signBytes(bob, signedBytesOf('AssignJobV1', assign as unknown as CborMap))) } }), 'Malformed')
  bad('bad_timestamp_offset', forge('AssignJobV1', { ...assign, timestamp: '2026-11-23T22:39:40.000+01:00' }, bob), 'Malformed')
  bad('bad_cid', forge('ExecutionReceiptAvailableV1', { announcement_id: annId, originator_did: bob.did, executor_did: alice.did, receipt_cid: 'Qm-not-a-cid', timestamp: at(-1000) }, alice), 'Malformed')
  bad('bad_resource_quantity', forge('CapabilityAdvertisementV1', { node_did: alice.did, peer_id: alice.peerId, supported_runtimes: [], available_resources: { RAM: '8GB' }, specialized_features: [], timestamp: at(-1000) }, alice), 'Malformed')
  // float 1.5 (0xf9 half float) in place of a uint: hand-built so no encoder normalises it
  {
    const good = hex(forge('AssignJobV1', assign, bob))
    const floatMsg = Buffer.concat([Buffer.from('a1', 'hex'), Buffer.from(encodeCanonical('JobBidV1')), Buffer.from('a1', 'hex'), Buffer.from(encodeCanonical('price')), Buffer.from('f93e00', 'hex')])
    bad('float_value', floatMsg, 'Malformed')
    // duplicate key: {"AssignJobV1": {..., "timestamp": x, "timestamp": x}} — patch the map length up by one and append a duplicate entry
    const body = Buffer.from(good, 'hex')
    const tsEntry = Buffer.concat([Buffer.from(encodeCanonical('timestamp')), Buffer.from(encodeCanonical(at(-20_000)))])
    const envelopeHead = Buffer.from(encodeCanonical('AssignJobV1'))
    const mapStart = 1 + envelopeHead.length
    const dup = Buffer.concat([body.subarray(0, mapStart), Buffer.from([(body[mapStart] as number) + 1]), body.subarray(mapStart + 1), tsEntry])
    bad('duplicate_map_key', dup, 'Malformed')
    bad('proto_key', encodeCanonical({ AssignJobV1: { ...assign, ['__proto__']: 1, signature: new Uint8Array(64) } }), 'Malformed')
    bad('forbidden_tag', Buffer.concat([Buffer.from('a1', 'hex'), envelopeHead, Buffer.from('c1', 'hex'), Buffer.from(encodeCanonical(1))]), 'Malformed')
    bad('indefinite_length_map', Buffer.concat([Buffer.from('bf', 'hex'), envelopeHead, Buffer.from('a0ff', 'hex')]), 'Malformed')
    bad('truncated', body.subarray(0, body.length - 5), 'Malformed')
  }
  {
    const good = forge('AssignJobV1', assign, bob)
    const flipped = Buffer.from(good)
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 0x01
    bad('bad_signature_flipped_bit', flipped, 'BadSignature')
    bad('bad_signature_other_signer', forge('AssignJobV1', assign, carol), 'BadSignature')
    // a signature made for one variant replayed as another with the same fields
    const asBid = { announcement_id: annId, executor_did: alice.did, executor_peer_id: alice.peerId, timestamp: at(-1000) }
    const sigForOther = signBytes(alice, signedBytesOf('JobBidV1X', asBid as unknown as CborMap))
    bad('bad_signature_wrong_variant_binding', encodeCanonical({ JobBidV1: { ...asBid, signature: sigForOther } }), 'BadSignature')
    bad('bad_signature_short', encodeCanonical({ AssignJobV1: { ...assign, signature: new Uint8Array(10) } }), 'BadSignature')
  }
  bad('stale', forge('AssignJobV1', { ...assign, timestamp: at(-301_000) }, bob), 'Stale')
  bad('from_future', forge('AssignJobV1', { ...assign, timestamp: at(31_000) }, bob), 'FromFuture')
  bad('unsupported_did_method', encodeCanonical({ AssignJobV1: { ...assign, originator_did: 'did:web:example.com', signature: new Uint8Array(64) } }), 'UnsupportedDid')
  bad('unsupported_did_key_type', encodeCanonical({ AssignJobV1: { ...assign, originator_did: 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme', signature: new Uint8Array(64) } }), 'UnsupportedDid')
  bad('peer_mismatch', forge('JobBidV1', { announcement_id: annId, executor_did: alice.did, executor_peer_id: bob.peerId, timestamp: at(-1000) }, alice), 'PeerMismatch')
  bad('too_large', forge('JobInteractiveInputV1', { originator_did: bob.did, executor_did: alice.did, input_id: 'big', announcement_id: annId, sequence_number: 5, is_final: false, timestamp: at(-1000), data: new Uint8Array(1024 * 1024) }, bob), 'TooLarge')
  bad('unknown_variant', encodeCanonical({ JobCancelV2: { announcement_id: annId, timestamp: at(-1000), signature: new Uint8Array(64) } }), 'UnknownVariant')

  return { profile: 'mesh-wire-profile-v1', now: VECTOR_NOW, keys, messages, receipts, blocks, invalid }
}

export const VECTORS_PATH = fileURLToPath(new URL('../test/vectors/v1.json', import.meta.url))

export function serializeVectors (v: unknown): string {
  return JSON.stringify(v, null, 2) + '\n'
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(VECTORS_PATH, serializeVectors(buildVectors()))
  console.log(`wrote ${VECTORS_PATH}`)
}
