import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, stat, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ed from '@noble/ed25519'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import {
  didFromPublicKey, generateIdentity, identityFromSeed, IdentityFileError, loadIdentityFile, loadOrCreateIdentityFile,
  peerIdFromDid, ProtocolError, publicKeyFromDid, saveIdentityFile, signBytes, toLibp2pPrivateKey, verifyBytes
} from '../../../src/shared/protocol/index.js'

test('did:key, PeerId and signatures agree with independent implementations', async () => {
  const seed = new Uint8Array(32).fill(7)
  const id = identityFromSeed(seed)
  const pub = await ed.getPublicKeyAsync(seed)
  assert.deepEqual(id.publicKey, pub)
  assert.match(id.did, /^did:key:z6Mk/)
  assert.deepEqual(publicKeyFromDid(id.did), pub)
  assert.equal(didFromPublicKey(pub), id.did)
  // PeerId: libp2p's own derivation from the same key
  assert.equal(peerIdFromPrivateKey(toLibp2pPrivateKey(id)).toString(), id.peerId)
  assert.equal(peerIdFromDid(id.did), id.peerId)
  assert.match(id.peerId, /^12D3KooW/)
  assert.deepEqual(peerIdFromString(id.peerId).publicKey?.raw, pub)
  // signatures: node:crypto signs, noble verifies, and the other way round
  const msg = new TextEncoder().encode('mesh')
  const sig = signBytes(id, msg)
  assert.ok(await ed.verifyAsync(sig, msg, pub))
  assert.deepEqual(sig, await ed.signAsync(msg, seed))
  assert.ok(verifyBytes(pub, msg, sig))
  const tampered = Uint8Array.from(sig); tampered[0] = (tampered[0] as number) ^ 1
  assert.equal(verifyBytes(pub, msg, tampered), false)
  assert.equal(verifyBytes(pub, msg, sig.subarray(0, 63)), false)
})

test('publicKeyFromDid: other methods and key types are UnsupportedDid, garbage is Malformed', () => {
  const reason = (did: string): string => {
    try { publicKeyFromDid(did); return 'ok' } catch (e) { return (e as ProtocolError).reason }
  }
  assert.equal(reason('did:web:example.com'), 'UnsupportedDid')
  assert.equal(reason('did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme'), 'UnsupportedDid') // secp256k1
  assert.equal(reason('did:key:mAAAA'), 'UnsupportedDid') // not base58btc
  assert.equal(reason('did:key:z0OIl'), 'Malformed') // invalid base58 characters
  assert.equal(reason('not a did'), 'Malformed')
  assert.equal(reason(generateIdentity().did), 'ok')
})

test('key files: 0600, round trip, clear errors on corrupt files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-id-'))
  try {
    const path = join(dir, 'sub', 'identity.json')
    const created = await loadOrCreateIdentityFile(path)
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    const again = await loadOrCreateIdentityFile(path)
    assert.equal(again.did, created.did)
    const id = generateIdentity()
    await saveIdentityFile(path, id)
    assert.equal((await loadIdentityFile(path)).did, id.did)
    assert.ok(!(await readFile(path, 'utf8')).includes('privateKey'))

    const expectCode = async (content: string, code: string, pattern: RegExp): Promise<void> => {
      await writeFile(path, content)
      await assert.rejects(loadIdentityFile(path), (e: unknown) => e instanceof IdentityFileError && e.code === code && pattern.test(e.message))
    }
    await expectCode('{not json', 'Corrupt', /not valid JSON/)
    await expectCode('{"type":"mesh-executor-identity","version":1,"key_type":"Ed25519","seed_hex":"zz"}', 'Corrupt', /64 hex digits/)
    await expectCode(JSON.stringify({ type: 'mesh-executor-identity', version: 1, key_type: 'Ed25519', seed_hex: '00'.repeat(32), did: id.did }), 'Corrupt', /does not match/)
    await expectCode('[]', 'Corrupt', /not a mesh-executor/)
    await assert.rejects(loadIdentityFile(join(dir, 'missing.json')), (e: unknown) => e instanceof IdentityFileError && e.code === 'NotFound')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
