/**
 * Daemon events → API events: decisions, job state, progress (kept as live fuel) and results,
 * policy changes, errors, reachability and hole punches, stopping; each change of what the status
 * shows is followed by a `status:changed`.
 */
import type { Daemon } from '../daemon/index.js'
import type { ReachabilityView } from '../../shared/api/index.js'
import type { ApiEventHub } from './events.js'
import type { DaemonLiveState } from './daemon-runtime.js'

export interface EventBridgeDeps {
  events: ApiEventHub
  live: DaemonLiveState
  now: () => number
  /** Emits the current status as `status:changed`. */
  emitStatus(): void
  reachability(): ReachabilityView
}

/** Subscribes to the daemon's job events; returns the unsubscribe functions. */
function bridgeJobEvents (daemon: Daemon, { events, live, now, emitStatus }: EventBridgeDeps): Array<() => void> {
  const { fuel } = live
  const jobUpdated = (announcementId: string): void => {
    const job = daemon.store.getJob(announcementId)
    if (job !== undefined) events.emit('job:updated', { announcementId, state: job.state, failureReason: job.failureReason ?? null, at: now() })
  }
  return [
    daemon.events.on('announcement:decided', (e) => {
      events.emit('announcement:decided', { announcementId: e.announcementId, decision: e.bid ? 'bid' : 'no_bid', firstFailedRule: e.reasons.find((r) => !r.ok)?.rule ?? null, at: now() })
    }),
    daemon.events.on('job:state', (e) => {
      const job = daemon.store.getJob(e.announcementId)
      if (job === undefined) return
      if (job.state === 'Running' && !fuel.has(e.announcementId)) fuel.set(e.announcementId, { fuelUsed: 0n, startedAt: now() })
      events.emit('job:updated', { announcementId: e.announcementId, state: job.state, failureReason: job.failureReason ?? null, at: now() })
      emitStatus()
    }),
    daemon.events.on('job:progress', (e) => {
      const used = BigInt(e.fuelUsed)
      const max = BigInt(e.maxFuel)
      fuel.set(e.announcementId, { fuelUsed: used, startedAt: fuel.get(e.announcementId)?.startedAt ?? now() })
      events.emit('job:progress', { announcementId: e.announcementId, fuelUsed: e.fuelUsed, maxFuel: e.maxFuel, fuelFraction: max > 0n ? Math.min(1, Number((used * 10_000n) / max) / 10_000) : 0, at: now() })
    }),
    daemon.events.on('job:finished', (e) => {
      fuel.delete(e.announcementId)
      jobUpdated(e.announcementId)
      events.emit('receipt:stored', { cid: e.receiptCid, announcementId: e.announcementId })
      if (e.status === 'CompletedSuccessfully') events.emit('earnings:changed', { announcementId: e.announcementId, amount: e.price ?? '0' })
      emitStatus()
    })
  ]
}

/** Subscribes to the daemon's node events (policy, errors, reachability, stopping); returns the unsubscribe functions. */
function bridgeNodeEvents (daemon: Daemon, { events, live, now, emitStatus, reachability }: EventBridgeDeps): Array<() => void> {
  return [
    daemon.events.on('policy:changed', (e) => {
      events.emit('policy:saved', { version: e.version })
      emitStatus()
    }),
    daemon.events.on('daemon:error', (e) => {
      live.lastError = { text: `${e.where}: ${e.error}`, at: now(), benign: e.where.startsWith('capability ad') }
      emitStatus()
    }),
    daemon.events.on('reachability:changed', () => {
      live.reachabilityChangedAt = now()
      events.emit('reachability:changed', reachability())
      emitStatus()
    }),
    daemon.events.on('connection:opened', (e) => {
      // direct connections come and go all the time; relayed ones and hole-punch upgrades change what the UI shows
      if (!e.relayed && !e.upgraded) return
      if (e.upgraded) live.holePunched++
      events.emit('reachability:changed', reachability())
    }),
    daemon.events.on('daemon:stopping', () => {
      live.draining = true
      emitStatus()
    })
  ]
}

/** Translates the daemon's events into API events; returns a function that unsubscribes them all. */
export function bridgeDaemonEvents (daemon: Daemon, deps: EventBridgeDeps): () => void {
  const offs = [...bridgeJobEvents(daemon, deps), ...bridgeNodeEvents(daemon, deps)]
  return () => { for (const off of offs) off() }
}
