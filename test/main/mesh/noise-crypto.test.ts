import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultCrypto } from '@libp2p/noise/crypto'
import { noise, pureJsCrypto } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from '../../../src/main/mesh/noise-crypto.js'
import { spawn, stopAll } from './helpers.js'

// pureJsCrypto is @noble/curves: an implementation independent of node:crypto
const nobleShared = (priv: Uint8Array, pub: Uint8Array): Uint8Array => new Uint8Array(pureJsCrypto.generateX25519SharedKey(priv, pub))

test('Noise X25519 with kept KeyObjects: the same shared keys as the library and as @noble/curves, for our keys and foreign ones', () => {
  for (let i = 0; i < 20; i++) {
    const ours = noiseCrypto.generateX25519KeyPair()
    const theirs = defaultCrypto.generateX25519KeyPair()
    assert.equal(ours.privateKey.length, 32)
    assert.equal(ours.publicKey.length, 32)
    assert.deepEqual(new Uint8Array(pureJsCrypto.generateX25519KeyPairFromSeed(ours.privateKey as Uint8Array).publicKey as Uint8Array), new Uint8Array(ours.publicKey as Uint8Array), 'public key matches the private key')
    const expected = nobleShared(ours.privateKey as Uint8Array, theirs.publicKey as Uint8Array)
    // twice: the second DH uses the kept KeyObject
    for (let k = 0; k < 2; k++) assert.deepEqual(new Uint8Array(noiseCrypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey)), expected)
    assert.deepEqual(new Uint8Array(defaultCrypto.generateX25519SharedKey(theirs.privateKey, ours.publicKey)), expected, 'the peer computes the same key')
    // the peer's key as read off the wire: a Uint8ArrayList, in pieces (our kept private key still serves)
    const tp = theirs.publicKey as Uint8Array
    assert.deepEqual(new Uint8Array(noiseCrypto.generateX25519SharedKey(ours.privateKey, new Uint8ArrayList(tp.subarray(0, 11), tp.subarray(11)))), expected)
    // a private key we did not generate, and the Uint8ArrayList form, take the library's path
    assert.deepEqual(new Uint8Array(noiseCrypto.generateX25519SharedKey(theirs.privateKey, ours.publicKey)), expected)
    assert.deepEqual(new Uint8Array(noiseCrypto.generateX25519SharedKey(new Uint8ArrayList(ours.privateKey), theirs.publicKey)), expected)
  }
  // bytes changed in place behind the kept KeyObject are not trusted
  const kp = noiseCrypto.generateX25519KeyPair()
  const peer = defaultCrypto.generateX25519KeyPair()
  const priv = kp.privateKey as Uint8Array
  priv[0] = (priv[0] as number) ^ 1
  assert.deepEqual(new Uint8Array(noiseCrypto.generateX25519SharedKey(priv, peer.publicKey)), nobleShared(priv, peer.publicKey as Uint8Array))
})

test('Noise X25519 with kept KeyObjects: a node with the library default Noise connects both ways', async (t) => {
  const ours = await spawn()
  const plain = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  const plain2 = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  t.after(async () => { await Promise.all([stopAll([ours.node]), plain.stop(), plain2.stop()]) })
  // they dial us (we answer the handshake), and we dial the other (we start it)
  const conn = await plain.dial(ours.node.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
  assert.equal(conn.remotePeer.toString(), ours.node.peerId)
  await ours.node.dial(plain2.getMultiaddrs()[0]!.toString())
  assert.ok(ours.node.connectedPeers().includes(plain2.peerId.toString()))
})
