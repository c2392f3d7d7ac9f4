/** Resource quantities of wire profile section 6.1. */
import { ProtocolError } from './errors.js'
import type { ResourceMap } from './types.js'

export interface ParsedResources {
  /** cores (may be fractional) */
  cpu?: number
  ramBytes?: number
  diskBytes?: number
  /** GPU resource name → count */
  gpus: Record<string, number>
}

const CPU = /^(?:0|[1-9]\d{0,5})(?:\.\d{1,3})?c$/
const RAM = /^([1-9]\d{0,11})(MiB|GiB)$/
const DISK = /^([1-9]\d{0,9})GiB$/
const COUNT = /^[1-9]\d{0,5}$/
const GPU_NAME = /^GPU_[A-Z0-9_]+$/

export function parseCpu (s: string): number {
  if (!CPU.test(s)) throw new ProtocolError('Malformed', `bad CPU quantity ${JSON.stringify(s)}: want a positive number of cores like "4c" or "0.5c"`)
  const n = Number(s.slice(0, -1))
  if (!(n > 0)) throw new ProtocolError('Malformed', `bad CPU quantity ${JSON.stringify(s)}: must be positive`)
  return n
}

/** "512MiB" / "8GiB" → bytes. */
export function parseBytesQuantity (s: string): number {
  const m = RAM.exec(s)
  if (m === null) throw new ProtocolError('Malformed', `bad byte quantity ${JSON.stringify(s)}: want "<n>MiB" or "<n>GiB"`)
  return Number(m[1]) * (m[2] === 'GiB' ? 1024 ** 3 : 1024 ** 2)
}

export function parseResources (map: ResourceMap): ParsedResources {
  const out: ParsedResources = { gpus: {} }
  for (const [key, value] of Object.entries(map)) {
    if (typeof value !== 'string') throw new ProtocolError('Malformed', `resource ${key} must be a string quantity`)
    if (key === 'CPU') out.cpu = parseCpu(value)
    else if (key === 'RAM') out.ramBytes = parseBytesQuantity(value)
    else if (key === 'DISK') {
      const m = DISK.exec(value)
      if (m === null) throw new ProtocolError('Malformed', `bad DISK quantity ${JSON.stringify(value)}: want "<n>GiB"`)
      out.diskBytes = Number(m[1]) * 1024 ** 3
    } else if (key.startsWith('GPU_')) {
      if (!GPU_NAME.test(key)) throw new ProtocolError('Malformed', `bad GPU resource name ${JSON.stringify(key)}`)
      if (!COUNT.test(value)) throw new ProtocolError('Malformed', `bad GPU count ${JSON.stringify(value)} for ${key}: want a positive integer`)
      out.gpus[key] = Number(value)
    }
    // unknown keys are ignored (profile 6.1)
  }
  return out
}

/** GPU resource name per profile 6.1: uppercase, non-alphanumerics → "_". */
export function gpuResourceName (vendor: string, model: string): string {
  const norm = (s: string): string => s.toUpperCase().replace(/[^A-Z0-9]/g, '_')
  return `GPU_${norm(vendor)}_${norm(model)}`
}

export function formatCpu (cores: number): string {
  return `${Math.round(cores * 1000) / 1000}c`
}

/** Bytes → "<n>MiB" (rounded down, at least 1). */
export function formatRam (bytes: number): string {
  const mib = Math.max(1, Math.floor(bytes / (1024 * 1024)))
  return mib % 1024 === 0 ? `${mib / 1024}GiB` : `${mib}MiB`
}

export function formatDisk (bytes: number): string {
  return `${Math.max(1, Math.floor(bytes / 1024 ** 3))}GiB`
}
