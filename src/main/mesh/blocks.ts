/**
 * Block protocol `/icn/mesh/blocks/0.1.0` (profile 4.3): one request frame `{"cid"}`, one answer
 * frame `{"ok": true, "data"}` or `{"ok": false, "error": "NotFound"}`. The receiver verifies the
 * bytes against the CID before using or storing them.
 */
import { lpStream } from '@libp2p/utils'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { cidMatchesBytes, isValidCid } from '../../shared/protocol/index.js'
import { MeshError } from './errors.js'
import { abortError, decodeBlockAnswer, decodeBlockRequest, encodeBlockAnswer, encodeBlockRequest, timeoutSignal } from './frame.js'

import type { Logger } from '../log/index.js'

export const BLOCK_PROTOCOL = '/icn/mesh/blocks/0.1.0'
const MAX_REQUEST_BYTES = 4096
/** CBOR overhead of the answer map around the data bytes. */
const ANSWER_OVERHEAD = 64

/**
 * Where served blocks come from. `get` receives the requester's PeerId so the owner can apply
 * access rules (a job's input only to its executor, its output only to its originator).
 */
export interface BlockStore {
  get(cid: string, requesterPeerId: string): Promise<Uint8Array | undefined> | Uint8Array | undefined
  put(cid: string, bytes: Uint8Array): Promise<void> | void
  has?(cid: string): Promise<boolean> | boolean
}

/** An in-memory block store; every block is public. `put` verifies the CID. */
export class MemoryBlockStore implements BlockStore {
  private readonly blocks = new Map<string, Uint8Array>()
  get (cid: string): Uint8Array | undefined { return this.blocks.get(cid) }
  has (cid: string): boolean { return this.blocks.has(cid) }
  put (cid: string, bytes: Uint8Array): void {
    if (!cidMatchesBytes(cid, bytes)) throw new MeshError('CidMismatch', `bytes do not hash to ${cid}`)
    this.blocks.set(cid, bytes)
  }
  get size (): number { return this.blocks.size }
}

/** Handles one inbound block request stream. */
export async function serveBlock (
  stream: Stream, connection: Connection, store: BlockStore, maxBlockBytes: number, readTimeoutMs: number,
  onServed: (e: { cid: string, peerId: string, found: boolean }) => void, log?: Logger
): Promise<void> {
  const peerId = connection.remotePeer.toString()
  const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES })
  const signal = AbortSignal.timeout(readTimeoutMs)
  try {
    const req = await lp.read({ signal })
    let cid: string
    try {
      cid = decodeBlockRequest(req.subarray())
    } catch {
      await lp.write(encodeBlockAnswer({ ok: false, error: 'Malformed' }), { signal })
      await stream.close({ signal })
      return
    }
    let data: Uint8Array | undefined
    if (isValidCid(cid)) {
      try {
        data = await store.get(cid, peerId)
      } catch (err) {
        log?.warn({ err, cid, peer: peerId }, 'reading a block to serve failed; answering NotFound')
        data = undefined
      }
    }
    if (data !== undefined && data.byteLength > maxBlockBytes) data = undefined
    onServed({ cid, peerId, found: data !== undefined })
    const answer = data === undefined ? encodeBlockAnswer({ ok: false, error: 'NotFound' }) : encodeBlockAnswer({ ok: true, data })
    await lp.write(answer, { signal: AbortSignal.timeout(readTimeoutMs + Math.ceil(answer.byteLength / 1024)) })
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

/** Outcome of asking one peer for one block. */
export type BlockFetchResult =
  | { ok: true, data: Uint8Array }
  | { ok: false, error: 'NotFound' | 'CidMismatch' | 'TooLarge' | 'Transport' | 'BadAnswer' | string, message: string }

export type OpenStream = (peerId: PeerId, protocol: string, signal: AbortSignal) => Promise<Stream>

/** Asks one peer for `cid`; verifies the hash. Throws only on abort/timeout of `signal`. */
export async function requestBlock (
  open: OpenStream, peerId: PeerId, cid: string, maxBytes: number, timeoutMs: number, userSignal?: AbortSignal, log?: Logger
): Promise<BlockFetchResult> {
  const signal = timeoutSignal(timeoutMs, userSignal)
  let stream: Stream | undefined
  try {
    stream = await open(peerId, BLOCK_PROTOCOL, signal)
    const lp = lpStream(stream, { maxDataLength: maxBytes + ANSWER_OVERHEAD, maxBufferSize: maxBytes + ANSWER_OVERHEAD + 16 })
    await lp.write(encodeBlockRequest(cid), { signal })
    const answer = decodeBlockAnswer((await lp.read({ signal })).subarray(), maxBytes + ANSWER_OVERHEAD)
    await stream.close({ signal }).catch((err: unknown) => { log?.debug({ err, cid }, 'closing a block stream after its answer failed') })
    if (!answer.ok) return { ok: false, error: answer.error, message: `peer answered ${answer.error}` }
    if (answer.data.byteLength > maxBytes) return { ok: false, error: 'TooLarge', message: `block of ${answer.data.byteLength} bytes exceeds ${maxBytes}` }
    if (!cidMatchesBytes(cid, answer.data)) return { ok: false, error: 'CidMismatch', message: `bytes from ${peerId.toString()} do not hash to ${cid}` }
    return { ok: true, data: answer.data }
  } catch (err) {
    stream?.abort(err instanceof Error ? err : new Error(String(err)))
    if (userSignal?.aborted === true) throw abortError(userSignal, `fetching ${cid}`)
    const e = err as Error
    if (e.name === 'InvalidDataLengthError' || e.name === 'InvalidDataLengthLengthError' || e.name === 'StreamBufferError') return { ok: false, error: 'TooLarge', message: e.message }
    if (err instanceof MeshError) return { ok: false, error: err.code, message: err.message }
    if (signal.aborted) return { ok: false, error: 'Timeout', message: `no answer from ${peerId.toString()} within ${timeoutMs} ms` }
    return { ok: false, error: 'Transport', message: e.message }
  }
}
