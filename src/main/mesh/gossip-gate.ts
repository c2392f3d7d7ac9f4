/**
 * The gossip gate (a js-libp2p service, profile 4.1): what may enter and leave our gossip topics.
 *
 * - one topic validator per subscribed topic runs the protocol core's checks (one replay cache per
 *   topic) and the topic's variant, paced so a flood never starves the event loop;
 * - delivery dedupe across the global and the region copy of a message;
 * - publishing our own messages (checked first, pre-marked so they do not come back to us);
 * - the capability re-publish hook (a newcomer subscribed);
 * - ejection of peers whose score fell below the graylist threshold (disconnect + ban).
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { GossipSub, Message as GossipMessage, GossipsubMessage, SubscriptionChangeData, TopicValidatorFn } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { createValidator, ReplayCache } from '../../shared/protocol/index.js'
import type { Identity, MeshMessage, Variant } from '../../shared/protocol/index.js'
import type { Logger } from '../log/index.js'
import { MeshError } from './errors.js'
import type { TypedEmitter } from './events.js'
import { dedupeKeys, gossipVerdict, SeenCache, TOPIC_VARIANT } from './gossip.js'
import type { GossipScoreOptions, ValidatorOptions } from './options.js'
import {
  capabilitiesTopic, contentKey, jobsTopic, parseTopic, RECEIPTS_AVAILABLE_TOPIC, topicsFor
} from './topics.js'
import type { MeshEvents, PublishResult } from './types.js'

/** Longest run of gossip validation before yielding to other I/O (ms). */
export const VALIDATION_SLICE_MS = 4

/** Peers ejected for a bad gossip score, refused at the connection gater until their ban ends. */
export class BanList {
  private readonly until = new Map<string, number>()
  isBanned (peerId: PeerId | string): boolean {
    const id = peerId.toString()
    const t = this.until.get(id)
    if (t === undefined) return false
    if (t > Date.now()) return true
    this.until.delete(id)
    return false
  }

  has (peerId: string): boolean { return this.until.has(peerId) }
  ban (peerId: string, until: number): void { this.until.set(peerId, until) }
}

export interface GossipGateInit {
  identity: Identity
  events: TypedEmitter<MeshEvents>
  log: Logger
  bans: BanList
  regions: string[]
  /** subscribe to the job-announcement topics (an executor does; a node that only submits need not) */
  jobAnnouncements: boolean
  validator: ValidatorOptions
  maxFrameBytes: number
  score: GossipScoreOptions
  capabilityRepublishMinMs: number
}

export interface GossipGateComponents {
  pubsub: GossipSub
  connectionManager: { closeConnections: (peerId: PeerId, options?: { signal?: AbortSignal }) => Promise<void> }
}

export interface GossipGate {
  start(): void
  afterStart(): void
  stop(): void
  publishCapability(bytes: Uint8Array, region?: string): Promise<PublishResult>
  publishAnnouncement(bytes: Uint8Array, region?: string): Promise<PublishResult>
  publishReceiptAvailable(bytes: Uint8Array): Promise<PublishResult>
  /**
   * Resolves once each of `peerIds` has told us its subscriptions and our gossip stream to it is
   * open (so what we publish next reaches it), or after `timeoutMs`.
   */
  gossipReady(peerIds: string[], timeoutMs: number): Promise<void>
  topics(): string[]
  topicPeers(topic: string): string[]
  meshPeers(topic: string): string[]
  peerScore(peerId: string): number
}

type Validator = ReturnType<typeof createValidator>

class GossipGateImpl implements GossipGate {
  readonly [Symbol.toStringTag] = 'icn-mesh-gossip'
  private started = false
  private readonly freshnessMs: number
  private readonly topicValidators = new Map<string, Validator>()
  // publish helpers check our own messages without recording them as seen
  private readonly localValidator: Validator
  private readonly delivered: SeenCache
  private readonly validated = new WeakMap<GossipMessage, MeshMessage>()
  private sliceStart = 0
  private republishTimer: ReturnType<typeof setTimeout> | undefined
  private lastRepublish = -Infinity
  private pendingSubscribers: string[] = []
  /** peers that sent us their subscriptions since start */
  private readonly heardFrom = new Set<string>()

  constructor (private readonly c: GossipGateComponents, private readonly init: GossipGateInit) {
    const v = init.validator
    this.freshnessMs = (v.maxAgeMs ?? 300_000) + (v.maxFutureMs ?? 30_000)
    this.localValidator = createValidator({ now: v.now, maxAgeMs: v.maxAgeMs, maxFutureMs: v.maxFutureMs, maxBytes: init.maxFrameBytes, replay: false })
    this.delivered = new SeenCache(this.freshnessMs, 100_000, v.now ?? Date.now)
  }

  start (): void {
    const pubsub = this.c.pubsub
    pubsub.addEventListener('gossipsub:message', this.onGossipMessage)
    pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    pubsub.addEventListener('gossipsub:heartbeat', this.onHeartbeat)
  }

  /** Subscribes our topics (gossipsub takes subscriptions only once it runs). */
  afterStart (): void {
    this.started = true
    for (const t of topicsFor(this.init.regions, { jobAnnouncements: this.init.jobAnnouncements })) {
      this.c.pubsub.topicValidators.set(t, this.pacedValidator)
      this.c.pubsub.subscribe(t)
    }
  }

  stop (): void {
    this.started = false
    this.heardFrom.clear()
    if (this.republishTimer !== undefined) clearTimeout(this.republishTimer)
    this.republishTimer = undefined
    const pubsub = this.c.pubsub
    pubsub.removeEventListener('gossipsub:message', this.onGossipMessage)
    pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
    pubsub.removeEventListener('gossipsub:heartbeat', this.onHeartbeat)
  }

  // ---- inbound ---------------------------------------------------------------------------------
  // Validation (decode + Ed25519) costs a fraction of a millisecond per message, and libp2p runs a
  // peer's buffered messages back to back in microtasks, which never yield to I/O: a flood would
  // hold everything else up for seconds. The validator yields to the event loop (setImmediate)
  // once per VALIDATION_SLICE_MS of continuous validation, so streams, timers and the dashboard get
  // their turn. A slice ends when the event loop gets a turn (`inSlice` is cleared by an immediate),
  // so a message arriving on its own — the common case — is validated at once, not one turn later.
  private inSlice = false
  private readonly endSlice = (): void => { this.inSlice = false }
  private readonly pacedValidator: TopicValidatorFn = (peer, msg) => {
    if (!this.inSlice) {
      this.inSlice = true
      this.sliceStart = performance.now()
      setImmediate(this.endSlice)
    }
    if (performance.now() - this.sliceStart < VALIDATION_SLICE_MS) return this.validate(peer, msg)
    return new Promise((resolve) => {
      setImmediate(() => {
        this.inSlice = true
        this.sliceStart = performance.now()
        setImmediate(this.endSlice)
        resolve(this.validate(peer, msg))
      })
    })
  }

  private validatorFor (topic: string): Validator {
    let v = this.topicValidators.get(topic)
    if (v === undefined) {
      const o = this.init.validator
      v = createValidator({
        now: o.now, maxAgeMs: o.maxAgeMs, maxFutureMs: o.maxFutureMs, maxBytes: this.init.maxFrameBytes,
        replay: new ReplayCache({ ttlMs: this.freshnessMs, maxEntries: 100_000 })
      })
      this.topicValidators.set(topic, v)
    }
    return v
  }

  private validate (peer: PeerId, msg: GossipMessage): TopicValidatorResult {
    const fromPeerId = peer.toString()
    const parsed = parseTopic(msg.topic)
    if (parsed === undefined) return TopicValidatorResult.Ignore
    const r = this.validatorFor(msg.topic).validate(msg.data)
    const events = this.init.events
    if (!r.ok) {
      const verdict = gossipVerdict(r.reason)
      events.emit('message:rejected', {
        channel: 'gossip', topic: msg.topic, fromPeerId, reason: r.reason, detail: r.detail, variant: r.variant,
        action: verdict === TopicValidatorResult.Reject ? 'reject' : 'ignore'
      })
      return verdict
    }
    const expected = TOPIC_VARIANT[parsed.kind]
    if (r.message.variant !== expected) {
      events.emit('message:rejected', {
        channel: 'gossip', topic: msg.topic, fromPeerId, reason: 'Malformed', detail: `${r.message.variant} is not carried on ${msg.topic}`, variant: r.message.variant, action: 'reject'
      })
      return TopicValidatorResult.Reject
    }
    this.validated.set(msg, r.message)
    return TopicValidatorResult.Accept
  }

  private readonly onGossipMessage = (evt: CustomEvent<GossipsubMessage>): void => {
    const { msg, propagationSource } = evt.detail
    const message = this.validated.get(msg)
    if (message === undefined) return
    this.validated.delete(msg)
    let dup = false
    for (const k of dedupeKeys(message, contentKey(msg.data))) if (this.delivered.seen(k)) dup = true
    if (dup) return
    this.init.events.emit('message:received', { message, bytes: msg.data, channel: 'gossip', topic: msg.topic, fromPeerId: propagationSource.toString() })
  }

  // ---- capability re-publish hook -------------------------------------------------------------
  private readonly onSubscriptionChange = (evt: CustomEvent<SubscriptionChangeData>): void => {
    const peerId = evt.detail.peerId.toString()
    this.heardFrom.add(peerId)
    for (const s of evt.detail.subscriptions) {
      if (!s.subscribe || parseTopic(s.topic)?.kind !== 'capabilities') continue
      this.init.events.emit('capability:subscribed', { peerId, topic: s.topic })
      if (!this.pendingSubscribers.includes(peerId)) this.pendingSubscribers.push(peerId)
      if (this.republishTimer === undefined && this.started) {
        const wait = Math.max(0, this.lastRepublish + this.init.capabilityRepublishMinMs - Date.now())
        this.republishTimer = setTimeout(this.fireRepublish, wait)
        this.republishTimer.unref?.()
      }
    }
  }

  private readonly fireRepublish = (): void => {
    this.republishTimer = undefined
    this.lastRepublish = Date.now()
    const peerIds = this.pendingSubscribers
    this.pendingSubscribers = []
    this.init.events.emit('capability:republish', { peerIds })
  }

  // ---- scoring: eject graylisted peers --------------------------------------------------------
  private readonly onHeartbeat = (): void => {
    const { bans, score } = this.init
    for (const peer of this.c.pubsub.getPeers()) {
      const id = peer.toString()
      const s = this.peerScore(id)
      if (s < score.graylistThreshold && !bans.has(id)) {
        const bannedUntil = Date.now() + score.banMs
        bans.ban(id, bannedUntil)
        this.init.events.emit('peer:ejected', { peerId: id, score: s, bannedUntil })
        this.c.connectionManager.closeConnections(peer).catch((err: unknown) => { this.init.log.debug({ err, peer: id }, 'hanging up on a banned peer failed (already gone?)') })
      }
    }
  }

  peerScore (peerId: string): number {
    return (this.c.pubsub as unknown as { getScore: (id: string) => number }).getScore(peerId)
  }

  // ---- outbound --------------------------------------------------------------------------------
  async publishCapability (bytes: Uint8Array, region?: string): Promise<PublishResult> {
    const message = this.checkOwn(bytes, 'CapabilityAdvertisementV1')
    return await this.publish(region === undefined ? [capabilitiesTopic()] : [capabilitiesTopic(), capabilitiesTopic(region)], bytes, message)
  }

  async publishAnnouncement (bytes: Uint8Array, region?: string): Promise<PublishResult> {
    const message = this.checkOwn(bytes, 'JobAnnouncementV1')
    return await this.publish(region === undefined ? [jobsTopic()] : [jobsTopic(), jobsTopic(region)], bytes, message)
  }

  async publishReceiptAvailable (bytes: Uint8Array): Promise<PublishResult> {
    const message = this.checkOwn(bytes, 'ExecutionReceiptAvailableV1')
    return await this.publish([RECEIPTS_AVAILABLE_TOPIC], bytes, message)
  }

  private checkOwn (bytes: Uint8Array, variant: Variant): MeshMessage {
    if (!(bytes instanceof Uint8Array)) throw new MeshError('InvalidInput', 'message bytes must be a Uint8Array')
    const r = this.localValidator.validate(bytes)
    if (!r.ok) throw new MeshError('InvalidInput', `refusing to publish an invalid message: ${r.reason}: ${r.detail}`)
    if (r.message.variant !== variant) throw new MeshError('InvalidInput', `expected ${variant}, got ${r.message.variant}`)
    if (r.message.signer !== this.init.identity.did) throw new MeshError('InvalidInput', `message is signed by ${r.message.signer}, not by this node`)
    return r.message
  }

  private async publish (topics: string[], bytes: Uint8Array, message: MeshMessage): Promise<PublishResult> {
    // our own message must not come back to us as "received" through a region copy
    for (const k of dedupeKeys(message, contentKey(bytes))) this.delivered.seen(k)
    let recipients = 0
    for (const t of topics) {
      const r = await this.c.pubsub.publish(t, bytes)
      recipients += r.recipients.length
    }
    return { topics, recipients }
  }

  async gossipReady (peerIds: string[], timeoutMs: number): Promise<void> {
    // gossipsub drops an RPC for a peer whose outbound stream is not open yet (gossipsub 17 keeps them in streamsOutbound)
    const outbound = (this.c.pubsub as unknown as { streamsOutbound?: Map<string, unknown> }).streamsOutbound
    const ready = (id: string): boolean => this.heardFrom.has(id) && (outbound === undefined || outbound.has(id))
    const deadline = Date.now() + timeoutMs
    while (this.started && !peerIds.every(ready) && Date.now() < deadline) {
      await new Promise((resolve) => { setTimeout(resolve, 5).unref?.() })
    }
  }

  topics (): string[] { return this.c.pubsub.getTopics() }
  topicPeers (topic: string): string[] { return this.c.pubsub.getSubscribers(topic).map((p) => p.toString()) }
  meshPeers (topic: string): string[] { return (this.c.pubsub as unknown as { getMeshPeers: (t: string) => string[] }).getMeshPeers(topic) }
}

export function gossipGate (init: GossipGateInit): (components: GossipGateComponents) => GossipGate {
  return (components) => new GossipGateImpl(components, init)
}
