/**
 * Interactive bytes (a job's stdin or stdout) as direct messages: chunks that arrive while a message
 * is on its way, or sooner than `minIntervalMs` after the last one went out, are coalesced into the
 * next message (at most `maxBytes` each). One message in flight, at most 1000 / minIntervalMs per
 * second, so a program printing a line per millisecond, or a script feeding one, stays inside what
 * the receiver accepts from a job's counterpart (direct-budget.ts). The first chunk after a quiet
 * spell goes out at once: typing is not delayed.
 */
/** The pause between two interactive messages of one job (≤ 50 per second per direction). */
export const INTERACTIVE_MIN_INTERVAL_MS = 20

export interface ChunkPacerOptions {
  maxBytes: number
  minIntervalMs: number
  /** bytes queued beyond which `ready()` waits (the source is read no faster than it is sent) */
  highWaterBytes?: number
  send: (data: Uint8Array) => Promise<void>
  now?: () => number
}

export interface ChunkPacer {
  /** Queues bytes (ignored once a send failed). */
  push(data: Uint8Array): void
  /** Resolves once fewer than highWaterBytes are queued; rejects with the send error. */
  ready(): Promise<void>
  /** Resolves once everything pushed has been sent; rejects with the send error. */
  drain(): Promise<void>
}

export function createChunkPacer (o: ChunkPacerOptions): ChunkPacer {
  const now = o.now ?? Date.now
  const highWater = o.highWaterBytes ?? 1024 * 1024
  const queue: Uint8Array[] = []
  let queued = 0
  let lastSentAt = -Infinity
  let running: Promise<void> | undefined
  let failure: { err: unknown } | undefined
  const waiters: Array<() => void> = []
  const wake = (): void => { for (const w of waiters.splice(0)) w() }

  const take = (): Uint8Array => {
    const parts: Uint8Array[] = []
    let n = 0
    while (queue.length > 0 && n < o.maxBytes) {
      const head = queue[0] as Uint8Array
      const room = o.maxBytes - n
      if (head.byteLength <= room) {
        parts.push(head)
        n += head.byteLength
        queue.shift()
      } else {
        parts.push(head.subarray(0, room))
        queue[0] = head.subarray(room)
        n += room
      }
    }
    queued -= n
    return parts.length === 1 ? parts[0] as Uint8Array : Buffer.concat(parts)
  }

  const pump = async (): Promise<void> => {
    try {
      while (queue.length > 0) {
        const wait = lastSentAt + o.minIntervalMs - now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        const data = take()
        wake()
        lastSentAt = now()
        await o.send(data)
      }
    } catch (err) {
      failure = { err }
      queue.length = 0
      queued = 0
    } finally {
      running = undefined
      wake()
    }
  }

  const settled = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await new Promise<void>((resolve) => waiters.push(resolve))
    if (failure !== undefined) throw failure.err
  }

  return {
    push (data) {
      if (failure !== undefined || data.byteLength === 0) return
      queue.push(data)
      queued += data.byteLength
      running ??= pump()
    },
    ready: async () => { await settled(() => failure !== undefined || queued < highWater) },
    drain: async () => { await settled(() => failure !== undefined || (queue.length === 0 && running === undefined)) }
  }
}
