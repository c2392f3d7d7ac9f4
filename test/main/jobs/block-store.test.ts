import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity, rawCid } from '../../../src/shared/protocol/index.js'
import { createExecutorBlockStore } from '../../../src/main/jobs/block-store.js'
import { failureText } from '../../../src/shared/text.js'

/** A temp data dir, removed after the test. */
async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-blocks-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

test('output blocks: concurrent and repeated writes of the same CID are harmless; access follows the jobs', async (t) => {
  const dir = await tempDir(t)
  const alice = generateIdentity()
  const bob = generateIdentity()
  const eve = generateIdentity()
  const jobs = new Map<string, Array<{ announcementId: string, originatorDid: string }>>()
  const store = { getReceipt: () => undefined, jobsWithOutput: (cid: string) => jobs.get(cid) ?? [] }
  const empty = new Uint8Array(0)
  const data = new TextEncoder().encode('same output\n')
  const blocks = createExecutorBlockStore({ store, dataDir: dir, recentOutputBytes: 0 }) // no memory cache: read from disk
  // twenty jobs finishing at once with identical outputs (the empty one is the common case)
  await Promise.all(Array.from({ length: 20 }, (_, i) => blocks.putOutput(rawCid(i % 2 === 0 ? empty : data), i % 2 === 0 ? empty : data)))
  await blocks.putOutput(rawCid(data), data) // and once more later
  assert.deepEqual((await readdir(join(dir, 'blocks'))).sort(), [rawCid(empty), rawCid(data)].sort(), 'one file per CID, no temp files left')
  await assert.rejects(blocks.putOutput(rawCid(data), empty), /does not hash/)

  // nobody may fetch an output no job of theirs produced
  assert.equal(await blocks.get(rawCid(data), alice.peerId), undefined)
  jobs.set(rawCid(data), [{ announcementId: 'j1', originatorDid: alice.did }, { announcementId: 'j2', originatorDid: bob.did }])
  assert.deepEqual(await blocks.get(rawCid(data), alice.peerId), data)
  assert.deepEqual(await blocks.get(rawCid(data), bob.peerId), data, 'the second buyer of the same computation gets it too')
  assert.equal(await blocks.get(rawCid(data), eve.peerId), undefined)
})

test('an output whose write fails (a full disk) is still served from memory, and written once a later write succeeds', async (t) => {
  const dir = await tempDir(t)
  const alice = generateIdentity()
  const big = new Uint8Array(3 * 1024 * 1024).fill(7)
  const small = new TextEncoder().encode('later job\n')
  const store = { getReceipt: () => undefined, jobsWithOutput: () => [{ announcementId: 'j1', originatorDid: alice.did }] }
  // the recent-output cache holds 1 MiB: without the unsaved copy the 3 MiB output would be gone
  const blocks = createExecutorBlockStore({ store, dataDir: dir, recentOutputBytes: 1024 * 1024 })
  await writeFile(join(dir, 'blocks'), 'not a directory') // every write fails, as on a full disk
  await assert.rejects(blocks.putOutput(rawCid(big), big), (err: Error) => err.name === 'OutputNotSavedError' && /served from memory until it can be written/.test(err.message))
  assert.deepEqual(await blocks.get(rawCid(big), alice.peerId), big, 'the originator can still fetch it')
  // room again: the next output's write succeeds, and the unsaved one follows it to disk
  await rm(join(dir, 'blocks'))
  await mkdir(join(dir, 'blocks'))
  await blocks.putOutput(rawCid(small), small)
  for (let i = 0; i < 100 && !(await readdir(join(dir, 'blocks'))).includes(rawCid(big)); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.deepEqual(new Uint8Array(await readFile(join(dir, 'blocks', rawCid(big)))), big)
  // a fresh store (a restart) serves it from disk
  const again = createExecutorBlockStore({ store, dataDir: dir })
  assert.deepEqual(await again.get(rawCid(big), alice.peerId), big)
})

test('pruneOutputs: old outputs and crash-left temp files go; an output written again is fresh; a prune racing a write of the same CID never loses it', async (t) => {
  const dir = await tempDir(t)
  const alice = generateIdentity()
  const store = { getReceipt: () => undefined, jobsWithOutput: () => [{ announcementId: 'j1', originatorDid: alice.did }] }
  const blocks = createExecutorBlockStore({ store, dataDir: dir, recentOutputBytes: 0 })
  const enc = (t: string): Uint8Array => new TextEncoder().encode(t)
  const [old, rebought, fresh, raced] = [enc('old\n'), enc('bought again\n'), enc('fresh\n'), enc('raced\n')]
  for (const b of [old, rebought, fresh, raced]) await blocks.putOutput(rawCid(b), b)
  const week = new Date(Date.now() - 8 * 24 * 3_600_000)
  for (const b of [old, rebought, raced]) await utimes(join(dir, 'blocks', rawCid(b)), week, week)
  await writeFile(join(dir, 'blocks', `${rawCid(old)}.123.abcdef.tmp`), 'half')
  await utimes(join(dir, 'blocks', `${rawCid(old)}.123.abcdef.tmp`), week, week)
  await blocks.putOutput(rawCid(rebought), rebought) // a later job with the same output
  const cutoff = Date.now() - 7 * 24 * 3_600_000
  // a job finishing with `raced`'s bytes while the prune runs
  const [removed] = await Promise.all([blocks.pruneOutputs({ beforeMs: cutoff, maxBytes: Infinity, keepAfterMs: cutoff }), blocks.putOutput(rawCid(raced), raced)])
  const left = (await readdir(join(dir, 'blocks'))).sort()
  assert.deepEqual(left, [rawCid(rebought), rawCid(fresh), rawCid(raced)].sort(), JSON.stringify(removed))
  assert.deepEqual(await blocks.get(rawCid(raced), alice.peerId), raced)
  assert.equal(await blocks.get(rawCid(old), alice.peerId), undefined, 'a pruned output is NotFound')
  assert.ok(removed.files >= 2 && removed.bytes >= old.length + 4, JSON.stringify(removed))
})

test('pruneOutputs over its size cap: the oldest go first, never one written after keepAfterMs', async (t) => {
  const dir = await tempDir(t)
  const store = { getReceipt: () => undefined, jobsWithOutput: () => [] }
  const blocks = createExecutorBlockStore({ store, dataDir: dir, recentOutputBytes: 0 })
  const outs = Array.from({ length: 5 }, (_, i) => new Uint8Array(1000).fill(i))
  for (const b of outs) await blocks.putOutput(rawCid(b), b)
  const now = Date.now()
  const minutesAgo = [50, 40, 30, 20, 0]
  for (const [i, b] of outs.entries()) { const at = new Date(now - (minutesAgo[i] ?? 0) * 60_000); await utimes(join(dir, 'blocks', rawCid(b)), at, at) }
  const removed = await blocks.pruneOutputs({ beforeMs: now - 7 * 24 * 3_600_000, maxBytes: 2500, keepAfterMs: now - 10 * 60_000 })
  assert.deepEqual(removed, { files: 3, bytes: 3000 }, 'the three oldest go, leaving 2000 bytes')
  assert.deepEqual((await readdir(join(dir, 'blocks'))).sort(), outs.slice(3).map((b) => rawCid(b)).sort())
  // over the cap, but none written before keepAfterMs: nothing goes
  assert.deepEqual(await blocks.pruneOutputs({ beforeMs: 0, maxBytes: 0, keepAfterMs: now - 30 * 60_000 }), { files: 0, bytes: 0 })
})

test('failure text names the reason once', () => {
  assert.equal(failureText('CidMismatch', 'CidMismatch: block bafk… does not hash'), 'CidMismatch: block bafk… does not hash')
  assert.equal(failureText('CidMismatch', 'block bafk… does not hash'), 'CidMismatch: block bafk… does not hash')
  assert.equal(failureText('Timeout', undefined), 'Timeout')
  assert.equal(failureText('Trap', 'Trap'), 'Trap')
})
