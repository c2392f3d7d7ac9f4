/**
 * `<dataDir>/market-rate.json`: the samples survive restarts. Read once at start (a missing file is an
 * empty start, an unreadable one is logged), written 5 s after a change (at most one write pending) and
 * at close; written to a temporary name and renamed, mode 0600.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../log/index.js'
import type { MarketSample } from './types.js'

const FILE = 'market-rate.json'
const SAVE_DELAY_MS = 5000

export interface SampleFile {
  /** The well-formed samples in the file; null when there is none, or it holds no list of samples. */
  load(): Promise<MarketSample[] | null>
  save(samples: MarketSample[]): Promise<void>
  /** Saves `samples()` in 5 s, unless a save is pending already or the file is stopped. */
  schedule(samples: () => MarketSample[]): void
  /** Cancels the pending save; nothing is scheduled after. */
  stop(): void
}

/** Whether a stored sample has the fields and forms a sample needs (price and fuel as decimal strings). */
function wellFormed (s: MarketSample): boolean {
  return typeof s?.receiptCid === 'string' && typeof s.price === 'string' && typeof s.fuelUsed === 'string' && typeof s.finishedAt === 'number' && /^\d+$/.test(s.price) && /^\d+$/.test(s.fuelUsed)
}

export function sampleFile (dataDir: string, log: Logger): SampleFile {
  const path = join(dataDir, FILE)
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const save = async (samples: MarketSample[]): Promise<void> => {
    try {
      await writeFile(`${path}.tmp`, JSON.stringify({ version: 1, samples }) + '\n', { mode: 0o600 })
      await rename(`${path}.tmp`, path)
    } catch (err) {
      log.warn({ err }, 'market rate samples not saved')
    }
  }
  return {
    async load () {
      try {
        const j = JSON.parse(await readFile(path, 'utf8')) as { samples?: unknown }
        if (!Array.isArray(j.samples)) return null
        return (j.samples as MarketSample[]).filter(wellFormed)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err }, 'market rate samples unreadable; starting empty')
        return null
      }
    },
    save,
    schedule (samples) {
      if (stopped || timer !== undefined) return
      timer = setTimeout(() => { timer = undefined; void save(samples()) }, SAVE_DELAY_MS)
      timer.unref()
    },
    stop () {
      stopped = true
      if (timer !== undefined) { clearTimeout(timer); timer = undefined }
    }
  }
}
