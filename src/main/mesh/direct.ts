/**
 * Direct protocol `/icn/mesh/protocol/0.1.0` (profile 4.2): one stream per message, one
 * length-prefixed frame each way. The listener answers `{"ok": true}` or
 * `{"ok": false, "error": <ReasonCode>, "message": <text>}`.
 */
import { lpStream } from '@libp2p/utils'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { ReasonCode } from '../../shared/protocol/index.js'
import { MeshError } from './errors.js'
import { abortError, decodeDirectAnswer, encodeDirectAnswer, timeoutSignal, varint } from './frame.js'
import type { DirectAnswer } from './frame.js'

import type { Logger } from '../log/index.js'

export const DIRECT_PROTOCOL = '/icn/mesh/protocol/0.1.0'
const MAX_ANSWER_BYTES = 64 * 1024

/** Decides the answer to one inbound frame. */
export type DirectProcessor = (frame: Uint8Array, remotePeerId: string) => Promise<DirectAnswer>

function refuse (error: ReasonCode, message: string): DirectAnswer {
  return { ok: false, error, message }
}

/** Handles one inbound direct-message stream. */
export async function serveDirect (
  stream: Stream, connection: Connection, maxFrameBytes: number, readTimeoutMs: number, process: DirectProcessor
): Promise<void> {
  const remotePeerId = connection.remotePeer.toString()
  // Buffer at most one frame (+ its length prefix): a larger frame is refused from its header.
  const lp = lpStream(stream, { maxDataLength: maxFrameBytes, maxBufferSize: maxFrameBytes + 16 })
  const signal = AbortSignal.timeout(readTimeoutMs)
  let answer: DirectAnswer
  let tooLarge = false
  try {
    const frame = await lp.read({ signal })
    answer = await process(frame.subarray(), remotePeerId)
  } catch (err) {
    const name = (err as Error).name
    if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') {
      tooLarge = true
      answer = refuse('TooLarge', `frame exceeds ${maxFrameBytes} bytes`)
      // stop buffering the rest of the oversized frame
      lp.unwrap()
    } else {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      return
    }
  }
  try {
    const bytes = encodeDirectAnswer(answer)
    if (tooLarge) {
      stream.send(new Uint8Array([...varint(bytes.byteLength), ...bytes]))
      await stream.close({ signal: AbortSignal.timeout(readTimeoutMs) })
      // the remote may still be writing the oversized frame: drop it
      stream.abort(new Error('frame too large'))
      return
    }
    await lp.write(bytes, { signal: AbortSignal.timeout(readTimeoutMs) })
    await stream.close({ signal: AbortSignal.timeout(readTimeoutMs) })
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

export type OpenStream = (peerId: PeerId, protocol: string, signal: AbortSignal) => Promise<Stream>

export interface SendDirectOptions {
  signal?: AbortSignal
  /** Per-attempt timeout (ms). */
  timeoutMs: number
  /** Transport attempts (profile: up to 3). */
  attempts: number
  /** First backoff delay (ms), doubled each retry. */
  backoffMs: number
  log?: Logger
}

class TransportError extends Error {
  override name = 'TransportError'
}

async function exchange (open: OpenStream, peerId: PeerId, frame: Uint8Array, signal: AbortSignal, log?: Logger): Promise<DirectAnswer> {
  let stream: Stream
  try {
    stream = await open(peerId, DIRECT_PROTOCOL, signal)
  } catch (err) {
    throw new TransportError((err as Error).message, { cause: err })
  }
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_ANSWER_BYTES })
    // Write and read concurrently: a listener may answer (TooLarge) before reading everything.
    let writeDone = false
    const written = lp.write(frame, { signal }).then(() => { writeDone = true })
    // an answer can come before the whole frame is written (a refusal): the write then fails, as expected
    written.catch((err: unknown) => { log?.debug({ err, peer: peerId.toString() }, 'direct frame write ended early') })
    let raw
    try {
      raw = await lp.read({ signal })
    } catch (err) {
      throw new TransportError((err as Error).message, { cause: err })
    }
    const answer = decodeDirectAnswer(raw.subarray())
    if (writeDone) {
      await stream.close({ signal }).catch(() => { stream.abort(new Error('closing after answer')) })
    } else {
      // answered before our frame was fully written (refused): drop the rest
      stream.abort(new Error('answered before the frame was written'))
    }
    return answer
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}

/** Sends one frame; retries only on transport errors, never after an answer. */
export async function sendDirectFrame (open: OpenStream, peerId: PeerId, frame: Uint8Array, o: SendDirectOptions): Promise<DirectAnswer> {
  let lastError: unknown
  for (let attempt = 0; attempt < o.attempts; attempt++) {
    o.signal?.throwIfAborted()
    if (attempt > 0) {
      await delay(o.backoffMs * 2 ** (attempt - 1), o.signal)
    }
    const signal = timeoutSignal(o.timeoutMs, o.signal)
    try {
      return await exchange(open, peerId, frame, signal, o.log)
    } catch (err) {
      if (o.signal?.aborted === true) throw abortError(o.signal, 'direct message')
      if (err instanceof TransportError || signal.aborted) {
        lastError = signal.aborted ? abortError(signal, 'direct message') : err
        continue
      }
      throw err
    }
  }
  const cause = lastError as Error | undefined
  if (cause instanceof MeshError && cause.code === 'Timeout') throw new MeshError('Timeout', `direct message to ${peerId.toString()} timed out ${o.attempts} times`, { cause })
  throw new MeshError('Transport', `direct message to ${peerId.toString()} failed after ${o.attempts} attempts: ${cause?.message ?? 'unknown error'}`, { cause })
}

async function delay (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(t); reject(abortError(signal as AbortSignal, 'direct message')) }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
