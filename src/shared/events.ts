/**
 * A tiny typed event emitter (`noun:verb` event names). Listeners run synchronously in
 * registration order; a throwing listener is reported on `error:listener` and never breaks
 * the emitter.
 */

export type Listener<T> = (detail: T) => void

export class TypedEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>()

  on<K extends keyof Events> (name: K, fn: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(name, set)
    }
    set.add(fn as Listener<never>)
    return () => { this.off(name, fn) }
  }

  off<K extends keyof Events> (name: K, fn: Listener<Events[K]>): void {
    this.listeners.get(name)?.delete(fn as Listener<never>)
  }

  emit<K extends keyof Events> (name: K, detail: Events[K]): void {
    const set = this.listeners.get(name)
    if (set === undefined) return
    for (const fn of [...set]) {
      try {
        (fn as Listener<Events[K]>)(detail)
      } catch (err) {
        if (name !== 'error:listener') {
          this.emit('error:listener' as K, { event: String(name), error: err } as Events[K])
        }
      }
    }
  }

  /**
   * Resolves with the first event `name` whose detail satisfies `predicate`.
   * Rejects when `signal` aborts (the listener is removed either way).
   */
  async waitFor<K extends keyof Events> (
    name: K,
    options: { signal?: AbortSignal, predicate?: (detail: Events[K]) => boolean } = {}
  ): Promise<Events[K]> {
    const { signal, predicate } = options
    signal?.throwIfAborted()
    return await new Promise<Events[K]>((resolve, reject) => {
      const onAbort = (): void => {
        off()
        reject(signal?.reason ?? new Error('aborted'))
      }
      const off = this.on(name, (detail) => {
        if (predicate !== undefined && !predicate(detail)) return
        off()
        signal?.removeEventListener('abort', onAbort)
        resolve(detail)
      })
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  removeAllListeners (): void {
    this.listeners.clear()
  }
}
