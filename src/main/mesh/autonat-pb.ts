/**
 * The AutoNAT v1 message (libp2p specs, autonat-v1.md), hand-coded protobuf:
 *
 *   message Message { optional MessageType type = 1; optional Dial dial = 2; optional DialResponse dialResponse = 3; }
 *   message Dial { optional PeerInfo peer = 1; }
 *   message PeerInfo { optional bytes id = 1; repeated bytes addrs = 2; }
 *   message DialResponse { optional ResponseStatus status = 1; optional string statusText = 2; optional bytes addr = 3; }
 */
import { varint } from './frame.js'

export const AUTONAT_PROTOCOL = '/libp2p/autonat/1.0.0'

export const MessageType = { DIAL: 0, DIAL_RESPONSE: 1 } as const
export const ResponseStatus = { OK: 0, E_DIAL_ERROR: 100, E_DIAL_REFUSED: 101, E_BAD_REQUEST: 200, E_INTERNAL_ERROR: 300 } as const

export interface AutonatMessage {
  type?: number
  dial?: { peer?: { id?: Uint8Array, addrs: Uint8Array[] } }
  dialResponse?: { status?: number, statusText?: string, addr?: Uint8Array }
}

export class AutonatMessageError extends Error {
  override name = 'AutonatMessageError'
  readonly code = 'Malformed'
}


class Writer {
  private readonly parts: number[] = []
  uint (field: number, v: number): this { this.parts.push(...varint(field << 3), ...varint(v)); return this }
  bytes (field: number, b: Uint8Array): this { this.parts.push(...varint((field << 3) | 2), ...varint(b.length), ...b); return this }
  finish (): Uint8Array { return Uint8Array.from(this.parts) }
}

interface Field { field: number, wire: number, value: number, bytes: Uint8Array }

function readFields (buf: Uint8Array): Field[] {
  const fields: Field[] = []
  let i = 0
  const readVarint = (): number => {
    let result = 0
    let mul = 1
    for (let n = 0; n < 8; n++) {
      if (i >= buf.length) throw new AutonatMessageError('truncated varint')
      const b = buf[i++] as number
      result += (b & 0x7f) * mul
      if ((b & 0x80) === 0) return result
      mul *= 128
    }
    throw new AutonatMessageError('varint too long')
  }
  while (i < buf.length) {
    const tag = readVarint()
    const field = Math.floor(tag / 8)
    const wire = tag & 7
    if (wire === 0) fields.push({ field, wire, value: readVarint(), bytes: new Uint8Array(0) })
    else if (wire === 2) {
      const len = readVarint()
      if (i + len > buf.length) throw new AutonatMessageError('truncated field')
      fields.push({ field, wire, value: len, bytes: buf.subarray(i, i + len) })
      i += len
    } else if (wire === 1) i += 8
    else if (wire === 5) i += 4
    else throw new AutonatMessageError(`unsupported wire type ${wire}`)
    if (i > buf.length) throw new AutonatMessageError('truncated field')
  }
  return fields
}

export function encodeAutonat (m: AutonatMessage): Uint8Array {
  const w = new Writer()
  if (m.type !== undefined) w.uint(1, m.type)
  if (m.dial !== undefined) {
    const d = new Writer()
    if (m.dial.peer !== undefined) {
      const p = new Writer()
      if (m.dial.peer.id !== undefined) p.bytes(1, m.dial.peer.id)
      for (const a of m.dial.peer.addrs) p.bytes(2, a)
      d.bytes(1, p.finish())
    }
    w.bytes(2, d.finish())
  }
  if (m.dialResponse !== undefined) {
    const r = new Writer()
    if (m.dialResponse.status !== undefined) r.uint(1, m.dialResponse.status)
    if (m.dialResponse.statusText !== undefined) r.bytes(2, new TextEncoder().encode(m.dialResponse.statusText))
    if (m.dialResponse.addr !== undefined) r.bytes(3, m.dialResponse.addr)
    w.bytes(3, r.finish())
  }
  return w.finish()
}

export function decodeAutonat (buf: Uint8Array): AutonatMessage {
  const m: AutonatMessage = {}
  for (const f of readFields(buf)) {
    if (f.field === 1 && f.wire === 0) m.type = f.value
    else if (f.field === 2 && f.wire === 2) {
      m.dial = {}
      for (const d of readFields(f.bytes)) {
        if (d.field !== 1 || d.wire !== 2) continue
        const peer: { id?: Uint8Array, addrs: Uint8Array[] } = { addrs: [] }
        for (const p of readFields(d.bytes)) {
          if (p.field === 1 && p.wire === 2) peer.id = p.bytes
          else if (p.field === 2 && p.wire === 2) peer.addrs.push(p.bytes)
        }
        m.dial.peer = peer
      }
    } else if (f.field === 3 && f.wire === 2) {
      const r: NonNullable<AutonatMessage['dialResponse']> = {}
      for (const d of readFields(f.bytes)) {
        if (d.field === 1 && d.wire === 0) r.status = d.value
        else if (d.field === 2 && d.wire === 2) r.statusText = new TextDecoder().decode(d.bytes)
        else if (d.field === 3 && d.wire === 2) r.addr = d.bytes
      }
      m.dialResponse = r
    }
  }
  return m
}
