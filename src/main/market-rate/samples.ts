/**
 * The samples kept: by receipt CID, at most `maxSamples` (the newest) and none older than `maxAgeMs`;
 * and the receipt CIDs already seen (the last 20 000), so an announcement repeated is not fetched again.
 */
import type { MarketSample } from './types.js'

export interface SampleSet {
  add(s: MarketSample): void
  /** Drops samples too old, then the oldest beyond `maxSamples`. */
  prune(): void
  /** Samples finished at or after `sinceMs`, newest first. */
  list(sinceMs: number): MarketSample[]
  all(): MarketSample[]
  readonly size: number
  remember(cid: string): void
  seen(cid: string): boolean
}

export function createSampleSet (o: { now: () => number, maxSamples: number, maxAgeMs: number }): SampleSet {
  const samples = new Map<string, MarketSample>()
  const seen = new Set<string>()
  return {
    add (s) { samples.set(s.receiptCid, s) },
    prune () {
      const cutoff = o.now() - o.maxAgeMs
      for (const [k, s] of samples) if (s.finishedAt < cutoff) samples.delete(k)
      if (samples.size > o.maxSamples) {
        const sorted = [...samples.values()].sort((a, b) => a.finishedAt - b.finishedAt)
        for (const s of sorted.slice(0, samples.size - o.maxSamples)) samples.delete(s.receiptCid)
      }
    },
    list: (sinceMs) => [...samples.values()].filter((s) => s.finishedAt >= sinceMs).sort((a, b) => b.finishedAt - a.finishedAt),
    all: () => [...samples.values()],
    get size () { return samples.size },
    remember (cid) {
      seen.add(cid)
      if (seen.size > 20_000) seen.delete(seen.values().next().value as string)
    },
    seen: (cid) => seen.has(cid)
  }
}
