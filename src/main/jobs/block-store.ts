/**
 * The executor's block store (wire profile 4.3): what this node serves on `/icn/mesh/blocks/0.1.0`.
 *
 * - Receipts: public, served from the SQLite store (they stay for good).
 * - Modules we fetched: public, kept in a bounded in-memory cache (others may fetch popular modules
 *   from us too).
 * - Job outputs: served to the originator of every job that produced those bytes (by the requesting
 *   connection's PeerId). Access follows the jobs, not the bytes: the store records each finished
 *   job's output CID, so the same computation bought by two originators is served to both. The bytes
 *   are written once per CID to `<dataDir>/blocks/<cid>` (content-addressed, so concurrent and
 *   repeated writes of the same block are harmless) and survive a restart. An output whose write
 *   fails (a full disk) stays in memory, bounded, until a later write succeeds and takes it along.
 * - Anything else (job inputs we fetched included — an input belongs to the originator): NotFound.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { cidMatchesBytes, isValidCid, peerIdFromDid } from '../../shared/protocol/index.js'
import type { BlockStore } from '../mesh/index.js'
import type { Store } from '../store/index.js'

export interface ExecutorBlockStoreOptions {
  store: Pick<Store, 'getReceipt' | 'jobsWithOutput'>
  dataDir: string
  /** bytes of public module blocks kept in memory (default 64 MiB) */
  publicCacheBytes?: number
  /** bytes of recent outputs kept in memory (default 32 MiB) */
  recentOutputBytes?: number
  /** bytes of outputs kept in memory because their write failed (default 256 MiB) */
  unsavedOutputBytes?: number
}

export interface OutputRetention { beforeMs: number, maxBytes: number, keepAfterMs: number }

/** An output could not be written (a full disk); the message says whether it is still served from memory. */
export class OutputNotSavedError extends Error {
  override readonly name = 'OutputNotSavedError'
}

const errMessage = (err: unknown): string => err instanceof Error ? err.message : String(err)

export interface ExecutorBlockStore extends BlockStore {
  /** A public block (a module). Verifies the CID. */
  putPublic(cid: string, bytes: Uint8Array): void
  /**
   * A job output: served from memory at once, and written durably (idempotent: the same CID written
   * by several jobs at once, or again later, is stored once). Who may fetch it is decided by the
   * store's jobs (`jobsWithOutput`), not here.
   */
  putOutput(cid: string, bytes: Uint8Array): Promise<void>
  /**
   * Deletes output files last written before `o.beforeMs` (an output written again by a later job is
   * fresh again) and temp files of writes a crash interrupted; then, while the rest exceed
   * `o.maxBytes`, the oldest of those written before `o.keepAfterMs` (an originator may still be
   * fetching a newer one). Never one being written.
   */
  pruneOutputs(o: OutputRetention): Promise<{ files: number, bytes: number }>
}

/** A bounded insertion-ordered byte cache (oldest evicted first). */
class ByteCache {
  private readonly map = new Map<string, Uint8Array>()
  private bytes = 0
  constructor (private readonly max: number) {}
  get (k: string): Uint8Array | undefined { return this.map.get(k) }
  has (k: string): boolean { return this.map.has(k) }
  set (k: string, v: Uint8Array): void {
    if (this.map.has(k) || v.length > this.max) return
    this.map.set(k, v)
    this.bytes += v.length
    for (const [key, val] of this.map) {
      if (this.bytes <= this.max) break
      this.map.delete(key)
      this.bytes -= val.length
    }
  }
}

/** Writes `bytes` to `path` atomically: a uniquely named temp file, fsynced, renamed into place. */
async function writeAtomic (path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  try {
    const fh = await open(tmp, 'wx', 0o600)
    try {
      await fh.writeFile(bytes)
      await fh.datasync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

export function createExecutorBlockStore (opts: ExecutorBlockStoreOptions): ExecutorBlockStore {
  const dir = join(opts.dataDir, 'blocks')
  const publicBlocks = new ByteCache(opts.publicCacheBytes ?? 64 * 1024 * 1024)
  const recentOutputs = new ByteCache(opts.recentOutputBytes ?? 32 * 1024 * 1024)
  /** writes in progress, per CID: a second writer of the same block waits for the first */
  const writing = new Map<string, Promise<void>>()
  /** prunes in progress, per CID (pruneOutputs) */
  const pruning = new Map<string, Promise<void>>()
  /** outputs whose write failed (a full disk), kept until a write succeeds */
  const unsaved = new Map<string, Uint8Array>()
  let unsavedBytes = 0
  const maxUnsaved = opts.unsavedOutputBytes ?? 256 * 1024 * 1024

  function putPublic (cid: string, bytes: Uint8Array): void {
    if (!cidMatchesBytes(cid, bytes)) throw new Error(`block does not hash to ${cid}`)
    publicBlocks.set(cid, bytes)
  }

  async function persist (cid: string, bytes: Uint8Array): Promise<void> {
    const path = join(dir, cid)
    const existing = await stat(path).catch(() => undefined)
    if (existing?.size === bytes.length) { // content-addressed: already there; fresh again for pruneOutputs
      const now = new Date()
      await utimes(path, now, now)
      return
    }
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await writeAtomic(path, bytes)
  }

  /** Writes one block (one write per CID at a time: a second writer of the same block waits for the first). */
  async function write (cid: string, bytes: Uint8Array): Promise<void> {
    await pruning.get(cid) // a prune of an old copy finishes first; this write then stores it anew
    const inProgress = writing.get(cid)
    if (inProgress !== undefined) return await inProgress
    const w = persist(cid, bytes).finally(() => { writing.delete(cid) })
    writing.set(cid, w)
    await w
  }

  /** After a write succeeds (there is room again): the outputs that could not be written, oldest first. */
  async function retryUnsaved (): Promise<void> {
    for (const [cid, bytes] of [...unsaved]) {
      try {
        await write(cid, bytes)
        if (unsaved.delete(cid)) unsavedBytes -= bytes.length // two retries at once subtract once
      } catch {
        return
      }
    }
  }

  async function putOutput (cid: string, bytes: Uint8Array): Promise<void> {
    if (!cidMatchesBytes(cid, bytes)) throw new Error(`block does not hash to ${cid}`)
    recentOutputs.set(cid, bytes)
    try {
      await write(cid, bytes)
    } catch (err) {
      // a full disk must not lose an output its originator has yet to fetch: kept in memory (bounded)
      // and written once a later write succeeds
      if (!unsaved.has(cid) && unsavedBytes + bytes.length <= maxUnsaved) { unsaved.set(cid, bytes); unsavedBytes += bytes.length }
      throw new OutputNotSavedError(`${errMessage(err)}; ${unsaved.has(cid) ? 'the output is served from memory until it can be written' : 'the output is lost at the next restart (too many unsaved outputs to keep in memory)'}`, { cause: err })
    }
    if (unsaved.size > 0) void retryUnsaved()
  }

  function outputAllowed (cid: string, requesterPeerId: string): boolean {
    return opts.store.jobsWithOutput(cid).some((j) => peerIdFromDid(j.originatorDid) === requesterPeerId)
  }

  async function get (cid: string, requesterPeerId: string): Promise<Uint8Array | undefined> {
    if (!isValidCid(cid)) return undefined
    const receipt = opts.store.getReceipt(cid)
    if (receipt !== undefined) return receipt.bytes
    const pub = publicBlocks.get(cid)
    if (pub !== undefined) return pub
    if (!outputAllowed(cid, requesterPeerId)) return undefined
    const recent = recentOutputs.get(cid) ?? unsaved.get(cid)
    if (recent !== undefined) return recent
    try {
      const bytes = new Uint8Array(await readFile(join(dir, cid)))
      return cidMatchesBytes(cid, bytes) ? bytes : undefined
    } catch {
      return undefined
    }
  }

  /** Removes one file unless a write of its CID is under way; a write that starts meanwhile waits for it. */
  async function removeIf (name: string, keep: (st: { mtimeMs: number, size: number }) => boolean): Promise<number | undefined> {
    const cid = name.split('.')[0] ?? name
    // checked and registered in one tick: a write of this CID that starts later waits for us
    if (writing.has(cid) || unsaved.has(cid) || pruning.has(cid)) return undefined
    const path = join(dir, name)
    let size: number | undefined
    const one = (async () => {
      const st = await stat(path).catch(() => undefined)
      if (st === undefined || !st.isFile() || keep(st)) return
      await rm(path, { force: true })
      size = st.size
    })().finally(() => { pruning.delete(cid) })
    pruning.set(cid, one)
    await one
    return size
  }

  async function pruneOutputs (o: OutputRetention): Promise<{ files: number, bytes: number }> {
    const removed = { files: 0, bytes: 0 }
    const count = (size: number | undefined): void => { if (size !== undefined) { removed.files++; removed.bytes += size } }
    const names = await readdir(dir).catch(() => [] as string[])
    const kept: Array<{ name: string, mtimeMs: number, size: number }> = []
    for (const name of names) {
      count(await removeIf(name, (st) => {
        if (st.mtimeMs < o.beforeMs) return false
        kept.push({ name, mtimeMs: st.mtimeMs, size: st.size })
        return true
      }))
    }
    // over the size cap: the oldest first (a peer buying many big outputs must not fill the disk for a week)
    let total = kept.reduce((n, f) => n + f.size, 0)
    for (const f of kept.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
      if (total <= o.maxBytes) break
      if (f.mtimeMs >= o.keepAfterMs) break
      const size = await removeIf(f.name, (st) => st.mtimeMs >= o.keepAfterMs)
      count(size)
      if (size !== undefined) total -= size
    }
    return removed
  }

  return {
    pruneOutputs,
    get,
    put: putPublic,
    has: (cid) => publicBlocks.has(cid) || opts.store.getReceipt(cid) !== undefined,
    putPublic,
    putOutput
  }
}
