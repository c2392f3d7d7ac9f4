/**
 * The executor's block store (wire profile 4.3): what this node serves on `/icn/mesh/blocks/0.1.0`.
 *
 * - Receipts: public, served from the SQLite store (they stay for good).
 * - Modules we fetched: public, kept in a bounded in-memory cache (others may fetch popular modules
 *   from us too).
 * - Job outputs: served only to the job's originator (by the requesting connection's PeerId). They
 *   are written to `<dataDir>/blocks/<cid>` with a sidecar `<cid>.acl` naming the one PeerId allowed,
 *   so they survive a restart.
 * - Anything else (job inputs we fetched included — an input belongs to the originator): NotFound.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cidMatchesBytes, isValidCid } from '../../shared/protocol/index.js'
import type { BlockStore } from '../mesh/index.js'
import type { Store } from '../store/index.js'

export interface ExecutorBlockStoreOptions {
  store: Store
  dataDir: string
  /** bytes of public module blocks kept in memory (default 64 MiB) */
  publicCacheBytes?: number
}

export interface ExecutorBlockStore extends BlockStore {
  /** A public block (a module). Verifies the CID. */
  putPublic(cid: string, bytes: Uint8Array): void
  /** A private block served only to `allowedPeerId` (a job output for its originator). Durable. */
  putPrivate(cid: string, bytes: Uint8Array, allowedPeerId: string): Promise<void>
}

export function createExecutorBlockStore (opts: ExecutorBlockStoreOptions): ExecutorBlockStore {
  const dir = join(opts.dataDir, 'blocks')
  const maxPublic = opts.publicCacheBytes ?? 64 * 1024 * 1024
  const publicBlocks = new Map<string, Uint8Array>()
  let publicBytes = 0
  /** recent private blocks (the originator usually fetches its output right away); bounded */
  const recentPrivate = new Map<string, { bytes: Uint8Array, allowed: string }>()
  let recentBytes = 0
  const maxRecent = 32 * 1024 * 1024

  function putPublic (cid: string, bytes: Uint8Array): void {
    if (!cidMatchesBytes(cid, bytes)) throw new Error(`block does not hash to ${cid}`)
    if (publicBlocks.has(cid) || bytes.length > maxPublic) return
    publicBlocks.set(cid, bytes)
    publicBytes += bytes.length
    for (const [k, v] of publicBlocks) {
      if (publicBytes <= maxPublic) break
      publicBlocks.delete(k)
      publicBytes -= v.length
    }
  }

  async function putPrivate (cid: string, bytes: Uint8Array, allowedPeerId: string): Promise<void> {
    if (!cidMatchesBytes(cid, bytes)) throw new Error(`block does not hash to ${cid}`)
    // served from memory at once; the durable copy follows
    if (bytes.length <= maxRecent && !recentPrivate.has(cid)) {
      recentPrivate.set(cid, { bytes, allowed: allowedPeerId })
      recentBytes += bytes.length
      for (const [k, v] of recentPrivate) {
        if (recentBytes <= maxRecent) break
        recentPrivate.delete(k)
        recentBytes -= v.bytes.length
      }
    }
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const path = join(dir, cid)
    // data first, then the ACL: a crash in between leaves an unserved block, never an unguarded one
    await writeFile(`${path}.tmp`, bytes, { mode: 0o600 })
    await rename(`${path}.tmp`, path)
    await writeFile(`${path}.acl.tmp`, allowedPeerId + '\n', { mode: 0o600 })
    await rename(`${path}.acl.tmp`, `${path}.acl`)
  }

  async function get (cid: string, requesterPeerId: string): Promise<Uint8Array | undefined> {
    if (!isValidCid(cid)) return undefined
    const receipt = opts.store.getReceipt(cid)
    if (receipt !== undefined) return receipt.bytes
    const pub = publicBlocks.get(cid)
    if (pub !== undefined) return pub
    const recent = recentPrivate.get(cid)
    if (recent !== undefined) return recent.allowed === requesterPeerId ? recent.bytes : undefined
    const path = join(dir, cid)
    let allowed: string
    try {
      allowed = (await readFile(`${path}.acl`, 'utf8')).trim()
    } catch {
      return undefined
    }
    if (allowed !== requesterPeerId) return undefined
    try {
      const bytes = new Uint8Array(await readFile(path))
      return cidMatchesBytes(cid, bytes) ? bytes : undefined
    } catch {
      return undefined
    }
  }

  return {
    get,
    put: putPublic,
    has: (cid) => publicBlocks.has(cid) || opts.store.getReceipt(cid) !== undefined,
    putPublic,
    putPrivate
  }
}
