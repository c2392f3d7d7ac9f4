/** Bounded memory of accepted message ids (wire profile section 5): TTL plus a maximum entry count. */
export interface ReplayCacheOptions {
  /** how long an id is remembered; at least the freshness window. Default 6 minutes. */
  ttlMs?: number
  /** most ids remembered; the oldest are forgotten first. Default 100 000. */
  maxEntries?: number
  now?: () => number
}

export class ReplayCache {
  private readonly entries = new Map<string, number>()
  readonly ttlMs: number
  readonly maxEntries: number
  private readonly now: () => number

  constructor (opts: ReplayCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 6 * 60_000
    this.maxEntries = opts.maxEntries ?? 100_000
    this.now = opts.now ?? Date.now
  }

  get size (): number {
    return this.entries.size
  }

  /** True when the key was seen within the TTL (a replay); otherwise records it and returns false. */
  seen (key: string): boolean {
    const now = this.now()
    const at = this.entries.get(key)
    if (at !== undefined && now - at < this.ttlMs) return true
    if (at !== undefined) this.entries.delete(key)
    this.entries.set(key, now)
    this.prune(now)
    return false
  }

  /** True when the key is remembered (does not record it). */
  has (key: string): boolean {
    const at = this.entries.get(key)
    return at !== undefined && this.now() - at < this.ttlMs
  }

  private prune (now: number): void {
    // Map iterates in insertion order, so the oldest entries come first.
    for (const [k, at] of this.entries) {
      if (this.entries.size <= this.maxEntries && now - at < this.ttlMs) break
      this.entries.delete(k)
    }
  }
}
