/**
 * Reputation of executors from OUR OWN history as an originator (no global reputation in V1).
 *
 *   reputation = round(100 × completed / (completed + failed)), DEFAULT_REPUTATION (50) for a stranger.
 *
 * "completed": the executor returned a receipt that verified — whatever its status, when the failure
 * was the job's own doing (FuelExhausted, Trap, InvalidModule, MemoryLimit, OutputLimit, Timeout).
 * "failed": it went silent after accepting an assignment, its receipt did not verify, no receipt
 * arrived in time, or its verified receipt says InternalError / FetchFailed / CidMismatch / Cancelled.
 * A refused assignment counts for nothing (an executor may be busy).
 *
 * Kept in the store's settings table under `originator.executor_history` (one JSON object), so the
 * history survives restarts of a data dir; without a store it lives in memory.
 */
import type { JsonValue, Store } from '../store/index.js'
import { DEFAULT_REPUTATION } from './select.js'

export const HISTORY_SETTING = 'originator.executor_history'

export interface ExecutorHistory { completed: number, failed: number }

export interface ReputationBook {
  /** 0–100, or undefined for an executor we have no history with. */
  get(did: string): number | undefined
  history(did: string): ExecutorHistory | undefined
  record(did: string, outcome: 'completed' | 'failed'): void
}

function parse (v: JsonValue | undefined): Map<string, ExecutorHistory> {
  const out = new Map<string, ExecutorHistory>()
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) return out
  for (const [did, h] of Object.entries(v)) {
    if (h === null || typeof h !== 'object' || Array.isArray(h)) continue
    const completed = Number(h.completed)
    const failed = Number(h.failed)
    if (Number.isSafeInteger(completed) && Number.isSafeInteger(failed) && completed >= 0 && failed >= 0) out.set(did, { completed, failed })
  }
  return out
}

export function reputationFrom (h: ExecutorHistory | undefined): number | undefined {
  if (h === undefined || h.completed + h.failed === 0) return undefined
  return Math.round((100 * h.completed) / (h.completed + h.failed))
}

export function createReputationBook (store?: Store): ReputationBook {
  const book = parse(store?.getSetting(HISTORY_SETTING))
  const save = (): void => {
    if (store === undefined) return
    const obj: { [k: string]: JsonValue } = {}
    for (const [did, h] of book) obj[did] = { completed: h.completed, failed: h.failed }
    store.setSetting(HISTORY_SETTING, obj)
  }
  return {
    get: (did) => reputationFrom(book.get(did)),
    history: (did) => book.get(did),
    record (did, outcome) {
      const h = book.get(did) ?? { completed: 0, failed: 0 }
      h[outcome]++
      book.set(did, h)
      save()
    }
  }
}

export { DEFAULT_REPUTATION }
