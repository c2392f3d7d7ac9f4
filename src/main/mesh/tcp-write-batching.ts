/**
 * One TCP write per send instead of one per chunk.
 *
 * @libp2p/tcp (11.x) hands its send queue to `socket.write` chunk by chunk, and every Noise frame is
 * at least two chunks (its 2-byte length, then the ciphertext). With Nagle off (libp2p's default)
 * each chunk became its own syscall and its own TCP segment, so every gossip copy, stream header and
 * direct message cost the sender two writes and the receiver two reads, one of them a 2-byte frame
 * prefix that Noise's decoder waits on by throwing and catching a RangeError. Socket writes were the
 * largest single item (8–9 % of the CPU) in the 30-node scale bench's worker profiles.
 *
 * This corks the socket at the first `sendData` of a tick and uncorks it on the next tick, so Node
 * hands everything the node queued in that stretch of JavaScript (a gossip copy to every mesh peer on
 * the connection, a stream's header and its first message, a frame and the window update behind it)
 * to the kernel in one `writev`. Same bytes, same order, same back-pressure answer (the library's
 * `socket.write` still reports the buffered length); nothing waits on a timer, only on the end of
 * the current burst of JavaScript; only the syscall count changes. In the job round-trip bench this
 * halved the socket writes per process against corking each send alone (about 6 000 to about 3 000
 * over 65 rounds), with no latency change measured. Installed per connection (on `connection:open`)
 * on the connection's own multiaddr connection; one without the expected shape (another transport or
 * version) is left alone.
 */

interface SocketLike {
  cork: () => void
  uncork: () => void
}

interface MaConnLike {
  socket?: Partial<SocketLike>
  sendData?: (this: MaConnLike, data: unknown) => unknown
}

const installed = new WeakSet<object>()

/** Batches the writes of `connection`'s TCP socket; returns whether it could (or already had). */
export function batchTcpWrites (connection: unknown): boolean {
  const ma = (connection as { maConn?: MaConnLike } | undefined)?.maConn
  if (ma === undefined || ma === null) return false
  if (installed.has(ma)) return true
  const socket = ma.socket
  const original = ma.sendData
  if (typeof original !== 'function' || typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return false
  const s = socket as SocketLike
  let corked = false
  const release = (): void => { corked = false; s.uncork() }
  ma.sendData = function (data) {
    if (!corked) { corked = true; s.cork(); process.nextTick(release) }
    return original.call(this, data)
  }
  installed.add(ma)
  return true
}
