#!/usr/bin/env node
// Generates the tray and app icons as PNGs (no image tools needed): a rounded "mesh" node glyph,
// coloured by state. Usage: node assets/icons/generate.mjs
import { deflateSync } from 'node:zlib'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const dir = fileURLToPath(new URL('.', import.meta.url))
const CRC = new Int32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c })
const crc32 = (buf) => { let c = -1; for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ -1) >>> 0 }
function chunk (type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length)
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td))
  return Buffer.concat([len, td, crc])
}
function png (size, pixel) {
  const raw = Buffer.alloc((size * 4 + 1) * size)
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x + 0.5, y + 0.5, size)
      const o = y * (size * 4 + 1) + 1 + x * 4
      raw[o] = r; raw[o + 1] = g; raw[o + 2] = b; raw[o + 3] = a
    }
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}
const COLORS = { idle: [140, 149, 159], bidding: [26, 127, 55], running: [9, 105, 218], paused: [191, 135, 0], error: [207, 34, 46] }
// Glyph: a ring with three satellite dots (a mesh node) — antialiased by distance.
function glyph ([r, g, b], bg) {
  return (x, y, size) => {
    const c = size / 2
    const d = Math.hypot(x - c, y - c) / size
    const cover = (dist, w) => Math.max(0, Math.min(1, (w - dist) * size + 0.5))
    let a = 0
    a = Math.max(a, cover(Math.abs(d - 0.3), 0.075)) // ring
    a = Math.max(a, cover(d, 0.12)) // centre
    for (let k = 0; k < 3; k++) {
      const ang = -Math.PI / 2 + k * 2 * Math.PI / 3
      const sx = c + Math.cos(ang) * 0.3 * size
      const sy = c + Math.sin(ang) * 0.3 * size
      a = Math.max(a, cover(Math.hypot(x - sx, y - sy) / size, 0.11))
    }
    if (bg !== undefined) {
      const inBg = cover(Math.max(Math.abs(x - c), Math.abs(y - c)) / size, 0.46)
      if (a === 0) return [...bg, Math.round(inBg * 255)]
      return [Math.round(r * a + bg[0] * (1 - a)), Math.round(g * a + bg[1] * (1 - a)), Math.round(b * a + bg[2] * (1 - a)), Math.round(Math.max(a, inBg) * 255)]
    }
    return [r, g, b, Math.round(a * 255)]
  }
}
for (const [state, color] of Object.entries(COLORS)) {
  writeFileSync(join(dir, `tray-${state}.png`), png(16, glyph(color)))
  writeFileSync(join(dir, `tray-${state}@2x.png`), png(32, glyph(color)))
}
for (const size of [64, 256, 512]) writeFileSync(join(dir, `app-${size}.png`), png(size, glyph([255, 255, 255], [31, 111, 235])))
writeFileSync(join(dir, 'icon.png'), png(512, glyph([255, 255, 255], [31, 111, 235])))
console.log('icons written to', dir)
