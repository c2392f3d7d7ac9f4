/**
 * Yamux window updates only when half the receive window has been used, as Hashicorp's yamux
 * (the spec's reference) and go-yamux and rust-yamux send them.
 *
 * @libp2p/yamux (8.x) answers every data frame a stream receives with a window update frame giving
 * the consumed bytes back, however few they were. Our traffic is small messages on short streams
 * (one stream per direct message, gossip RPCs, block requests), so about half of all the frames a
 * node sent were these 12-byte updates, each its own Noise frame to encrypt, write, read, decrypt
 * and parse: in the job round-trip bench 24 of the ~45 socket writes per round and process.
 *
 * Here a stream that is established sends its update once the bytes it has been sent since the last
 * one reach half its current window; before that the sender still has at least half a window (128 KiB
 * at the start) to send into, so no sender is held up. Every other case goes to the library as before:
 * the SYN and ACK updates that open a stream, paused and resumed streams, and the window's growth
 * (the library doubles it when a window's worth arrives within 4 round trips; it now sees
 * half-window steps, which is what Hashicorp's auto-tuning measures too). Installed once, on the
 * stream prototype; a version without these internals is left alone.
 */
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'

interface StreamLike {
  state?: unknown
  recvWindow?: unknown
  recvWindowCapacity?: unknown
}

let installed = false

/** Whether this update can wait: an established stream that has used less than half its window. */
export function updateCanWait (s: StreamLike): boolean {
  if (s.state !== StreamState.Established) return false
  const { recvWindow, recvWindowCapacity } = s
  if (typeof recvWindow !== 'number' || typeof recvWindowCapacity !== 'number') return false
  return recvWindow - recvWindowCapacity < recvWindow / 2
}

/** Installs the threshold; returns whether the pinned stream class has the expected internals. */
export function halfWindowUpdates (): boolean {
  if (installed) return true
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate?: (this: StreamLike) => void }
  const original = proto.sendWindowUpdate
  if (typeof original !== 'function') return false
  proto.sendWindowUpdate = function (this: StreamLike) {
    if (updateCanWait(this)) return
    original.call(this)
  }
  installed = true
  return true
}
