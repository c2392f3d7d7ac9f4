/**
 * When to (re)publish our capability ad (wire profile 4.1): at start, every `intervalMs`
 * (default 60 s), whenever the offer changes, and within `minGapMs` (5 s) after a new peer
 * subscribes to a capabilities topic — never more than once per `minGapMs` for subscriptions.
 * The ad is rebuilt (fresh timestamp and signature) for every publish.
 */
import { TypedEmitter } from '../../shared/events.js'

export interface AdPublisherOptions {
  /** Builds freshly signed ad bytes (e.g. () => buildCapabilityAd({...}).bytes). */
  build: () => Uint8Array
  /** Publishes to the global topic and, when a region applies, the region topic. */
  publish: (bytes: Uint8Array) => Promise<void>
  intervalMs?: number
  minGapMs?: number
  signal?: AbortSignal
}

export interface AdPublisherEvents {
  'ad:published': { reason: PublishReason, bytes: Uint8Array }
  'ad:failed': { reason: PublishReason, error: string }
}
export type PublishReason = 'start' | 'interval' | 'changed' | 'subscriber'

export interface AdPublisher {
  start(): void
  /** The offer (caps, hardware, region, alias) changed: publish now. */
  changed(): void
  /** A peer subscribed to a capabilities topic: publish within minGapMs. */
  peerSubscribed(): void
  stop(): void
  on<K extends keyof AdPublisherEvents>(event: K, listener: (e: AdPublisherEvents[K]) => void): () => void
}

export function createAdPublisher (opts: AdPublisherOptions): AdPublisher {
  const intervalMs = opts.intervalMs ?? 60_000
  const minGapMs = opts.minGapMs ?? 5_000
  const emitter = new TypedEmitter<AdPublisherEvents>()
  let interval: NodeJS.Timeout | undefined
  let pendingSub: NodeJS.Timeout | undefined
  let lastPublish = -Infinity
  let stopped = false

  const publishNow = (reason: PublishReason): void => {
    if (stopped) return
    lastPublish = performance.now()
    let bytes: Uint8Array
    try {
      bytes = opts.build()
    } catch (err) {
      emitter.emit('ad:failed', { reason, error: String(err) })
      return
    }
    opts.publish(bytes).then(
      () => { emitter.emit('ad:published', { reason, bytes }) },
      (err: unknown) => { emitter.emit('ad:failed', { reason, error: err instanceof Error ? err.message : String(err) }) }
    )
  }
  const stop = (): void => {
    stopped = true
    if (interval !== undefined) clearInterval(interval)
    if (pendingSub !== undefined) clearTimeout(pendingSub)
    interval = undefined
    pendingSub = undefined
  }
  opts.signal?.addEventListener('abort', stop, { once: true })

  return {
    start () {
      if (stopped || interval !== undefined) return
      publishNow('start')
      interval = setInterval(() => { publishNow('interval') }, intervalMs)
    },
    changed () { publishNow('changed') },
    peerSubscribed () {
      if (stopped || pendingSub !== undefined) return
      const wait = Math.max(0, lastPublish + minGapMs - performance.now())
      pendingSub = setTimeout(() => { pendingSub = undefined; publishNow('subscriber') }, wait)
    },
    stop,
    on: (event, listener) => emitter.on(event, listener)
  }
}
