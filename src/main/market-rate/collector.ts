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
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseTimestamp, peerIdFromDid, verifyReceiptBlock } from '../../shared/protocol/index.js'
import type { MeshNode } from '../mesh/index.js'
import { noLogger, type Logger } from '../log/index.js'

export interface MarketSample {
  receiptCid: string
  executorDid: string
  originatorDid: string
  price: string
  fuelUsed: string
  /** epoch ms of the receipt's finished_at */
  finishedAt: number
}

export interface MarketRateStats {
  heard: number
  fetched: number
  rejected: number
  /** announcements dropped by the bounds (queue full, rate, duplicates, our own) */
  skipped: number
  lastError: string | null
}

export interface MarketRateCollectorOptions {
  node: Pick<MeshNode, 'events' | 'getReceipt' | 'fetchBlock'>
  /** Our DID: our own receipts are not "the market". */
  ownDid: string
  /** Where samples persist (`market-rate.json`); none: memory only. */
  dataDir?: string
  log?: Logger
  now?: () => number
  /** Samples kept (newest), default 2000. */
  maxSamples?: number
  /** Receipt fetches started per minute, default 30. */
  fetchesPerMinute?: number
  /** Announcements waiting to be fetched, default 100 (more are dropped). */
  maxQueue?: number
  /** Largest receipt block accepted, default 64 KiB (real ones are < 1 KiB). */
  maxBlockBytes?: number
  /** Per-fetch timeout, default 8 s. */
  fetchTimeoutMs?: number
  /** Samples older than this are dropped, default 30 days. */
  maxAgeMs?: number
}

export interface MarketRateCollector {
  /** Samples finished at or after `sinceMs`, newest first. */
  samples(sinceMs?: number): MarketSample[]
  stats(): MarketRateStats
  /**
   * Which executor announced a receipt for this job (heard on the receipts topic, any executor but us):
   * for a job we bid on and did not get, it says who did — the bid was lost. Unverified (it is the
   * announcement's word); the last 10 000 jobs are remembered.
   */
  ranBy(announcementId: string): string | undefined
  /** Adds a verified receipt block directly (tests, or receipts learnt another way); returns whether it counted. */
  addReceipt(bytes: Uint8Array, expected?: { cid?: string, executorDid?: string, announcementId?: string }): boolean
  /** Resolves when the fetch queue is empty (tests). */
  idle(): Promise<void>
  close(): Promise<void>
}

const FILE = 'market-rate.json'

export function createMarketRateCollector (o: MarketRateCollectorOptions): MarketRateCollector {
  const now = o.now ?? Date.now
  const log = (o.log ?? noLogger).child({ sub: 'market' })
  const maxSamples = o.maxSamples ?? 2000
  const perMinute = o.fetchesPerMinute ?? 30
  const maxQueue = o.maxQueue ?? 100
  const maxBytes = o.maxBlockBytes ?? 64 * 1024
  const timeoutMs = o.fetchTimeoutMs ?? 8000
  const maxAge = o.maxAgeMs ?? 30 * 86_400_000
  const samples = new Map<string, MarketSample>()
  const seen = new Set<string>()
  const ran = new Map<string, string>()
  const queue: Array<{ cid: string, executorDid: string, announcementId: string }> = []
  const stats: MarketRateStats = { heard: 0, fetched: 0, rejected: 0, skipped: 0, lastError: null }
  const starts: number[] = []
  let closed = false
  let running = false
  let idleWaiters: Array<() => void> = []
  const abort = new AbortController()
  let saveTimer: NodeJS.Timeout | undefined
  let loaded: Promise<void> = Promise.resolve()

  const remember = (cid: string): void => {
    seen.add(cid)
    if (seen.size > 20_000) seen.delete(seen.values().next().value as string)
  }

  const prune = (): void => {
    const cutoff = now() - maxAge
    for (const [k, s] of samples) if (s.finishedAt < cutoff) samples.delete(k)
    if (samples.size > maxSamples) {
      const sorted = [...samples.values()].sort((a, b) => a.finishedAt - b.finishedAt)
      for (const s of sorted.slice(0, samples.size - maxSamples)) samples.delete(s.receiptCid)
    }
  }

  const scheduleSave = (): void => {
    if (o.dataDir === undefined || closed || saveTimer !== undefined) return
    saveTimer = setTimeout(() => { saveTimer = undefined; void save() }, 5000)
    saveTimer.unref()
  }
  const save = async (): Promise<void> => {
    if (o.dataDir === undefined) return
    const path = join(o.dataDir, FILE)
    try {
      await writeFile(`${path}.tmp`, JSON.stringify({ version: 1, samples: [...samples.values()] }) + '\n', { mode: 0o600 })
      await rename(`${path}.tmp`, path)
    } catch (err) {
      log.warn({ err }, 'market rate samples not saved')
    }
  }

  if (o.dataDir !== undefined) {
    const path = join(o.dataDir, FILE)
    loaded = readFile(path, 'utf8').then((text) => {
      const j = JSON.parse(text) as { samples?: unknown }
      if (!Array.isArray(j.samples)) return
      for (const s of j.samples as MarketSample[]) {
        if (typeof s?.receiptCid === 'string' && typeof s.price === 'string' && typeof s.fuelUsed === 'string' && typeof s.finishedAt === 'number' && /^\d+$/.test(s.price) && /^\d+$/.test(s.fuelUsed)) {
          samples.set(s.receiptCid, s)
          remember(s.receiptCid)
        }
      }
      prune()
    }).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err }, 'market rate samples unreadable; starting empty')
    })
  }

  const addReceipt: MarketRateCollector['addReceipt'] = (bytes, expected = {}) => {
    if (bytes.length > maxBytes) { stats.rejected++; stats.lastError = `receipt of ${bytes.length} bytes is larger than ${maxBytes}`; return false }
    const v = verifyReceiptBlock(bytes, expected.cid)
    if (!v.ok) { stats.rejected++; stats.lastError = `${v.reason}: ${v.detail}`; return false }
    const r = v.receipt
    if ((expected.executorDid !== undefined && r.executor_did !== expected.executorDid) || (expected.announcementId !== undefined && r.announcement_id !== expected.announcementId)) {
      stats.rejected++
      stats.lastError = `receipt ${v.cid} is not the announced executor's receipt for ${expected.announcementId ?? 'that job'}`
      return false
    }
    remember(v.cid)
    if (r.status !== 'CompletedSuccessfully' || r.price === undefined || BigInt(r.price) === 0n || BigInt(r.fuel_used) === 0n) return false
    let finishedAt: number
    try { finishedAt = parseTimestamp(r.finished_at) } catch { return false }
    if (finishedAt > now() + 300_000 || finishedAt < now() - maxAge) return false
    samples.set(v.cid, { receiptCid: v.cid, executorDid: r.executor_did, originatorDid: r.originator_did, price: String(r.price), fuelUsed: String(r.fuel_used), finishedAt })
    prune()
    scheduleSave()
    return true
  }

  const fetchOne = async (job: { cid: string, executorDid: string, announcementId: string }): Promise<void> => {
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)])
    let bytes: Uint8Array | undefined
    try {
      bytes = await o.node.getReceipt(job.cid, { signal })
    } catch (err) {
      if (closed) return
      stats.lastError = err instanceof Error ? err.message : String(err)
    }
    if (bytes === undefined && !closed) {
      try {
        bytes = await o.node.fetchBlock(job.cid, { from: peerIdFromDid(job.executorDid), providers: false, maxBytes, timeoutMs, store: false, signal: AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]) })
      } catch (err) {
        if (closed) return
        stats.lastError = err instanceof Error ? err.message : String(err)
        log.debug({ cid: job.cid, err }, 'public receipt not fetched')
        return
      }
    }
    if (bytes === undefined) return
    stats.fetched++
    addReceipt(bytes, { cid: job.cid, executorDid: job.executorDid, announcementId: job.announcementId })
  }

  const pump = async (): Promise<void> => {
    if (running) return
    running = true
    try {
      while (!closed && queue.length > 0) {
        const t = now()
        while (starts.length > 0 && (starts[0] as number) <= t - 60_000) starts.shift()
        if (starts.length >= perMinute) {
          await new Promise((resolve) => { const tm = setTimeout(resolve, Math.max(50, (starts[0] as number) + 60_000 - t)); tm.unref(); abort.signal.addEventListener('abort', () => { clearTimeout(tm); resolve(undefined) }, { once: true }) })
          continue
        }
        starts.push(t)
        const job = queue.shift()
        if (job !== undefined) await fetchOne(job)
      }
    } finally {
      running = false
      const w = idleWaiters
      idleWaiters = []
      for (const f of w) f()
    }
  }

  const off = o.node.events.on('message:received', (e) => {
    if (closed || e.message.variant !== 'ExecutionReceiptAvailableV1') return
    const b = e.message.body
    stats.heard++
    if (b.executor_did !== o.ownDid && e.message.signer === b.executor_did) {
      ran.set(b.announcement_id, b.executor_did)
      if (ran.size > 10_000) ran.delete(ran.keys().next().value as string)
    }
    if (b.executor_did === o.ownDid || seen.has(b.receipt_cid) || queue.some((q) => q.cid === b.receipt_cid)) { stats.skipped++; return }
    if (queue.length >= maxQueue) { stats.skipped++; return }
    queue.push({ cid: b.receipt_cid, executorDid: b.executor_did, announcementId: b.announcement_id })
    void loaded.then(pump)
  })

  return {
    samples (sinceMs = 0) {
      return [...samples.values()].filter((s) => s.finishedAt >= sinceMs).sort((a, b) => b.finishedAt - a.finishedAt)
    },
    stats: () => ({ ...stats }),
    ranBy: (id) => ran.get(id),
    addReceipt,
    async idle () {
      await loaded
      if (!running && queue.length === 0) return
      await new Promise<void>((resolve) => { idleWaiters.push(resolve) })
    },
    async close () {
      if (closed) return
      closed = true
      off()
      abort.abort()
      if (saveTimer !== undefined) { clearTimeout(saveTimer); saveTimer = undefined }
      await loaded
      if (o.dataDir !== undefined && samples.size > 0) await save()
    }
  }
}
