/**
 * Wire form and signatures of the eight V1 messages (wire profile sections 2 and 3).
 * Wire form: a one-key CBOR map `{ "<Variant>": struct }`. Signed bytes: canonical DAG-CBOR of that
 * envelope with `signature` removed from the struct (all other keys kept, known or not).
 */
import { decodeEnvelope, encodeCanonical, type DecodeOptions } from './cbor.js'
import { ProtocolError } from './errors.js'
import { signBytes, type Identity } from './identity.js'
import { checkVariant, SIGNER_FIELD } from './schema.js'
import {
  VARIANTS, type CborMap, type CborValue, type MeshMessage, type MessageOf, type ReasonCode,
  type Unsigned, type Variant, type VariantBodies
} from './types.js'

export type DecodeResult =
  /** `signedBytes`: the bytes the signature covers, when they could be cut from canonical input without re-encoding */
  | { kind: 'message', message: MeshMessage, signedBytes?: Uint8Array }
  | { kind: 'unknown', variant: string }
  | { kind: 'rejected', reason: ReasonCode, detail: string }

const VARIANT_SET = new Set<string>(VARIANTS)

export function isVariant (name: string): name is Variant {
  return VARIANT_SET.has(name)
}

/** Splits a decoded envelope into its variant name and struct. Throws ProtocolError(Malformed). */
export function openEnvelope (value: CborValue): [string, CborValue] {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || Array.isArray(value)) {
    throw new ProtocolError('Malformed', 'message must be a CBOR map with one key, the variant name')
  }
  const keys = Object.keys(value)
  if (keys.length !== 1) throw new ProtocolError('Malformed', `message envelope must have exactly one key, found ${keys.length}`)
  const name = keys[0] as string
  return [name, (value as CborMap)[name] as CborValue]
}

/** The canonical bytes a signature covers: `{ Variant: struct-without-signature }`. */
export function signedBytesOf (variant: string, struct: CborMap): Uint8Array {
  const { signature: _signature, ...rest } = struct
  return encodeCanonical({ [variant]: rest })
}

/** Decodes untrusted bytes into a typed message (schema checked, signature NOT checked). Never throws. */
export function decodeMessage (bytes: Uint8Array, opts: DecodeOptions = {}): DecodeResult {
  try {
    const env = decodeEnvelope(bytes, opts)
    const [name, struct] = openEnvelope(env.value)
    if (!isVariant(name)) return { kind: 'unknown', variant: name.slice(0, 100) }
    const body = checkVariant(name, struct)
    const signer = body[SIGNER_FIELD[name]] as string
    const message = { variant: name, body, raw: struct as CborMap, signer } as unknown as MeshMessage
    return env.signedBytes === undefined ? { kind: 'message', message } : { kind: 'message', message, signedBytes: env.signedBytes }
  } catch (err) {
    if (err instanceof ProtocolError) return { kind: 'rejected', reason: err.reason, detail: err.message }
    return { kind: 'rejected', reason: 'Malformed', detail: err instanceof Error ? err.message : 'undecodable message' }
  }
}

function toMap (obj: object): CborMap {
  const out = Object.create(null) as CborMap
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v as CborValue
  return out
}

/**
 * Signs a message as `id` and returns its canonical wire bytes and the typed message. The signer
 * field of the variant must be `id.did`. The struct is schema-checked first, so we never send a
 * message another node would reject as malformed.
 */
export function signMessage<V extends Variant> (variant: V, unsigned: Unsigned<VariantBodies[V]>, id: Identity): { bytes: Uint8Array, message: MessageOf<V> } {
  const struct = toMap(unsigned)
  delete struct.signature
  const signerField = SIGNER_FIELD[variant]
  if (struct[signerField] !== id.did) {
    throw new ProtocolError('Malformed', `${variant}.${signerField} must be the signing identity's DID`)
  }
  const signature = signBytes(id, encodeCanonical({ [variant]: struct }))
  struct.signature = signature
  const body = checkVariant(variant, struct)
  const bytes = encodeCanonical({ [variant]: struct })
  const message = { variant, body, raw: struct, signer: id.did } as unknown as MessageOf<V>
  return { bytes, message }
}

