/**
 * Everything the daemon and its mesh node report goes to the log file, at a fitting level, with its
 * subsystem (`sub`) and job (`job`, the announcement id) — and what peers do wrong is counted.
 * Things a hostile peer controls (rejected messages, refused direct messages, dial failures) are
 * throttled per reason, so a flood cannot fill the disk.
 */
import { shortId } from '../../shared/text.js'
import type { Logger } from '../log/index.js'
import { throttled } from '../log/index.js'
import type { MeshEvents, TypedEmitter } from '../mesh/index.js'
import type { DaemonEvents } from './index.js'

/** Counts of what peers did wrong, since start. */
export interface MeshStats {
  /** `channel:action:reason` → count, e.g. `gossip:reject:BadSignature`, `direct:answer:Stale` */
  rejected: Record<string, number>
  /** peers banned for a low gossip score */
  peersEjected: number
}

const short = (s: string): string => shortId(s)

/** Logs the daemon's events. */
export function logDaemonEvents (events: TypedEmitter<DaemonEvents>, log: Logger): () => void {
  const jobs = log.child({ sub: 'jobs' })
  const market = log.child({ sub: 'market' })
  const daemon = log.child({ sub: 'daemon' })
  const net = log.child({ sub: 'mesh' })
  const offs = [
    events.on('daemon:ready', (e) => { daemon.info({ did: e.did, peerId: e.peerId, addrs: e.multiaddrs, policy: e.policy }, 'ready') }),
    events.on('daemon:stopping', (e) => { daemon.info({ runningJobs: e.runningJobs }, 'stopping') }),
    events.on('daemon:error', (e) => { daemon.error({ where: e.where }, e.error) }),
    events.on('policy:changed', (e) => { daemon.info({ version: e.version }, 'policy version in force') }),
    events.on('runtime:changed', (e) => { daemon.info({ autoBid: e.autoBid, pausedUntil: e.pausedUntil }, 'owner changed pause/auto-bid') }),
    events.on('announcement:decided', (e) => {
      const failed = e.reasons.filter((r) => !r.ok).map((r) => r.text)
      if (e.bid) market.info({ job: e.announcementId, originator: short(e.originatorDid), price: e.price }, 'bidding')
      else market.debug({ job: e.announcementId, originator: short(e.originatorDid), why: failed }, 'not bidding')
    }),
    events.on('bid:sent', (e) => { market.info({ job: e.announcementId, price: e.price, ms: e.ms, sinceReceivedMs: e.sinceReceivedMs }, 'bid sent') }),
    events.on('bid:failed', (e) => { market.warn({ job: e.announcementId, originator: short(e.originatorDid) }, `bid not delivered: ${e.error}`) }),
    events.on('job:accepted', (e) => { jobs.info({ job: e.announcementId, originator: short(e.originatorDid) }, 'assigned to us') }),
    events.on('job:refused', (e) => { jobs.info({ job: e.announcementId, reason: e.reason }, `assignment refused: ${e.detail}`) }),
    events.on('job:state', (e) => { jobs.info({ job: e.announcementId, state: e.state, details: e.details }, `job ${e.state}`) }),
    events.on('job:finished', (e) => {
      const level = e.status === 'CompletedSuccessfully' ? 'info' : 'warn'
      jobs[level]({ job: e.announcementId, status: e.status, failureReason: e.failureReason, fuel: e.fuelUsed, wallMs: e.wallMs, receipt: e.receiptCid, price: e.price }, 'job finished')
    }),
    events.on('job:notify-pending', (e) => { jobs.warn({ job: e.announcementId }, `originator not told yet (retrying): ${e.error}`) }),
    events.on('receipt:published', (e) => {
      if (e.dhtError !== undefined) jobs.warn({ job: e.announcementId, receipt: e.receiptCid, direct: e.direct }, e.dhtError)
      else jobs.debug({ job: e.announcementId, receipt: e.receiptCid, dhtPeers: e.dhtPeers, direct: e.direct }, 'receipt published')
    }),
    events.on('capability:published', (e) => { net.debug({ recipients: e.recipients }, 'capability ad published') }),
    events.on('reachability:changed', (e) => { net.info({ reachability: e.reachability, autonat: e.autonat, natDetected: e.natDetected, relays: e.relayAddrs.length }, 'reachability changed') }),
    events.on('connection:opened', (e) => { net.debug({ peer: e.peerId, addr: e.remoteAddr, direction: e.direction, relayed: e.relayed }, 'connection opened') })
  ]
  return () => {
    daemon.info('stopped')
    for (const off of offs) off()
  }
}

/** Logs and counts what the mesh node reports: bans, rejected and refused messages, failures. */
export interface MeshLog { stats: () => MeshStats, stop: () => void }

export function logMeshEvents (events: TypedEmitter<MeshEvents>, log: Logger): MeshLog {
  const net = log.child({ sub: 'mesh' })
  const limited = throttled(net)
  const rejected = new Map<string, number>()
  let peersEjected = 0
  const offs = [
    events.on('peer:ejected', (e) => {
      peersEjected++
      net.warn({ peer: e.peerId, score: e.score, bannedUntil: new Date(e.bannedUntil).toISOString() }, 'peer banned: it kept sending invalid messages')
    }),
    events.on('message:rejected', (e) => {
      const key = `${e.channel}:${e.action}:${e.reason}`
      rejected.set(key, (rejected.get(key) ?? 0) + 1)
      const level = e.action === 'reject' ? 'warn' : e.action === 'answer' ? 'info' : 'debug'
      const what = e.channel === 'direct' ? 'direct message refused' : e.action === 'reject' ? 'gossip message rejected (peer penalised)' : 'gossip message ignored'
      limited(key, level, { peer: e.fromPeerId, reason: e.reason, variant: e.variant, topic: e.topic }, `${what}: ${e.reason}: ${e.detail}`)
    }),
    events.on('block:rejected', (e) => { limited(`block:${e.reason}`, 'warn', { peer: e.peerId, cid: e.cid, reason: e.reason }, `block rejected: ${e.detail}`) }),
    events.on('bootstrap:failed', (e) => { limited(`bootstrap:${e.addr}`, 'warn', { addr: e.addr }, `bootstrap peer unreachable: ${e.error}`) }),
    events.on('peer:connected', (e) => { net.debug({ peer: e.peerId }, 'peer connected') }),
    events.on('peer:disconnected', (e) => { net.debug({ peer: e.peerId }, 'peer disconnected') }),
    events.on('error:listener', (e) => { net.error({ event: e.event, err: e.error }, 'an event listener threw') })
  ]
  return {
    stats: () => ({ rejected: Object.fromEntries(rejected), peersEjected }),
    stop: () => { for (const off of offs) off() }
  }
}
