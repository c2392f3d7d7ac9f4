/**
 * libp2p's Ed25519 signatures with the node:crypto key object made once per key, not per call.
 *
 * @libp2p/crypto (5.1.x) signs and verifies through `hashAndSign`/`hashAndVerify`, which import the
 * key from JWK (`createPrivateKey`/`createPublicKey`) on every call. libp2p signs and checks on
 * every connection (Noise handshake payloads, identify's signed peer records: 4 signatures and 4
 * checks between two ends) and gossipsub checks every message it accepts (StrictSign) and signs every
 * one we publish. The import is more than half of a signature (86 → 35 µs here) and a fifth of a
 * check (125 → 102 µs).
 *
 * This replaces `sign`/`verify` on the two key classes' prototypes with the same node:crypto call on
 * a cached key object: our own private keys in a WeakMap, peers' public keys by their 32 bytes in a
 * bounded map (oldest dropped first). Anything else (a signature that is not 64 bytes, a key of
 * another length) goes to the original, which keeps its errors. Installed once; a version whose
 * classes lack these methods is left alone.
 */
// called on the module object, as @libp2p/crypto does, so a spy on `crypto.sign`/`verify` sees them (gossip.test.ts)
import crypto, { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys'

/** Peers' public keys kept as key objects (a key object is ~100 bytes plus its handle). */
export const PUBLIC_KEY_CACHE_SIZE = 4096

interface Bytes { subarray: () => Uint8Array }
type Message = Uint8Array | Bytes
interface Opts { signal?: AbortSignal }
interface PrivateLike { raw: Uint8Array, sign: (this: PrivateLike, m: Message, o?: Opts) => Uint8Array | Promise<Uint8Array> }
interface PublicLike { raw: Uint8Array, verify: (this: PublicLike, m: Message, s: Uint8Array, o?: Opts) => boolean | Promise<boolean> }

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url')
const bytesOf = (m: Message): Uint8Array => m instanceof Uint8Array ? m : m.subarray()

const privateObjects = new WeakMap<object, KeyObject>()
const publicObjects = new Map<string, KeyObject>()
let installed: boolean | undefined

function privateObject (key: PrivateLike): KeyObject {
  let ko = privateObjects.get(key)
  if (ko === undefined) {
    ko = createPrivateKey({ format: 'jwk', key: { crv: 'Ed25519', kty: 'OKP', d: b64(key.raw.subarray(0, 32)), x: b64(key.raw.subarray(32)) } })
    privateObjects.set(key, ko)
  }
  return ko
}

/** The key object for a peer's 32-byte public key (cached). */
function publicObject (raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1')
  let ko = publicObjects.get(id)
  if (ko === undefined) {
    ko = createPublicKey({ format: 'jwk', key: { crv: 'Ed25519', kty: 'OKP', x: b64(raw) } })
    if (publicObjects.size >= PUBLIC_KEY_CACHE_SIZE) publicObjects.delete(publicObjects.keys().next().value as string)
    publicObjects.set(id, ko)
  }
  return ko
}

/** How many peers' public keys are cached (for the test). */
export function cachedPublicKeys (): number { return publicObjects.size }

/** Installs the cached signing and checking; returns whether the pinned classes have the expected methods. */
export function cacheEd25519KeyObjects (): boolean {
  if (installed !== undefined) return installed
  const privProto = Object.getPrototypeOf(privateKeyFromRaw(new Uint8Array(64))) as PrivateLike
  const pubProto = Object.getPrototypeOf(publicKeyFromRaw(new Uint8Array(32))) as PublicLike
  const sign = privProto.sign
  const verify = pubProto.verify
  installed = typeof sign === 'function' && typeof verify === 'function'
  if (!installed) return false
  privProto.sign = function (this: PrivateLike, m: Message, o?: Opts) {
    if (!(this.raw instanceof Uint8Array) || this.raw.byteLength !== 64) return sign.call(this, m, o)
    o?.signal?.throwIfAborted()
    return crypto.sign(null, bytesOf(m), privateObject(this))
  }
  pubProto.verify = function (this: PublicLike, m: Message, s: Uint8Array, o?: Opts) {
    if (!(this.raw instanceof Uint8Array) || this.raw.byteLength !== 32 || !(s instanceof Uint8Array) || s.byteLength !== 64) return verify.call(this, m, s, o)
    o?.signal?.throwIfAborted()
    return crypto.verify(null, bytesOf(m), publicObject(this.raw), s)
  }
  return true
}
