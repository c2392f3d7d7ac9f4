/**
 * The originator's block store (wire profile 4.3): what a submitting node serves on
 * `/icn/mesh/blocks/0.1.0`.
 *  - a job's module: public (anyone may fetch it);
 *  - a job's input: only to the PeerId of the executor currently assigned to the job. Access follows
 *    the jobs, not the bytes: each assignment grants its executor access once and withdraws it once,
 *    so two jobs with the same input (assigned to the same or different executors) never take each
 *    other's access away;
 *  - anything else, including blocks `put` by fetchBlock (outputs we fetched): NotFound.
 * Pass one to `createMeshNode({ blockStore })` and the same one to `createOriginator({ blocks })`.
 */
import { cidMatchesBytes } from '../../shared/protocol/index.js'
import type { BlockStore } from '../mesh/index.js'
import { InvalidJobError } from './errors.js'

interface Entry {
  bytes: Uint8Array
  /** undefined: public; else each peer's number of live grants (one per job assigned to it) */
  allowed: Map<string, number> | undefined
  /** number of jobs holding this block (the same module may serve several jobs) */
  refs: number
}

export class AccessBlockStore implements BlockStore {
  private readonly blocks = new Map<string, Entry>()
  /** Blocks handed to us by fetchBlock (never served). */
  private readonly fetched = new Map<string, Uint8Array>()

  /** Serves `bytes` to everyone (a module). Reference-counted; undo with `release`. */
  addPublic (cid: string, bytes: Uint8Array): void {
    this.add(cid, bytes, undefined)
  }

  /** Serves `bytes` to nobody until `allow` names a peer (a job input). */
  addPrivate (cid: string, bytes: Uint8Array): void {
    this.add(cid, bytes, new Map())
  }

  private add (cid: string, bytes: Uint8Array, allowed: Map<string, number> | undefined): void {
    if (!cidMatchesBytes(cid, bytes)) throw new InvalidJobError(`block does not hash to ${cid}`)
    const e = this.blocks.get(cid)
    if (e === undefined) {
      this.blocks.set(cid, { bytes, allowed, refs: 1 })
      return
    }
    e.refs++
    // the same bytes public for one job and private for another: public wins (they are identical bytes)
    if (allowed === undefined) e.allowed = undefined
  }

  /** Lets `peerId` fetch the private block `cid` (one grant: pair it with one `revoke`). */
  allow (cid: string, peerId: string): void {
    const allowed = this.blocks.get(cid)?.allowed
    allowed?.set(peerId, (allowed.get(peerId) ?? 0) + 1)
  }

  /** Withdraws one grant of `peerId` to the private block `cid`; access ends with its last grant. */
  revoke (cid: string, peerId: string): void {
    const allowed = this.blocks.get(cid)?.allowed
    const n = allowed?.get(peerId)
    if (allowed === undefined || n === undefined) return
    if (n <= 1) allowed.delete(peerId)
    else allowed.set(peerId, n - 1)
  }

  /** Drops one reference; the block stops being served when none is left. */
  release (cid: string): void {
    const e = this.blocks.get(cid)
    if (e === undefined) return
    if (--e.refs <= 0) this.blocks.delete(cid)
  }

  get (cid: string, requesterPeerId: string): Uint8Array | undefined {
    const e = this.blocks.get(cid)
    if (e === undefined) return undefined
    if (e.allowed !== undefined && !e.allowed.has(requesterPeerId)) return undefined
    return e.bytes
  }

  has (cid: string): boolean {
    return this.blocks.has(cid)
  }

  /** fetchBlock stores verified blocks here; they are kept apart and never served. */
  put (cid: string, bytes: Uint8Array): void {
    if (!cidMatchesBytes(cid, bytes)) throw new InvalidJobError(`block does not hash to ${cid}`)
    if (this.fetched.size >= 64) {
      const first = this.fetched.keys().next().value
      if (first !== undefined) this.fetched.delete(first)
    }
    this.fetched.set(cid, bytes)
  }

  get size (): number { return this.blocks.size }
}
