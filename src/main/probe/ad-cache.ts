/** Cache of other nodes' capability ads by DID: the newest `timestamp` wins. */
import { parseTimestamp, type CapabilityAdvertisementV1 } from '../../shared/protocol/index.js'

export interface CachedAd {
  ad: CapabilityAdvertisementV1
  /** the ad's own timestamp (ms) */
  timestamp: number
  receivedAt: number
}

export interface AdCacheOptions {
  /** Evict the oldest entries past this many DIDs (default 10 000). */
  maxEntries?: number
  /** `prune()` drops ads older than this (default 10 minutes: ten missed refreshes). */
  maxAgeMs?: number
  now?: () => number
}

export interface AdCache {
  /** Stores the ad if it is newer than the one held for its DID; returns whether it was stored. */
  put(ad: CapabilityAdvertisementV1): boolean
  get(did: string): CachedAd | undefined
  list(): CachedAd[]
  /** Drops stale ads; returns how many. */
  prune(): number
  readonly size: number
}

export function createAdCache (opts: AdCacheOptions = {}): AdCache {
  const maxEntries = opts.maxEntries ?? 10_000
  const maxAge = opts.maxAgeMs ?? 600_000
  const now = opts.now ?? Date.now
  const map = new Map<string, CachedAd>()
  return {
    put (ad) {
      const ts = parseTimestamp(ad.timestamp)
      const held = map.get(ad.node_did)
      if (held !== undefined && held.timestamp >= ts) return false
      map.delete(ad.node_did) // re-insert: Map order = least recently updated first
      map.set(ad.node_did, { ad, timestamp: ts, receivedAt: now() })
      while (map.size > maxEntries) {
        const oldest = map.keys().next()
        if (oldest.done === true) break
        map.delete(oldest.value)
      }
      return true
    },
    get: (did) => map.get(did),
    list: () => [...map.values()].sort((a, b) => b.timestamp - a.timestamp),
    prune () {
      const cutoff = now() - maxAge
      let n = 0
      for (const [did, e] of map) if (e.timestamp < cutoff) { map.delete(did); n++ }
      return n
    },
    get size () { return map.size }
  }
}
