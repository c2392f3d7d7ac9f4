/**
 * Noise's X25519 without re-importing private keys.
 *
 * @libp2p/noise (17.x) passes X25519 keys around as raw bytes, and its Node crypto turns the private
 * key back into an OpenSSL key (a PKCS#8 DER import) for every Diffie-Hellman: three per handshake
 * side, the node's static key each time. On this machine an import costs ~310 µs and the DH itself
 * ~90 µs, so one side of a handshake cost ~1.3 ms of CPU; at 100 nodes handshakes were 13 % of a
 * scale-bench worker's CPU (a DHT put dials peers it never met).
 *
 * Here a key pair is generated as node:crypto `KeyObject`s and the private `KeyObject` is kept beside
 * the bytes handed to Noise (a WeakMap keyed by that byte array, checked against a copy of its
 * bytes), so a DH with our static or ephemeral key imports nothing. The peer's public key is
 * imported as a JWK (a tenth of the cost of the DER import the library does), from a
 * `Uint8ArrayList`'s bytes too (until 2026-12-03 such a key sent the DH down the library's path,
 * private key import included: in most DHs, since keys read off the wire come as lists). Private keys we did not generate (a seed-derived static key, a list) go the
 * library's own way. Same algorithm, same bytes
 * on the wire; everything else is the library's default crypto.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, timingSafeEqual, type KeyObject } from 'node:crypto'
import type { ICryptoInterface } from '@libp2p/noise'
import { defaultCrypto } from '@libp2p/noise/crypto'

// DER prefixes of an X25519 PKCS#8 private key and SPKI public key (RFC 8410); the raw 32 bytes follow
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

interface Held { bytes: Buffer, key: KeyObject }
const held = new WeakMap<Uint8Array, Held>()

function privateKeyObject (raw: Uint8Array): KeyObject {
  const h = held.get(raw)
  if (h !== undefined && h.bytes.length === raw.length && timingSafeEqual(h.bytes, raw)) return h.key
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' })
  held.set(raw, { bytes: Buffer.from(raw), key })
  return key
}

const generateX25519KeyPair: ICryptoInterface['generateX25519KeyPair'] = () => {
  const { publicKey, privateKey } = generateKeyPairSync('x25519')
  const priv = privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(PKCS8_PREFIX.length)
  const pub = publicKey.export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX.length)
  held.set(priv, { bytes: Buffer.from(priv), key: privateKey })
  return { publicKey: pub, privateKey: priv }
}

const generateX25519SharedKey: ICryptoInterface['generateX25519SharedKey'] = (privateKey, publicKey) => {
  if (!(privateKey instanceof Uint8Array)) return defaultCrypto.generateX25519SharedKey(privateKey, publicKey)
  // the peer's key, read off the wire, is often a Uint8ArrayList: its bytes, not the library's path
  const pub = publicKey instanceof Uint8Array ? publicKey : publicKey.subarray()
  return diffieHellman({
    privateKey: privateKeyObject(privateKey),
    // a JWK import: ~7 µs here against ~70 µs for the same key as SPKI DER (OpenSSL 3's decoders)
    publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(pub.buffer, pub.byteOffset, pub.byteLength).toString('base64url') }, format: 'jwk' })
  })
}

/** The library's default Noise crypto with key pairs kept as KeyObjects. */
export const noiseCrypto: ICryptoInterface = { ...defaultCrypto, generateX25519KeyPair, generateX25519SharedKey }
