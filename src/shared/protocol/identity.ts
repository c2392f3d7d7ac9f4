/**
 * Node identity (wire profile section 1): one Ed25519 key pair that signs every message and is the
 * node's libp2p identity. DID = did:key (multicodec 0xed01 + raw public key, base58btc); the PeerId
 * is derived by the libp2p packages from the same key. Signing/verification use `node:crypto`.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto'
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { base58btc } from 'multiformats/bases/base58'
import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { ProtocolError } from './errors.js'

export interface Identity {
  readonly did: string
  readonly peerId: string
  /** raw 32-byte Ed25519 public key */
  readonly publicKey: Uint8Array
  /** raw 32-byte Ed25519 seed (the private key); never log or send it */
  readonly seed: Uint8Array
  /** node:crypto private key object, for fast signing */
  readonly privateKey: KeyObject
}

/** Errors loading or saving a key file. `code` says what went wrong. */
export class IdentityFileError extends Error {
  override name = 'IdentityFileError'
  constructor (readonly code: 'NotFound' | 'Corrupt' | 'Unreadable' | 'Unwritable', message: string) {
    super(message)
  }
}

const SPKI_ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const ED25519_MULTICODEC = Uint8Array.from([0xed, 0x01])
const DID_KEY_PREFIX = 'did:key:'

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/** A node:crypto public KeyObject from a raw 32-byte Ed25519 key. */
export function publicKeyObject (publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(concat(SPKI_ED25519_PREFIX, publicKey)), format: 'der', type: 'spki' })
}

export function identityFromSeed (seed: Uint8Array): Identity {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('an Ed25519 seed is 32 bytes')
  const privateKey = createPrivateKey({ key: Buffer.from(concat(PKCS8_ED25519_PREFIX, seed)), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  const publicKey = new Uint8Array(spki.subarray(spki.length - 32))
  const did = didFromPublicKey(publicKey)
  return { did, peerId: peerIdFromPublicKeyBytes(publicKey), publicKey, seed: Uint8Array.from(seed), privateKey }
}

export function generateIdentity (): Identity {
  return identityFromSeed(new Uint8Array(randomBytes(32)))
}

export function didFromPublicKey (publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new TypeError('an Ed25519 public key is 32 bytes')
  return DID_KEY_PREFIX + base58btc.encode(concat(ED25519_MULTICODEC, publicKey))
}

const DID_SYNTAX = /^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$/

/** True when the string is syntactically a DID (any method). */
export function isDidSyntax (did: string): boolean {
  return did.length <= 2048 && DID_SYNTAX.test(did)
}

const didKeyCache = new Map<string, Uint8Array>()

/**
 * Raw public key of an Ed25519 did:key. Throws ProtocolError: `Malformed` for something that is not
 * a DID, `UnsupportedDid` for another method or key type.
 */
export function publicKeyFromDid (did: string): Uint8Array {
  const cached = didKeyCache.get(did)
  if (cached !== undefined) return cached
  if (typeof did !== 'string' || !isDidSyntax(did)) throw new ProtocolError('Malformed', `not a DID: ${JSON.stringify(String(did).slice(0, 80))}`)
  if (!did.startsWith(DID_KEY_PREFIX)) throw new ProtocolError('UnsupportedDid', `unsupported DID method: ${did.slice(0, did.indexOf(':', 4) + 1)}…`)
  const mb = did.slice(DID_KEY_PREFIX.length)
  if (!mb.startsWith('z')) throw new ProtocolError('UnsupportedDid', 'did:key must use base58btc (z…)')
  let bytes: Uint8Array
  try {
    bytes = base58btc.decode(mb)
  } catch {
    throw new ProtocolError('Malformed', 'did:key is not valid base58btc')
  }
  if (bytes.length < 2 || bytes[0] !== 0xed || bytes[1] !== 0x01) throw new ProtocolError('UnsupportedDid', 'did:key is not an Ed25519 key (multicodec 0xed01)')
  if (bytes.length !== 34) throw new ProtocolError('Malformed', 'did:key Ed25519 key must be 32 bytes')
  const pk = bytes.slice(2)
  if (didKeyCache.size > 10_000) didKeyCache.clear()
  didKeyCache.set(did, pk)
  return pk
}

function peerIdFromPublicKeyBytes (publicKey: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString()
}

const peerIdCache = new Map<string, string>()
/** The libp2p PeerId string (12D3KooW…) of a did:key. Throws like `publicKeyFromDid`. */
export function peerIdFromDid (did: string): string {
  let p = peerIdCache.get(did)
  if (p === undefined) {
    p = peerIdFromPublicKeyBytes(publicKeyFromDid(did))
    if (peerIdCache.size > 10_000) peerIdCache.clear()
    peerIdCache.set(did, p)
  }
  return p
}

const keyObjectCache = new Map<string, KeyObject>()
function cachedPublicKeyObject (publicKey: Uint8Array): KeyObject {
  const k = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1')
  let obj = keyObjectCache.get(k)
  if (obj === undefined) {
    obj = publicKeyObject(publicKey)
    if (keyObjectCache.size > 10_000) keyObjectCache.clear()
    keyObjectCache.set(k, obj)
  }
  return obj
}

export function signBytes (id: Identity, bytes: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, bytes, id.privateKey))
}

const didKeyObjects = new Map<string, KeyObject>()
/** Verifies a signature by the key of an Ed25519 did:key (the KeyObject is cached per DID). Throws like `publicKeyFromDid`. */
export function verifyForDid (did: string, bytes: Uint8Array, signature: Uint8Array): boolean {
  let key = didKeyObjects.get(did)
  if (key === undefined) {
    key = publicKeyObject(publicKeyFromDid(did))
    if (didKeyObjects.size > 10_000) didKeyObjects.clear()
    didKeyObjects.set(did, key)
  }
  if (signature.length !== 64) return false
  try {
    return verify(null, bytes, key, signature)
  } catch {
    return false
  }
}

export function verifyBytes (publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return verify(null, bytes, cachedPublicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}

/** The same key as a libp2p PrivateKey, so `createLibp2p({ privateKey })` has PeerId === id.peerId. */
export function toLibp2pPrivateKey (id: Identity): PrivateKey {
  return privateKeyFromRaw(concat(id.seed, id.publicKey))
}

// --- key file ----------------------------------------------------------------------------------

interface KeyFileV1 { type: 'mesh-executor-identity', version: 1, key_type: 'Ed25519', seed_hex: string, did: string }

export async function saveIdentityFile (path: string, id: Identity): Promise<void> {
  const body: KeyFileV1 = { type: 'mesh-executor-identity', version: 1, key_type: 'Ed25519', seed_hex: Buffer.from(id.seed).toString('hex'), did: id.did }
  const tmp = `${path}.tmp-${process.pid}`
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    await writeFile(tmp, JSON.stringify(body, null, 2) + '\n', { mode: 0o600, flag: 'w' })
    await chmod(tmp, 0o600)
    await rename(tmp, path)
  } catch (err) {
    throw new IdentityFileError('Unwritable', `cannot write key file ${path}: ${(err as Error).message}`)
  }
}

export async function loadIdentityFile (path: string): Promise<Identity> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new IdentityFileError('NotFound', `key file ${path} does not exist`)
    throw new IdentityFileError('Unreadable', `cannot read key file ${path}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new IdentityFileError('Corrupt', `key file ${path} is corrupt: not valid JSON`)
  }
  const f = parsed as Partial<KeyFileV1> | null
  if (f === null || typeof f !== 'object' || f.type !== 'mesh-executor-identity' || f.version !== 1 || f.key_type !== 'Ed25519') {
    throw new IdentityFileError('Corrupt', `key file ${path} is corrupt: not a mesh-executor Ed25519 identity (v1)`)
  }
  if (typeof f.seed_hex !== 'string' || !/^[0-9a-f]{64}$/.test(f.seed_hex)) {
    throw new IdentityFileError('Corrupt', `key file ${path} is corrupt: seed_hex must be 64 hex digits`)
  }
  const id = identityFromSeed(Uint8Array.from(Buffer.from(f.seed_hex, 'hex')))
  if (f.did !== undefined && f.did !== id.did) {
    throw new IdentityFileError('Corrupt', `key file ${path} is corrupt: its did does not match its key`)
  }
  return id
}

export async function loadOrCreateIdentityFile (path: string): Promise<Identity> {
  try {
    return await loadIdentityFile(path)
  } catch (err) {
    if (!(err instanceof IdentityFileError) || err.code !== 'NotFound') throw err
  }
  const id = generateIdentity()
  await saveIdentityFile(path, id)
  return id
}
