/**
 * The bounded fetch queue: at most `maxQueue` announced receipts wait; at most `perMinute` fetches start
 * in any minute (the pump sleeps until the oldest start is a minute old), one at a time, each within
 * `timeoutMs`. A receipt is asked of the DHT/block store first (getReceipt), then of its executor
 * directly (at most `maxBytes`, not stored). Fetching starts once `ready` (the samples file read) resolves.
 */
import { peerIdFromDid } from '../../shared/protocol/index.js'
import type { Logger } from '../log/index.js'
import type { MeshNode } from '../mesh/index.js'
import type { StatsRecorder } from './stats.js'
import type { ReceiptRef } from './types.js'

export interface FetchQueueOptions {
  node: Pick<MeshNode, 'getReceipt' | 'fetchBlock'>
  now: () => number
  log: Logger
  stats: StatsRecorder
  perMinute: number
  maxQueue: number
  maxBytes: number
  timeoutMs: number
  ready: Promise<void>
  /** A fetched block, for verification. */
  onBlock(bytes: Uint8Array, ref: ReceiptRef): void
}

export interface FetchQueue {
  /** Whether this receipt is waiting already. */
  has(cid: string): boolean
  full(): boolean
  push(ref: ReceiptRef): void
  /** Resolves when the queue is empty. */
  idle(): Promise<void>
  /** Stops fetching: the pump ends and fetches under way are aborted. */
  close(): void
}

export function createFetchQueue (o: FetchQueueOptions): FetchQueue {
  const queue: ReceiptRef[] = []
  const starts: number[] = []
  const abort = new AbortController()
  let closed = false
  let running = false
  let idleWaiters: Array<() => void> = []

  const fetchOne = async (ref: ReceiptRef): Promise<void> => {
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(o.timeoutMs)])
    let bytes: Uint8Array | undefined
    try {
      bytes = await o.node.getReceipt(ref.cid, { signal })
    } catch (err) {
      if (closed) return
      o.stats.error(err instanceof Error ? err.message : String(err))
    }
    if (bytes === undefined && !closed) {
      try {
        bytes = await o.node.fetchBlock(ref.cid, { from: peerIdFromDid(ref.executorDid), providers: false, maxBytes: o.maxBytes, timeoutMs: o.timeoutMs, store: false, signal: AbortSignal.any([abort.signal, AbortSignal.timeout(o.timeoutMs)]) })
      } catch (err) {
        if (closed) return
        o.stats.error(err instanceof Error ? err.message : String(err))
        o.log.debug({ cid: ref.cid, err }, 'public receipt not fetched')
        return
      }
    }
    if (bytes === undefined) return
    o.stats.fetched()
    o.onBlock(bytes, ref)
  }

  /** Resolves when a start slot frees up (or at close). */
  const waitForSlot = async (t: number): Promise<void> => {
    await new Promise((resolve) => { const tm = setTimeout(resolve, Math.max(50, (starts[0] as number) + 60_000 - t)); tm.unref(); abort.signal.addEventListener('abort', () => { clearTimeout(tm); resolve(undefined) }, { once: true }) })
  }

  const pump = async (): Promise<void> => {
    if (running) return
    running = true
    try {
      while (!closed && queue.length > 0) {
        const t = o.now()
        while (starts.length > 0 && (starts[0] as number) <= t - 60_000) starts.shift()
        if (starts.length >= o.perMinute) {
          await waitForSlot(t)
          continue
        }
        starts.push(t)
        const ref = queue.shift()
        if (ref !== undefined) await fetchOne(ref)
      }
    } finally {
      running = false
      const w = idleWaiters
      idleWaiters = []
      for (const f of w) f()
    }
  }

  return {
    has: (cid) => queue.some((q) => q.cid === cid),
    full: () => queue.length >= o.maxQueue,
    push (ref) {
      queue.push(ref)
      void o.ready.then(pump)
    },
    async idle () {
      await o.ready
      if (!running && queue.length === 0) return
      await new Promise<void>((resolve) => { idleWaiters.push(resolve) })
    },
    close () {
      closed = true
      abort.abort()
    }
  }
}
