/**
 * The decision rules by id, in the order they are evaluated, and what each means in plain words.
 * `RULE_TEXT` is keyed by every id: a rule without its text does not compile.
 */

/** Rules the policy engine evaluates on every announcement, in this order. */
export const EVALUATED_RULES = [
  'auto_bid', 'once', 'paused', 'schedule', 'idle', 'battery', 'thermal', 'disk', 'bidding_window', 'originator', 'originator_record',
  'region', 'qos', 'interactive', 'runtime', 'timeout', 'fuel', 'resources', 'relay', 'concurrency', 'price'
] as const
export type EvaluatedRuleId = (typeof EVALUATED_RULES)[number]

/**
 * The free space on the data directory's disk below which no bid goes out (rule `disk`): room for one
 * job's output (16 MiB at most by default), its log and receipt rows, the database's write-ahead log and
 * the compiled-module cache. Below it a won job could not be recorded durably.
 */
export const DISK_RESERVE_BYTES = 64 * 1024 * 1024

/**
 * Rules recorded without evaluating the announcement: `intake` (its originator floods us),
 * `unreachable` (our last bid to its originator could not be delivered).
 */
export const RECORDED_RULES = ['intake', 'unreachable'] as const

/**
 * An executor's default per-originator intake (rule `intake`): `burst` announcements at once, then
 * `perSecond`. An originator uses it to tell its user why a long burst of jobs got no bids.
 */
export const DEFAULT_INTAKE = { burst: 60, perSecond: 2 } as const

/**
 * Token buckets per key, bounded in number (idle, full buckets are forgotten first): the executor's
 * intake per originator, and the originator's own estimate of it (the NoBids hint). True: admitted.
 */
export function createIntakeLimiter (o: { burst: number, perSecond: number }, clock: () => number): (key: string) => boolean {
  const buckets = new Map<string, { tokens: number, at: number }>()
  return (key) => {
    const now = clock()
    const b = buckets.get(key) ?? { tokens: o.burst, at: now }
    // a clock that steps back (NTP) refills nothing, rather than draining the bucket for as long
    b.tokens = Math.min(o.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * o.perSecond)
    b.at = Math.max(b.at, now)
    buckets.delete(key)
    buckets.set(key, b)
    if (buckets.size > 50_000) {
      const oldest = buckets.keys().next().value
      if (oldest !== undefined) buckets.delete(oldest)
    }
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }
}
export type RuleId = EvaluatedRuleId | (typeof RECORDED_RULES)[number]

/** Why a job was skipped, for counters like "43 skipped: job pays less than our price". */
export const RULE_TEXT: Record<RuleId, string> = {
  auto_bid: 'auto-bid is off',
  once: 'already bid',
  paused: 'bidding paused',
  schedule: 'outside the schedule',
  idle: 'machine not idle',
  battery: 'on battery power',
  thermal: 'CPU too hot',
  disk: 'disk almost full',
  bidding_window: 'bidding window closed',
  originator: 'originator not allowed',
  originator_record: 'originator record too poor',
  region: 'region not accepted',
  qos: 'QoS profile not accepted',
  interactive: 'interactive jobs not allowed',
  runtime: 'runtime not available',
  timeout: 'timeout above our max',
  fuel: 'fuel above our max',
  resources: 'not enough resources',
  relay: 'blocks too large for the relay path',
  concurrency: 'all job slots busy',
  price: 'job pays less than our price',
  intake: 'originator sent too many at once',
  unreachable: 'originator unreachable'
}

export function isRuleId (s: string): s is RuleId {
  return s in RULE_TEXT
}
