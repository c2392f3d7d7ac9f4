/** A job in flight at the originator: what its bids, statuses and receipt announcement have told us. */
import type { ExecutionPolicy, P2PJobStatus } from '../../shared/protocol/index.js'
import type { CandidateBid } from './select.js'
import type { OriginatorEvent } from './types.js'

/** Wakes waiters whenever a job's state changes (bids, statuses, receipts). */
export class Notifier {
  private readonly waiters = new Set<() => void>()
  notify (): void {
    const ws = [...this.waiters]
    this.waiters.clear()
    for (const w of ws) w()
  }

  async wait (ms: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    if (ms <= 0) return
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.waiters.delete(done)
        resolve()
      }
      const onAbort = (): void => {
        clearTimeout(timer)
        this.waiters.delete(done)
        reject(signal.reason)
      }
      const timer = setTimeout(done, Math.min(ms, 2_147_000_000))
      this.waiters.add(done)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}

export interface Pending {
  id: string
  wasmCid: string
  inputCid?: string
  interactive: boolean
  policy: ExecutionPolicy
  windowClosesAt: number
  bidGraceMs: number
  bids: CandidateBid[]
  assignee?: CandidateBid
  accepted: boolean
  running: boolean
  lastStatus?: { status: P2PJobStatus, details?: string }
  receiptCid?: string
  outNext: number
  outFinal: boolean
  outChunks: Uint8Array[]
  onOutput?: (chunk: Uint8Array) => void
  notifier: Notifier
  emit: (e: OriginatorEvent) => void
  closed?: Error
  firstBidAt?: number
  acceptedAt?: number
  receiptAvailableAt?: number
}

/**
 * Waits until `cond()` holds (true) or `deadline` passes (false), waking on every change of `p`;
 * throws when the originator closed the job, or `signal` aborts.
 */
export async function until (p: Pending, cond: () => boolean, deadline: number, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    if (p.closed !== undefined) throw p.closed
    if (cond()) return true
    const left = deadline - Date.now()
    if (left <= 0) return false
    await p.notifier.wait(left, signal)
  }
}
