/**
 * Free space on the data directory's file system, sampled every few seconds (`statfs`, a few µs):
 * the `disk` decision rule and the dashboard's health read it, so a node whose disk fills up stops
 * bidding and says why, instead of accepting jobs it cannot record.
 */
import { statfs } from 'node:fs/promises'

/** Whether an error text says the disk is full (ENOSPC from a file write, SQLite's SQLITE_FULL). */
export const isDiskFullError = (text: string): boolean => /ENOSPC|no space left|disk is full|SQLITE_FULL/i.test(text)

export interface DiskSpaceSamplerOptions {
  dir: string
  /** How often to sample (ms, default 5000). */
  intervalMs?: number
  /** The first value (from the hardware probe), so `current()` answers before the first sample. */
  initial?: number
  /** Each new sample (bytes free to an unprivileged writer). */
  onSample?: (freeBytes: number) => void
}

export interface DiskSpaceSampler {
  /** Bytes free on the data dir's file system at the last sample; undefined when it cannot be read. */
  current(): number | undefined
  /** Samples now (after a write failed with ENOSPC, say). */
  refresh(): Promise<void>
  close(): void
}

export function createDiskSpaceSampler (o: DiskSpaceSamplerOptions): DiskSpaceSampler {
  let free = o.initial
  const refresh = async (): Promise<void> => {
    try {
      const s = await statfs(o.dir)
      free = Number(s.bavail) * Number(s.bsize)
      o.onSample?.(free)
    } catch {
      free = undefined // the dir went away or the mount is gone: unknown, not "plenty"
    }
  }
  const timer = setInterval(() => { void refresh() }, o.intervalMs ?? 5000)
  timer.unref()
  return { current: () => free, refresh, close: () => { clearInterval(timer) } }
}
