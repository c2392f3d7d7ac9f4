/**
 * Market rate from signed receipts. Every executor announces its finished jobs on the receipts topic
 * (`ExecutionReceiptAvailableV1`, profile 4.1); the receipt itself is public (a DHT record and a block
 * its executor serves). This collector fetches those receipts — bounded in rate, queue, count and
 * bytes — verifies each one completely (verifyReceiptBlock: canonical form, CID, executor signature),
 * and keeps what buyers actually paid: price, fuel used, when. The dashboard turns the samples into a
 * market rate (tokens per million fuel) and a suggested price.
 *
 * Samples are kept in `<dataDir>/market-rate.json` (at most `maxSamples`, the newest), so the rate
 * survives restarts. Nothing here trusts the announcement: a receipt counts only when its block
 * verifies, is signed by the announced executor and is for the announced job.
 *
 * The parts: announcements.ts (receiving), fetch-queue.ts (the bounded fetching), verify.ts, samples.ts
 * (what is kept), sample-file.ts (market-rate.json), stats.ts (the counters); this file wires them.
 */
import { noLogger } from '../log/index.js'
import { listenForReceipts } from './announcements.js'
import { createFetchQueue } from './fetch-queue.js'
import { sampleFile } from './sample-file.js'
import { createSampleSet } from './samples.js'
import { createStats } from './stats.js'
import type { MarketRateCollector, MarketRateCollectorOptions } from './types.js'
import { checkReceipt } from './verify.js'

export type { MarketSample, MarketRateStats, MarketRateCollectorOptions, MarketRateCollector } from './types.js'

export function createMarketRateCollector (o: MarketRateCollectorOptions): MarketRateCollector {
  const now = o.now ?? Date.now
  const log = (o.log ?? noLogger).child({ sub: 'market' })
  const maxBytes = o.maxBlockBytes ?? 64 * 1024
  const maxAgeMs = o.maxAgeMs ?? 30 * 86_400_000
  const samples = createSampleSet({ now, maxSamples: o.maxSamples ?? 2000, maxAgeMs })
  const stats = createStats()
  const file = o.dataDir === undefined ? undefined : sampleFile(o.dataDir, log)
  let closed = false

  const loaded: Promise<void> = file === undefined
    ? Promise.resolve()
    : file.load().then((list) => {
      if (list === null) return
      for (const s of list) { samples.add(s); samples.remember(s.receiptCid) }
      samples.prune()
    })

  const addReceipt: MarketRateCollector['addReceipt'] = (bytes, expected = {}) => {
    const c = checkReceipt(bytes, expected, { maxBytes, maxAgeMs, now })
    if (!c.ok) { stats.rejected(c.error); return false }
    samples.remember(c.cid)
    if (c.sample === null) return false
    samples.add(c.sample)
    samples.prune()
    file?.schedule(() => samples.all())
    return true
  }

  const queue = createFetchQueue({
    node: o.node,
    now,
    log,
    stats,
    perMinute: o.fetchesPerMinute ?? 30,
    maxQueue: o.maxQueue ?? 100,
    maxBytes,
    timeoutMs: o.fetchTimeoutMs ?? 8000,
    ready: loaded,
    onBlock: (bytes, ref) => { addReceipt(bytes, { cid: ref.cid, executorDid: ref.executorDid, announcementId: ref.announcementId }) }
  })
  const listener = listenForReceipts({ events: o.node.events, ownDid: o.ownDid, stats, seen: samples.seen, queue })

  return {
    samples: (sinceMs = 0) => samples.list(sinceMs),
    stats: () => stats.snapshot(),
    ranBy: (id) => listener.ranBy(id),
    addReceipt,
    idle: async () => { await queue.idle() },
    async close () {
      if (closed) return
      closed = true
      listener.off()
      queue.close()
      file?.stop()
      await loaded
      if (file !== undefined && samples.size > 0) await file.save(samples.all())
    }
  }
}
