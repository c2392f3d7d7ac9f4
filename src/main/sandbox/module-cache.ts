/**
 * The app's side of the compiled-module cache (docs/SANDBOX.md, "Compiled-module cache"). The host
 * reads and writes the `.cwasm` files; the app owns the HMAC secret they are signed with (so a file
 * planted by anyone else is never deserialized) and keeps the directory under its size budget.
 */
import { readFileSync, writeFileSync, readdirSync, statSync, unlinkSync, mkdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { Logger } from '../log/index.js'

/** What a RUN request carries about the cache. */
export interface ModuleCache {
  dir: string
  secret: Uint8Array
}

export interface CacheSweeper {
  /** Soon (50 ms, once at a time) deletes stale temporaries and the oldest files over the budget. */
  sweep (): void
  /** Cancels a pending sweep and stops sweeping. */
  close (): void
}

export const DEFAULT_CACHE_MAX_BYTES = 512 * 1024 * 1024

/** The cache in `dir`, or none (no `dir`, or its key cannot be made: jobs then compile every time). */
export function openModuleCache (dir: string | undefined, log: Logger): ModuleCache | undefined {
  if (dir === undefined) return undefined
  try {
    return { dir, secret: readCacheSecret(dir) }
  } catch (e) {
    // no disk cache then (jobs still run, compiling every time)
    log.warn({ err: e }, 'compiled-module cache disabled (jobs compile every time)')
    if (process.env.MESH_SANDBOX_DEBUG !== undefined) console.error(`sandbox cache disabled: ${e instanceof Error ? e.message : String(e)}`)
    return undefined
  }
}

/** `<dir>/.key`: 32 random bytes, created once (exclusively, so concurrent apps agree on one). */
function readCacheSecret (dir: string): Uint8Array {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, '.key')
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const k = readFileSync(file)
      if (k.length === 32) return new Uint8Array(k)
      unlinkSync(file) // wrong size: a foreign or damaged key; start over (old files then fail their HMAC)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    try {
      writeFileSync(file, randomBytes(32), { flag: 'wx', mode: 0o600 })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
  }
  throw new Error(`cannot create the cache key in ${dir}`)
}

/** Sweeps run off the job's path (a timer) and never keep the app alive. */
export function createCacheSweeper (cache: ModuleCache | undefined, maxBytes: number, log: Logger): CacheSweeper {
  let closed = false
  let sweeping: NodeJS.Timeout | undefined
  return {
    sweep () {
      if (cache === undefined || sweeping !== undefined || closed) return
      const dir = cache.dir
      sweeping = setTimeout(() => {
        try {
          sweepCacheDir(dir, maxBytes, log)
        } catch (err) {
          // the directory went away (e.g. a test's data dir was removed): nothing to sweep
          log.debug({ err }, 'cache sweep skipped')
        } finally {
          sweeping = undefined
        }
      }, 50)
      sweeping.unref()
    },
    close () {
      closed = true
      clearTimeout(sweeping)
    }
  }
}

/** Throws when the directory cannot be listed; a file that vanishes meanwhile is skipped. */
function sweepCacheDir (dir: string, maxBytes: number, log: Logger): void {
  const now = Date.now()
  const files = readdirSync(dir).flatMap((name) => {
    try {
      const st = statSync(join(dir, name))
      return st.isFile() ? [{ name, size: st.size, mtime: st.mtimeMs }] : []
    } catch { return [] }
  })
  // temporary files of writers that died
  for (const f of files) if (f.name.endsWith('.tmp') && now - f.mtime > 10 * 60_000) { try { unlinkSync(join(dir, f.name)) } catch (err) { log.debug({ err, file: f.name }, 'cache sweep: temp file already gone') } }
  // oldest first (a cache hit refreshes a file's mtime)
  const entries = files.filter((f) => f.name.endsWith('.cwasm')).sort((a, b) => a.mtime - b.mtime)
  let total = entries.reduce((s, f) => s + f.size, 0)
  for (const f of entries) {
    if (total <= maxBytes) break
    try { unlinkSync(join(dir, f.name)) } catch (err) { log.debug({ err, file: f.name }, 'cache sweep: file already gone') }
    total -= f.size
  }
}
