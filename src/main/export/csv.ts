/** CSV (RFC 4180) for the period exports: comma-separated, CRLF lines, fields quoted when needed. */

/** A field, quoted when it holds a comma, quote, CR or LF; a leading =, +, - or @ is prefixed with ' (no formula injection in spreadsheets). */
export function csvField (v: string | number | bigint | null | undefined): string {
  if (v === null || v === undefined) return ''
  let s = String(v)
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function toCsv (header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | bigint | null | undefined>>): string {
  return [header.map(csvField).join(','), ...rows.map((r) => r.map(csvField).join(','))].join('\r\n') + '\r\n'
}

/** "2026-11-01" of an epoch ms in UTC (file names). */
export function isoDay (ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}
