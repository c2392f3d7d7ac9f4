/**
 * What every method handler of the API service shares: the deps with their defaults filled in, the
 * read queries over the store, and the small lookups several method groups use.
 */
import { verifyReceiptBlock, type ReceiptResult } from '../../shared/protocol/index.js'
import { ApiError, unknownReachability, type ReachabilityView } from '../../shared/api/index.js'
import { summarizeMarket, type MarketSample } from '../market-rate/index.js'
import type { ApiDeps, ApiStore } from './deps.js'
import { createReadQueries, type ReadQueries } from './queries.js'

export const HOUR = 3_600_000
export const DAY = 86_400_000

export interface ApiContext {
  deps: ApiDeps
  store: ApiStore
  q: ReadQueries
  now: () => number
  /** Local time zone for "today" (minutes east of UTC). */
  tz: () => number
  verify: (bytes: Uint8Array, expectedCid?: string) => ReceiptResult
  /** Another executor announced a receipt for this job. */
  ranBy: (id: string) => string | undefined
  /** Live fuel of the running jobs, by announcement id. */
  liveFuel(): Map<string, { fuel: bigint, startedAt: number | undefined }>
  /** The fuel used according to the job's last receipt, or null. */
  fuelFromReceipts(id: string): bigint | null
  reachability(): ReachabilityView
  /** The raw block of a stored receipt (NotFound when there is none). */
  receiptBytes(cid: string): Uint8Array
  /** What buyers paid over the last `days` days (default 7), from the market-rate source. */
  marketSummary(t: number, days?: number): { summary: ReturnType<typeof summarizeMarket>, samples: MarketSample[] }
}

export function createApiContext (deps: ApiDeps): ApiContext {
  const { store } = deps
  return {
    deps,
    store,
    q: createReadQueries(store.db),
    now: deps.now ?? Date.now,
    tz: deps.tzOffsetMinutes ?? (() => -new Date().getTimezoneOffset()),
    verify: deps.verifyReceipt ?? verifyReceiptBlock,
    ranBy: (id) => deps.marketRate?.ranBy?.(id),
    liveFuel () {
      const m = new Map<string, { fuel: bigint, startedAt: number | undefined }>()
      for (const r of deps.node.status().running) m.set(r.announcementId, { fuel: BigInt(r.fuelUsed), startedAt: r.startedAt })
      return m
    },
    fuelFromReceipts (id) {
      const r = store.receiptsForJob(id)
      const last = r[r.length - 1]
      return last === undefined ? null : last.fuelUsed
    },
    reachability () {
      const rt = deps.node.status()
      return rt.reachability ?? unknownReachability(rt.listenAddrs)
    },
    receiptBytes (cid) {
      const r = store.getReceipt(cid)
      if (r === undefined) throw new ApiError('NotFound', `no receipt ${cid}`)
      return r.bytes
    },
    marketSummary (t, days = 7) {
      const samples = deps.marketRate?.samples(t - days * DAY) ?? []
      return { summary: summarizeMarket(samples), samples }
    }
  }
}
