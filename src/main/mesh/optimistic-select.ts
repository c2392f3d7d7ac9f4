/**
 * Optimistic multistream-select: a stream of a protocol the peer is known to support starts with
 * the protocol proposal and the first message together, without waiting for the echo.
 * Installed per connection (`optimisticStreams`, on `connection:open`) for our direct and block
 * protocols and the mesh DHT's: each opens one stream per message or query.
 *
 * The pinned js-libp2p (3.x, @libp2p/multistream-select 7.x) always negotiates fully: the dialer
 * writes the multistream header and the protocol, waits for the listener to echo both, and only then
 * may write its message. Its `negotiateFully: false` option is accepted and ignored. Every direct
 * message and block request opens a stream, so each paid an extra round trip before its frame left:
 * in the job round trip that is a bid, an assignment, four statuses sent one after another, a receipt
 * notice and three block fetches; in a DHT query, every hop.
 *
 * go-libp2p and rust-libp2p (`V1Lazy`) do what this does, when identify told them the peer supports
 * the protocol (libp2p/specs#643 describes it): write header, protocol and data at once and check the
 * echo when the answer comes. The bytes on the wire are the same as a full negotiation's; only the
 * dialer's wait goes. Any listener that follows multistream-select, js-libp2p's included, reads the
 * message after its echo (js: `lpStream.unwrap` hands unread bytes back to the stream).
 *
 * The echo is checked before the application sees a byte: the stream's `onData` first consumes
 * exactly the bytes we proposed; anything else (`na`, garbage) aborts the stream with
 * `UnsupportedProtocolError`, and the caller's read fails. The caller always reads its answer before
 * closing, or closes and lets the echo arrive (kad-dht's ADD_PROVIDER), so nothing is left half
 * negotiated. Used only for one protocol at a time, on a connection whose muxer and streams have the
 * expected internals, when the peer store lists the protocol, the peer has not refused it on this
 * connection, and below the protocol's outbound stream limit; otherwise the library's full
 * negotiation runs.
 */
import { UnsupportedProtocolError } from '@libp2p/interface'
import type { Connection, PeerStore, Stream } from '@libp2p/interface'
import { varint } from './frame.js'

export const MULTISTREAM_ID = '/multistream/1.0.0'
/** js-libp2p's default `maxOutboundStreams` per protocol and connection (registrar.js). */
const MAX_OUTBOUND_PER_PROTOCOL = 64

interface DataLike { byteLength: number, subarray: () => Uint8Array }

interface StreamInternals {
  protocol: string
  direction: string
  onData?: (data: DataLike) => void
  abort: (err: Error) => void
}

interface MuxerLike {
  status?: string
  createStream?: (options?: Record<string, unknown>) => Promise<StreamInternals> | StreamInternals
}

/** One length-prefixed multistream line: varint(len) ‖ text ‖ '\n'. */
function line (text: string): Uint8Array {
  const body = new TextEncoder().encode(`${text}\n`)
  return new Uint8Array([...varint(body.byteLength), ...body])
}

/** The proposal we write and, byte for byte, the echo a listener that accepts it answers. */
export function proposal (protocol: string): Uint8Array {
  const a = line(MULTISTREAM_ID)
  const b = line(protocol)
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a)
  out.set(b, a.byteLength)
  return out
}

/**
 * Makes `stream` consume the echo of `expected` before its reader sees anything: bytes that match are
 * dropped, the rest of the chunk that completes the echo passes on, a mismatch aborts the stream.
 */
export function expectEcho (stream: StreamInternals, expected: Uint8Array, protocol: string, onRefused?: () => void): boolean {
  const original = stream.onData
  if (typeof original !== 'function') return false
  let at = 0
  stream.onData = function (data: DataLike) {
    const bytes = data.subarray()
    const n = Math.min(bytes.byteLength, expected.byteLength - at)
    for (let i = 0; i < n; i++) {
      if (bytes[i] !== expected[at + i]) {
        stream.onData = original
        onRefused?.()
        stream.abort(new UnsupportedProtocolError(`the peer did not confirm ${protocol} (optimistic protocol selection)`))
        return
      }
    }
    at += n
    if (at < expected.byteLength) return
    stream.onData = original
    if (bytes.byteLength > n) original.call(this, bytes.subarray(n))
  }
  return true
}

/** The per-protocol outbound limit, looked up as libp2p's `newStream` does (our handler's, the call's, the default). */
function outboundLimit (conn: Connection, protocol: string, requested?: number): number {
  try {
    const registrar = (conn as unknown as { components?: { registrar?: { getHandler: (p: string) => { options?: { maxOutboundStreams?: number } } } } }).components?.registrar
    return registrar?.getHandler(protocol).options?.maxOutboundStreams ?? requested ?? MAX_OUTBOUND_PER_PROTOCOL
  } catch {
    return requested ?? MAX_OUTBOUND_PER_PROTOCOL // no handler of our own for it
  }
}

/**
 * Opens `protocol` on `conn` optimistically; undefined when this connection cannot (unknown
 * internals, muxer not open, at the outbound stream limit): the caller negotiates fully instead.
 * `onRefused` runs when the peer answers anything but the echo (it does not speak the protocol
 * after all).
 */
export async function openOptimistic (conn: Connection, protocol: string, onRefused?: () => void, maxOutboundStreams?: number): Promise<Stream | undefined> {
  const muxer = (conn as unknown as { muxer?: MuxerLike }).muxer
  if (muxer?.status !== 'open' || typeof muxer.createStream !== 'function' || conn.status !== 'open') return undefined
  let open = 0
  for (const s of conn.streams) if (s.direction === 'outbound' && s.protocol === protocol) open++
  if (open >= outboundLimit(conn, protocol, maxOutboundStreams)) return undefined
  const stream = await muxer.createStream({})
  const expected = proposal(protocol)
  if (!expectEcho(stream, expected, protocol, onRefused)) {
    stream.abort(new Error('stream without the expected internals'))
    return undefined
  }
  stream.protocol = protocol
  const s = stream as unknown as Stream
  s.send(expected)
  return s
}

const installed = new WeakSet<object>()

/**
 * Makes `connection.newStream` select `protocols` optimistically where it can (see above); returns
 * whether it is installed (or already was).
 */
export function optimisticStreams (connection: Connection, peerStore: Pick<PeerStore, 'get'>, protocols: ReadonlySet<string>): boolean {
  if (installed.has(connection)) return true
  const original = connection.newStream
  if (typeof original !== 'function' || (connection as unknown as { muxer?: unknown }).muxer === undefined) return false
  const refused = new Set<string>()
  const speaks = async (protocol: string): Promise<boolean> => {
    if (!protocols.has(protocol) || refused.has(protocol)) return false
    try {
      return (await peerStore.get(connection.remotePeer)).protocols.includes(protocol)
    } catch {
      return false
    }
  }
  connection.newStream = async (p, options) => {
    const protocol = typeof p === 'string' ? p : p.length === 1 ? p[0] : undefined
    if (protocol !== undefined && (options?.runOnLimitedConnection === true || connection.limits === undefined) && await speaks(protocol)) {
      options?.signal?.throwIfAborted()
      const s = await openOptimistic(connection, protocol, () => { refused.add(protocol) }, options?.maxOutboundStreams)
      if (s !== undefined) return s
    }
    return await original.call(connection, p, options)
  }
  installed.add(connection)
  return true
}
