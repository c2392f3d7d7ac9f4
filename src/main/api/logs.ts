/**
 * The Logs page over the node's log files (`<dataDir>/logs/mesh-executor.N.log`, JSON lines written
 * by pino, newest file = highest N). Reads backwards from the end in 64 KiB chunks and stops after a
 * bounded number of bytes per call, so a 10 MiB file never goes to the browser (or into memory)
 * whole; the cursor `<file>:<offset>` continues with older lines.
 */
import { open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { LOG_LEVEL_NAMES, type JsonObject, type LogLevelName, type LogLineView, type LogsQuery, type LogsView } from '../../shared/api/index.js'

const FILE_RE = /^mesh-executor\.(\d+)\.log$/
const CHUNK = 64 * 1024
/** At most this many bytes of log are read per call (the next call continues). */
export const MAX_SCAN_BYTES = 4 * 1024 * 1024
/** A line longer than this is cut (its start is kept). */
const MAX_LINE = 16 * 1024

const rank = (l: string): number => { const i = (LOG_LEVEL_NAMES as readonly string[]).indexOf(l); return i < 0 ? 2 : i }

/** Log files newest first. */
export async function logFiles (dir: string): Promise<string[]> {
  let names: string[]
  try { names = await readdir(dir) } catch { return [] }
  return names.map((n) => ({ n, m: FILE_RE.exec(n) })).filter((x) => x.m !== null)
    .sort((a, b) => Number(b.m?.[1]) - Number(a.m?.[1])).map((x) => x.n)
}

export function parseLogLine (line: string): LogLineView | undefined {
  let o: Record<string, unknown>
  try { o = JSON.parse(line) as Record<string, unknown> } catch { return undefined }
  if (o === null || typeof o !== 'object') return undefined
  const { level, time, sub, job, msg, pid: _pid, hostname: _h, ...extra } = o
  const lv = typeof level === 'string' && (LOG_LEVEL_NAMES as readonly string[]).includes(level)
    ? level as LogLevelName
    : typeof level === 'number' ? (LOG_LEVEL_NAMES[Math.max(0, Math.min(5, Math.round(level / 10) - 1))] ?? 'info') : 'info'
  const t = typeof time === 'string' ? Date.parse(time) : typeof time === 'number' ? time : Number.NaN
  return {
    time: Number.isFinite(t) ? t : 0,
    level: lv,
    sub: typeof sub === 'string' ? sub : null,
    job: typeof job === 'string' ? job : null,
    msg: typeof msg === 'string' ? msg : '',
    extra: JSON.parse(JSON.stringify(extra)) as JsonObject
  }
}

function matches (l: LogLineView, q: LogsQuery): boolean {
  if (rank(l.level) < rank(q.level ?? 'info')) return false
  if (q.subs !== undefined && q.subs.length > 0 && (l.sub === null || !q.subs.includes(l.sub))) return false
  if (q.job !== undefined && l.job !== q.job) return false
  if (q.text !== undefined) {
    const t = q.text.toLowerCase()
    if (!l.msg.toLowerCase().includes(t) && !JSON.stringify(l.extra).toLowerCase().includes(t)) return false
  }
  return true
}

/** Newest matching lines first, from `q.before` (or the end of the newest file) backwards. */
export async function tailLogs (dir: string | undefined, q: LogsQuery): Promise<LogsView> {
  const limit = q.limit ?? 200
  if (dir === undefined) return { lines: [], next: null, dir: null, scannedBytes: 0 }
  const files = await logFiles(dir)
  let fi = 0
  let offset: number | undefined
  if (q.before !== undefined) {
    const i = q.before.lastIndexOf(':')
    const name = q.before.slice(0, i)
    fi = files.indexOf(name)
    offset = Number(q.before.slice(i + 1))
    if (fi < 0) return { lines: [], next: null, dir, scannedBytes: 0 }
  }
  const lines: LogLineView[] = []
  let scanned = 0
  const nextFile = (i: number): string | null => { const n = files[i + 1]; return n === undefined ? null : `${n}:${Number.MAX_SAFE_INTEGER}` }
  while (fi < files.length) {
    const name = files[fi] as string
    const path = join(dir, name)
    let size: number
    try { size = (await stat(path)).size } catch { fi++; offset = undefined; continue }
    let pos = Math.min(offset ?? size, size)
    const fh = await open(path, 'r')
    try {
      let rest = ''
      while (pos > 0) {
        const len = Math.min(CHUNK, pos)
        const buf = Buffer.alloc(len)
        await fh.read(buf, 0, len, pos - len)
        pos -= len
        scanned += len
        const text = buf.toString('utf8') + rest
        const parts = text.split('\n')
        // the first part may be the tail of an earlier line: keep it for the next chunk (unless at the file start)
        rest = pos > 0 ? parts.shift() ?? '' : ''
        const base = pos + (pos > 0 ? Buffer.byteLength(rest, 'utf8') + 1 : 0)
        for (let i = parts.length - 1; i >= 0; i--) {
          const raw = parts[i] as string
          if (raw.trim() === '') continue
          const l = parseLogLine(raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw)
          if (l === undefined || !matches(l, q)) continue
          lines.push(l)
          if (lines.length >= limit) {
            // the next call reads what precedes this line's first byte
            const at = base + (i > 0 ? Buffer.byteLength(parts.slice(0, i).join('\n'), 'utf8') + 1 : 0)
            return { lines, next: at > 0 ? `${name}:${Math.min(at, size)}` : nextFile(fi), dir, scannedBytes: scanned }
          }
        }
        if (scanned >= MAX_SCAN_BYTES) {
          const at = pos + Buffer.byteLength(rest, 'utf8')
          return { lines, next: at > 0 ? `${name}:${at}` : nextFile(fi), dir, scannedBytes: scanned }
        }
      }
    } finally {
      await fh.close()
    }
    fi++
    offset = undefined
  }
  return { lines, next: null, dir, scannedBytes: scanned }
}
