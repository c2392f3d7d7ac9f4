/** Timestamps and durations of wire profile section 5. */
import { ProtocolError } from './errors.js'

const TS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/

/** RFC 3339 UTC with `Z` and exactly three fractional digits, e.g. 2026-11-23T21:40:00.123Z. */
export function formatTimestamp (ms: number): string {
  return new Date(ms).toISOString()
}

/** Parses an RFC 3339 UTC timestamp (0–9 fraction digits, `Z` only). Returns epoch ms. Throws ProtocolError(Malformed). */
let lastText = ''
let lastValue = 0
export function parseTimestamp (s: string): number {
  // validation parses each message's timestamp twice (schema, freshness): remember the last one
  if (s === lastText) return lastValue
  const t = parseTimestampUncached(s)
  lastText = s
  lastValue = t
  return t
}

function parseTimestampUncached (s: string): number {
  const m = typeof s === 'string' ? TS.exec(s) : null
  if (m === null) throw new ProtocolError('Malformed', `bad timestamp ${JSON.stringify(String(s).slice(0, 40))}: want RFC 3339 UTC like 2026-11-23T21:40:00.123Z`)
  const [, y, mo, d, h, mi, sec, frac] = m
  const year = Number(y); const month = Number(mo); const day = Number(d)
  const hour = Number(h); const minute = Number(mi); const second = Number(sec)
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3))
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  const back = new Date(t)
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || back.getUTCDate() !== day || back.getUTCMonth() !== month - 1 || back.getUTCFullYear() !== year) {
    throw new ProtocolError('Malformed', `bad timestamp ${s}: out-of-range field`)
  }
  return t
}

const DUR = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,3}))?S)?)?$/

/**
 * Parses an ISO 8601 duration limited to weeks, days, hours, minutes and seconds (years and months have
 * no fixed length and are refused), e.g. PT30S, PT1M30.5S, P1D. Returns milliseconds. Throws ProtocolError(Malformed).
 */
export function parseDuration (s: string): number {
  const m = typeof s === 'string' && s.length <= 64 ? DUR.exec(s) : null
  if (m === null || s === 'P' || s.endsWith('T')) throw new ProtocolError('Malformed', `bad duration ${JSON.stringify(String(s).slice(0, 40))}: want ISO 8601 like PT30S`)
  const [, w, d, h, mi, sec, frac] = m
  const n = (x: string | undefined): number => x === undefined ? 0 : Number(x)
  const ms = (((n(w) * 7 + n(d)) * 24 + n(h)) * 60 + n(mi)) * 60_000 + n(sec) * 1000 + (frac === undefined ? 0 : Number(frac.padEnd(3, '0')))
  if (!Number.isSafeInteger(ms)) throw new ProtocolError('Malformed', `duration ${s} is too long`)
  return ms
}

/** Formats milliseconds as an ISO 8601 duration (PT…S). */
export function formatDuration (ms: number): string {
  if (ms % 1000 === 0) return `PT${ms / 1000}S`
  return `PT${(ms / 1000).toFixed(3).replace(/0+$/, '')}S`
}
