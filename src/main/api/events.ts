/** The live event hub the daemon emits into and every UI transport subscribes to. */
import type { ApiEvent, ApiEventName, ApiEvents } from '../../shared/api/index.js'

export interface ApiEventHub {
  emit<K extends ApiEventName>(type: K, payload: ApiEvents[K]): void
  /** Returns an unsubscribe function. A throwing listener never breaks the others. */
  subscribe(listener: (event: ApiEvent) => void): () => void
  listenerCount(): number
}

export function createApiEventHub (opts: { onListenerError?: (err: unknown) => void } = {}): ApiEventHub {
  const listeners = new Set<(event: ApiEvent) => void>()
  return {
    emit (type, payload) {
      const event = { type, payload } as ApiEvent
      for (const fn of [...listeners]) {
        try { fn(event) } catch (err) { opts.onListenerError?.(err) }
      }
    },
    subscribe (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    listenerCount: () => listeners.size
  }
}
