/** Per-key token bucket: `burst` tokens, refilled at `perSecond` tokens per second. */
export interface RateLimitOptions {
  /** Sustained rate, tokens per second. */
  perSecond: number
  /** Bucket size (messages allowed in a burst). */
  burst: number
}

export interface RateLimiter {
  /**
   * Takes one token for `key`; false when the bucket is empty. `limits` replaces the limiter's
   * options for this take (a key whose allowance changes over time: the bucket refills at the
   * rate in force and holds at most the burst in force).
   */
  take(key: string, limits?: RateLimitOptions): boolean
  /** Forgets `key`'s bucket (its next take starts from a full one). */
  forget(key: string): void
  clear(): void
}

export function createRateLimiter (options: RateLimitOptions, now: () => number = Date.now, maxKeys = 10_000): RateLimiter {
  const buckets = new Map<string, { tokens: number, at: number }>()
  return {
    take (key, limits = options) {
      const t = now()
      let b = buckets.get(key)
      if (b === undefined) {
        if (buckets.size >= maxKeys) {
          // drop the oldest entry (Map keeps insertion order)
          const first = buckets.keys().next()
          if (first.done !== true) buckets.delete(first.value)
        }
        b = { tokens: limits.burst, at: t }
        buckets.set(key, b)
      } else {
        const elapsed = Math.max(0, t - b.at) / 1000
        b.tokens = Math.min(limits.burst, b.tokens + elapsed * limits.perSecond)
        b.at = t
      }
      if (b.tokens < 1) return false
      b.tokens -= 1
      return true
    },
    forget (key) { buckets.delete(key) },
    clear () { buckets.clear() }
  }
}
