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
 * This corks the socket around the library's own `sendData`, so Node hands everything queued to the
 * kernel in one `writev` when it uncorks. Same bytes, same order, same back-pressure answer; only the
 * syscall count changes. Installed per connection (on `connection:open`) on the connection's own
 * multiaddr connection; one without the expected shape (another transport or version) is left alone.
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
  ma.sendData = function (data) {
    s.cork()
    try {
      return original.call(this, data)
    } finally {
      s.uncork()
    }
  }
  installed.add(ma)
  return true
}
