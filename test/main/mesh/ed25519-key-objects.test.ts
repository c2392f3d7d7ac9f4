import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair, privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys'
import * as ed from '@noble/ed25519'
import { Uint8ArrayList } from 'uint8arraylist'
import { cacheEd25519KeyObjects, cachedPublicKeys, PUBLIC_KEY_CACHE_SIZE } from '../../../src/main/mesh/ed25519-key-objects.js'
import { connect, spawn, stopAll } from './helpers.js'

test('cached Ed25519 key objects: the same signatures as before, checks agree with @noble/ed25519, bad input keeps its errors', async () => {
  const key = await generateKeyPair('Ed25519')
  const msg = new TextEncoder().encode('mesh executor')
  const before = await key.sign(msg)
  assert.equal(cacheEd25519KeyObjects(), true, 'the pinned @libp2p/crypto has the expected key classes')
  const after = await key.sign(msg)
  assert.deepEqual([...after], [...before], 'Ed25519 is deterministic: the cached key signs identically')
  assert.deepEqual([...await key.sign(new Uint8ArrayList(msg.subarray(0, 4), msg.subarray(4)))], [...before], 'a list message is signed as its bytes')
  assert.equal(await ed.verifyAsync(after, msg, key.publicKey.raw), true)
  // a copy of the key made from its bytes (another instance) gets its own key object and the same answer
  const copy = publicKeyFromRaw(key.publicKey.raw)
  assert.equal(await copy.verify(msg, after), true)
  assert.equal(await copy.verify(new Uint8ArrayList(msg), after), true)
  const forged = new Uint8Array(after); forged[0] = (forged[0] as number) ^ 1
  assert.equal(await copy.verify(msg, forged), false)
  assert.equal(await ed.verifyAsync(forged, msg, key.publicKey.raw), false)
  const other = await generateKeyPair('Ed25519')
  assert.equal(await other.publicKey.verify(msg, after), false, 'another key does not check out')
  assert.throws(() => copy.verify(msg, after.subarray(0, 63)), /64 bytes/, 'a short signature still fails as before')
  assert.throws(() => key.sign(msg, { signal: AbortSignal.abort() }), { name: 'AbortError' })
  assert.deepEqual([...await privateKeyFromRaw(key.raw).sign(msg)], [...before])
})

test('the public-key cache is bounded', async () => {
  cacheEd25519KeyObjects()
  const key = await generateKeyPair('Ed25519')
  const sig = await key.sign(new Uint8Array([1]))
  for (let i = 0; i < PUBLIC_KEY_CACHE_SIZE + 10; i++) {
    const raw = new Uint8Array(32); raw[0] = i & 255; raw[1] = i >> 8; raw[2] = 7
    publicKeyFromRaw(raw).verify(new Uint8Array([1]), sig)
  }
  assert.ok(cachedPublicKeys() <= PUBLIC_KEY_CACHE_SIZE)
})

test('nodes connect and answer pings with the cached keys (Noise and identify sign and check through them)', async () => {
  const a = await spawn({ nat: false })
  const b = await spawn({ nat: false })
  try {
    await connect(a.node, b.node)
    assert.equal(typeof await a.node.ping(b.node.peerId, { signal: AbortSignal.timeout(5000) }), 'number')
  } finally {
    await stopAll([a.node, b.node])
  }
})
