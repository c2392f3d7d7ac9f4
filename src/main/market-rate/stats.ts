/** The collector's counters: announcements heard, receipts fetched, rejected, skipped, and the last error. */
import type { MarketRateStats } from './types.js'

export interface StatsRecorder {
  heard(): void
  fetched(): void
  /** An announcement dropped by the bounds (ours, a duplicate, the queue full). */
  skipped(): void
  /** A receipt that does not verify, or is not what was announced. */
  rejected(why: string): void
  /** A fetch that failed. */
  error(why: string): void
  snapshot(): MarketRateStats
}

export function createStats (): StatsRecorder {
  const s: MarketRateStats = { heard: 0, fetched: 0, rejected: 0, skipped: 0, lastError: null }
  return {
    heard () { s.heard++ },
    fetched () { s.fetched++ },
    skipped () { s.skipped++ },
    rejected (why) { s.rejected++; s.lastError = why },
    error (why) { s.lastError = why },
    snapshot: () => ({ ...s })
  }
}
