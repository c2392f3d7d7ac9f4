/**
 * Direct messaging (a js-libp2p service, profile 4.2): the `/icn/mesh/protocol/0.1.0` listener —
 * rate limit, protocol validation bound to the Noise-authenticated remote PeerId, the handler
 * registered for the variant — and the sender (retries on transport errors only).
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { createValidator, decodeMessage, ProtocolError, ReplayCache } from '../../shared/protocol/index.js'
import type { ReasonCode, Variant } from '../../shared/protocol/index.js'
import type { Logger } from '../log/index.js'
import { createDirectBudget } from './direct-budget.js'
import type { DirectBudget } from './direct-budget.js'
import { DIRECT_PROTOCOL, sendDirectFrame, serveDirect } from './direct.js'
import { MeshError } from './errors.js'
import type { TypedEmitter } from './events.js'
import type { DirectAnswer } from './frame.js'
import type { ValidatorOptions } from './options.js'
import type { PeerLinks } from './peer-links.js'
import { errMessage, toPeerId } from './peer-links.js'
import { createRateLimiter } from './rate-limit.js'
import type { RateLimitOptions } from './rate-limit.js'
import type { DirectHandler, MeshEvents, SendDirectOptions } from './types.js'

/** The largest frame considered for a bid credit (direct-budget.ts). */
const MAX_BID_FRAME_BYTES = 16 * 1024

export interface DirectMessagingInit {
  events: TypedEmitter<MeshEvents>
  log: Logger
  validator: ValidatorOptions
  rateLimit: RateLimitOptions
  maxFrameBytes: number
  maxInboundStreams: number
  inboundReadMs: number
  directMs: number
}

export interface DirectMessagingComponents {
  registrar: {
    handle: (protocol: string, handler: (stream: Stream, connection: Connection) => void | Promise<void>, options?: { maxInboundStreams?: number, runOnLimitedConnection?: boolean }) => Promise<void>
    unhandle: (protocol: string) => Promise<void>
  }
  /** Our peer-links service (streams to peers). */
  meshLinks: PeerLinks
}

export interface DirectMessaging {
  start(): Promise<void>
  stop(): Promise<void>
  handle<V extends Variant>(variant: V, handler: DirectHandler<V>): () => void
  send(peerId: string, bytes: Uint8Array, opts?: SendDirectOptions): Promise<DirectAnswer>
  /** what peers may send us: widened for job sessions and open bidding windows (direct-budget.ts) */
  readonly budget: Pick<DirectBudget, 'openSession' | 'openBidding'>
}

class DirectMessagingImpl implements DirectMessaging {
  readonly [Symbol.toStringTag] = 'icn-mesh-direct'
  private readonly handlers = new Map<Variant, DirectHandler<Variant>>()
  private readonly validator: ReturnType<typeof createValidator>
  private readonly rateLimiter
  readonly budget: DirectBudget

  constructor (private readonly c: DirectMessagingComponents, private readonly init: DirectMessagingInit) {
    const v = init.validator
    const freshnessMs = (v.maxAgeMs ?? 300_000) + (v.maxFutureMs ?? 30_000)
    this.validator = createValidator({
      now: v.now, maxAgeMs: v.maxAgeMs, maxFutureMs: v.maxFutureMs, maxBytes: init.maxFrameBytes,
      replay: new ReplayCache({ ttlMs: freshnessMs, maxEntries: 100_000 })
    })
    this.rateLimiter = createRateLimiter(init.rateLimit, v.now ?? Date.now)
    this.budget = createDirectBudget(v.now ?? Date.now)
  }

  async start (): Promise<void> {
    const { maxFrameBytes, inboundReadMs, maxInboundStreams } = this.init
    await this.c.registrar.handle(DIRECT_PROTOCOL, async (stream, connection) => {
      await serveDirect(stream, connection, maxFrameBytes, inboundReadMs, this.process)
    }, { maxInboundStreams, runOnLimitedConnection: true })
  }

  async stop (): Promise<void> {
    await this.c.registrar.unhandle(DIRECT_PROTOCOL).catch((err: unknown) => { this.init.log.debug({ err }, 'unregistering the direct protocol at stop failed') })
    this.rateLimiter.clear()
  }

  handle<V extends Variant> (variant: V, handler: DirectHandler<V>): () => void {
    const h = handler as unknown as DirectHandler<Variant>
    this.handlers.set(variant, h)
    return () => {
      if (this.handlers.get(variant) === h) this.handlers.delete(variant)
    }
  }

  async send (peerId: string, bytes: Uint8Array, opts: SendDirectOptions = {}): Promise<DirectAnswer> {
    if (!(bytes instanceof Uint8Array)) throw new MeshError('InvalidInput', 'message bytes must be a Uint8Array')
    const max = this.init.maxFrameBytes
    if (bytes.byteLength > max) throw new MeshError('TooLarge', `message of ${bytes.byteLength} bytes exceeds the ${max}-byte frame limit`)
    const open = async (p: PeerId, protocol: string, signal: AbortSignal): Promise<Stream> => await this.c.meshLinks.openStream(p, protocol, signal)
    return await sendDirectFrame(open, toPeerId(peerId), bytes, {
      signal: opts.signal, timeoutMs: opts.timeoutMs ?? this.init.directMs, attempts: opts.attempts ?? 3, backoffMs: 200, log: this.init.log
    })
  }

  /**
   * Past an empty bucket: a bid on one of our open announcements, the peer's first for it (decoded,
   * not yet verified). Only small frames are decoded here (a bid is well under 1 KiB), so a peer past
   * its limit cannot make us decode megabytes.
   */
  private bidCredit (frame: Uint8Array, remotePeerId: string): boolean {
    if (!this.budget.bidding || frame.byteLength > MAX_BID_FRAME_BYTES) return false
    const d = decodeMessage(frame, { maxBytes: this.init.maxFrameBytes })
    return d.kind === 'message' && d.message.variant === 'JobBidV1' && this.budget.takeBidCredit(remotePeerId, d.message.body.announcement_id)
  }

  /** The answer to one inbound frame (listener order of profile 4.2, after the size check). */
  private readonly process = async (frame: Uint8Array, remotePeerId: string): Promise<DirectAnswer> => {
    const refuse = (reason: ReasonCode, detail: string, variant?: string): DirectAnswer => {
      this.init.events.emit('message:rejected', { channel: 'direct', fromPeerId: remotePeerId, reason, detail, variant, action: 'answer' })
      return { ok: false, error: reason, message: detail }
    }
    if (!this.rateLimiter.take(remotePeerId) && !this.budget.takeSession(remotePeerId) && !this.bidCredit(frame, remotePeerId)) {
      return refuse('RateLimited', 'too many direct messages; slow down')
    }
    // the replay id is remembered only once the handler accepted the message, so a refused one
    // (e.g. an out-of-sequence input) can be sent again in order
    const r = this.validator.validate(frame, { remotePeerId, deferReplay: true })
    if (!r.ok) return refuse(r.reason, r.detail, r.variant)
    const message = r.message
    const handler = this.handlers.get(message.variant)
    if (handler === undefined) return refuse('PolicyRejected', `this node does not accept ${message.variant} direct messages`, message.variant)
    this.init.events.emit('message:received', { message, bytes: frame, channel: 'direct', fromPeerId: remotePeerId })
    try {
      await handler(message, { remotePeerId, bytes: frame })
      if (r.replayKey !== undefined) this.validator.commitReplay(r.replayKey)
      return { ok: true }
    } catch (err) {
      if (err instanceof ProtocolError) return refuse(err.reason, err.message, message.variant)
      return refuse('InternalError', errMessage(err), message.variant)
    }
  }
}

export function directMessaging (init: DirectMessagingInit): (components: DirectMessagingComponents) => DirectMessaging {
  return (components) => new DirectMessagingImpl(components, init)
}
