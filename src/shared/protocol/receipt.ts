/**
 * ExecutionReceiptV1 (wire profile 6.4): signed like a message with variant name "ExecutionReceiptV1"
 * and signer executor_did; the block is the canonical bytes of the full signed envelope and its CID
 * is CIDv1 dag-cbor sha2-256 of those bytes.
 */
import { decodeCbor, encodeCanonical } from './cbor.js'
import { dagCborCid } from './cid.js'
import { ProtocolError } from './errors.js'
import { publicKeyFromDid, signBytes, verifyBytes, type Identity } from './identity.js'
import { openEnvelope, signedBytesOf } from './messages.js'
import { checkVariant } from './schema.js'
import { RECEIPT_VARIANT, type CborMap, type CborValue, type ExecutionReceiptV1, type ReasonCode, type Unsigned } from './types.js'

/** Receipts carry no large data; 1 MiB is far above any real one. */
export const MAX_RECEIPT_BYTES = 1024 * 1024

export type ReceiptResult =
  | { ok: true, receipt: ExecutionReceiptV1, cid: string, bytes: Uint8Array }
  | { ok: false, reason: ReasonCode, detail: string }

export function signReceipt (unsigned: Unsigned<ExecutionReceiptV1>, id: Identity): { bytes: Uint8Array, cid: string, receipt: ExecutionReceiptV1 } {
  const struct = Object.create(null) as CborMap
  for (const [k, v] of Object.entries(unsigned)) if (v !== undefined && k !== 'signature') struct[k] = v as CborValue
  if (struct.executor_did !== id.did) throw new ProtocolError('Malformed', 'ExecutionReceiptV1.executor_did must be the signing identity\'s DID')
  struct.signature = signBytes(id, encodeCanonical({ [RECEIPT_VARIANT]: withoutSignature(struct) }))
  const body = checkVariant(RECEIPT_VARIANT, struct) as unknown as ExecutionReceiptV1
  const bytes = encodeCanonical({ [RECEIPT_VARIANT]: struct })
  return { bytes, cid: dagCborCid(bytes), receipt: body }
}

function withoutSignature (m: CborMap): CborMap {
  const { signature: _s, ...rest } = m
  return rest
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Verifies a receipt block completely: decodes, checks the schema, that the block is in canonical
 * form (it is content-addressed), the executor's signature, and — when given — that its CID equals
 * `expectedCid` (CidMismatch). Never throws.
 */
export function verifyReceiptBlock (bytes: Uint8Array, expectedCid?: string): ReceiptResult {
  try {
    const [name, struct] = openEnvelope(decodeCbor(bytes, { maxBytes: MAX_RECEIPT_BYTES }))
    if (name !== RECEIPT_VARIANT) return { ok: false, reason: 'Malformed', detail: `block is a ${name.slice(0, 80)}, not an ${RECEIPT_VARIANT}` }
    const body = checkVariant(RECEIPT_VARIANT, struct) as unknown as ExecutionReceiptV1
    const canonical = encodeCanonical({ [RECEIPT_VARIANT]: struct })
    if (!equalBytes(canonical, bytes)) return { ok: false, reason: 'Malformed', detail: 'receipt block is not in canonical DAG-CBOR form' }
    const cid = dagCborCid(bytes)
    if (expectedCid !== undefined && cid !== expectedCid) return { ok: false, reason: 'CidMismatch', detail: `receipt block hashes to ${cid}, expected ${expectedCid}` }
    const pk = publicKeyFromDid(body.executor_did)
    publicKeyFromDid(body.originator_did)
    if (!verifyBytes(pk, signedBytesOf(RECEIPT_VARIANT, struct as CborMap), body.signature)) {
      return { ok: false, reason: 'BadSignature', detail: `receipt signature does not verify for ${body.executor_did}` }
    }
    return { ok: true, receipt: body, cid, bytes }
  } catch (err) {
    if (err instanceof ProtocolError) return { ok: false, reason: err.reason, detail: err.message }
    return { ok: false, reason: 'Malformed', detail: err instanceof Error ? err.message : 'undecodable receipt' }
  }
}
