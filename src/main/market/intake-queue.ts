/**
 * The announcement intake queue: gossip hands us announcements as fast as the network delivers
 * them; evaluating one (policy, store, signing a bid) costs about a millisecond. Done inline, a flood
 * keeps the event loop busy for seconds and everything else waits behind it — the stream that would
 * carry a real buyer's bid, the dashboard, job statuses. So announcements are queued and evaluated in
 * short slices (`sliceMs`), yielding to I/O between slices; announcements from originators we hold a
 * connection to go first; the queue is bounded and drops the oldest low-priority ones (counted).
 */

export interface IntakeQueueOptions<T> {
  /** Evaluates one item (synchronously up to its first await). Errors go to `onError`. */
  process: (item: T) => Promise<unknown> | undefined
  /** True for items that go first (e.g. the originator is connected to us). */
  urgent: (item: T) => boolean
  /** Most items waiting (default 10 000); beyond, the oldest non-urgent one is dropped. */
  maxQueued?: number
  /** Longest run of evaluations before yielding to I/O (ms, default 5). */
  sliceMs?: number
  onError?: (err: unknown) => void
  onDrop?: (item: T) => void
}

export interface IntakeQueueStats { queued: number, processed: number, dropped: number }

export interface IntakeQueue<T> {
  push(item: T): void
  stats(): IntakeQueueStats
  /** Drops everything waiting (shutdown). */
  clear(): void
}

export function createIntakeQueue<T> (o: IntakeQueueOptions<T>): IntakeQueue<T> {
  const maxQueued = o.maxQueued ?? 10_000
  const sliceMs = o.sliceMs ?? 5
  const urgent: T[] = []
  const normal: T[] = []
  let uHead = 0
  let nHead = 0
  let processed = 0
  let dropped = 0
  let scheduled = false

  const size = (): number => urgent.length - uHead + normal.length - nHead
  const compact = (): void => {
    if (uHead > 1024 && uHead * 2 > urgent.length) { urgent.splice(0, uHead); uHead = 0 }
    if (nHead > 1024 && nHead * 2 > normal.length) { normal.splice(0, nHead); nHead = 0 }
  }

  function next (): T | undefined {
    if (uHead < urgent.length) return urgent[uHead++]
    if (nHead < normal.length) return normal[nHead++]
    return undefined
  }

  function run (): void {
    scheduled = false
    const until = performance.now() + sliceMs
    while (performance.now() < until) {
      const item = next()
      if (item === undefined) break
      processed++
      try {
        o.process(item)?.catch((err: unknown) => o.onError?.(err))
      } catch (err) {
        o.onError?.(err)
      }
    }
    compact()
    if (size() > 0) schedule()
  }

  function schedule (): void {
    if (scheduled) return
    scheduled = true
    setImmediate(run)
  }

  return {
    push (item) {
      if (o.urgent(item)) urgent.push(item)
      else normal.push(item)
      while (size() > maxQueued) {
        const victim = nHead < normal.length ? normal[nHead++] : urgent[uHead++]
        dropped++
        if (victim !== undefined) o.onDrop?.(victim)
      }
      schedule()
    },
    stats: () => ({ queued: size(), processed, dropped }),
    clear () {
      dropped += size()
      urgent.length = 0
      normal.length = 0
      uHead = 0
      nHead = 0
    }
  }
}
