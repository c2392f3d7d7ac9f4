/**
 * Noise's frame decoder without an exception per received chunk.
 *
 * @libp2p/noise (17.x) reads frames with @libp2p/utils' `LengthPrefixedDecoder` and a 2-byte length
 * decoder that throws a RangeError when fewer than 2 bytes are buffered; the decoder loop catches it
 * to stop. After a chunk's last whole frame the buffer is empty, so every chunk received on every
 * connection built, threw and caught an Error: 2–4 % of a scale-bench worker's CPU
 * (`uint16BEDecode` self time) at 30 and 100 nodes.
 *
 * This gives each decoder a length decoder that answers 0 for an empty buffer: the loop then needs
 * `encodingLength(0)` bytes it does not have and stops, exactly as after the exception. A partial
 * prefix (1 byte buffered) still goes to the original and throws. Only decoders whose
 * `encodingLength(0)` is positive are changed (otherwise a 0 would be a whole empty frame).
 * Installed once, on the prototype; a version without these internals is left alone.
 */
import { LengthPrefixedDecoder } from '@libp2p/utils'

interface DecoderLike {
  lengthDecoder?: (buf: { byteLength: number }) => number
  encodingLength?: (n: number) => number
}

const quiet = new WeakSet<object>()
let installed = false

/** Installs the shortcut; returns whether the pinned decoder has the expected internals. */
export function quietEmptyFrameReads (): boolean {
  if (installed) return true
  const proto = LengthPrefixedDecoder.prototype as unknown as { decode?: (this: DecoderLike, buf: unknown) => unknown }
  const decode = proto.decode
  if (typeof decode !== 'function') return false
  proto.decode = function (this: DecoderLike, buf: unknown) {
    if (!quiet.has(this)) {
      quiet.add(this)
      const ld = this.lengthDecoder
      if (typeof ld === 'function' && typeof this.encodingLength === 'function' && this.encodingLength(0) > 0) {
        this.lengthDecoder = (b) => b.byteLength === 0 ? 0 : ld(b)
      }
    }
    return decode.call(this, buf)
  }
  installed = true
  return true
}
