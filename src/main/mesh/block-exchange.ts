/**
 * Block exchange (a js-libp2p service, profile 4.3): serves `/icn/mesh/blocks/0.1.0` from the
 * node's `BlockStore` (which applies the access rules by requester), and fetches blocks — from our
 * own store when it already holds them, then from the peers asked first, then from DHT providers —
 * size- and hash-checked, reporting a failure over a limited relayed connection as `RelayLimited`.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { cidMatchesBytes, isValidCid } from '../../shared/protocol/index.js'
import type { Logger } from '../log/index.js'
import { BLOCK_PROTOCOL, requestBlock, serveBlock } from './blocks.js'
import type { BlockStore } from './blocks.js'
import { MeshError } from './errors.js'
import type { TypedEmitter } from './events.js'
import type { PeerLinks } from './peer-links.js'
import { limitsInfo, toPeerId } from './peer-links.js'
import type { ReceiptRecords } from './receipt-records.js'
import type { FetchBlockOptions, MeshEvents } from './types.js'

export interface BlockExchangeInit {
  selfPeerId: string
  events: TypedEmitter<MeshEvents>
  log: Logger
  store: BlockStore
  maxBlockBytes: number
  maxInboundStreams: number
  inboundReadMs: number
  blockMs: number
}

export interface BlockExchangeComponents {
  registrar: {
    handle: (protocol: string, handler: (stream: Stream, connection: Connection) => void | Promise<void>, options?: { maxInboundStreams?: number, runOnLimitedConnection?: boolean }) => Promise<void>
    unhandle: (protocol: string) => Promise<void>
  }
  meshLinks: PeerLinks
  meshRecords: ReceiptRecords
}

export interface BlockExchange {
  start(): Promise<void>
  stop(): Promise<void>
  fetch(cid: string, opts?: FetchBlockOptions): Promise<Uint8Array>
}

interface Failure { peerId: string, error: string, message: string }

class BlockExchangeImpl implements BlockExchange {
  readonly [Symbol.toStringTag] = 'icn-mesh-blocks'
  constructor (private readonly c: BlockExchangeComponents, private readonly init: BlockExchangeInit) {}

  async start (): Promise<void> {
    const { store, maxBlockBytes, inboundReadMs, maxInboundStreams, events, log } = this.init
    await this.c.registrar.handle(BLOCK_PROTOCOL, async (stream, connection) => {
      await serveBlock(stream, connection, store, maxBlockBytes, inboundReadMs, (e) => { events.emit('block:served', e) }, log)
    }, { maxInboundStreams, runOnLimitedConnection: true })
  }

  async stop (): Promise<void> {
    await this.c.registrar.unhandle(BLOCK_PROTOCOL).catch((err: unknown) => { this.init.log.debug({ err }, 'unregistering the block protocol at stop failed') })
  }

  async fetch (cid: string, opts: FetchBlockOptions = {}): Promise<Uint8Array> {
    if (!isValidCid(cid)) throw new MeshError('InvalidInput', `invalid CID "${cid}"`)
    const maxBytes = opts.maxBytes ?? this.init.maxBlockBytes
    if (!(maxBytes > 0)) throw new MeshError('InvalidInput', 'maxBytes must be positive')
    // bytes we already hold (a module of an earlier job) need no round trip; they are checked like any answer
    const local = opts.local === false ? undefined : await this.fromLocal(cid, maxBytes)
    if (local !== undefined) return local
    const tried = new Set<string>([this.init.selfPeerId])
    const failures: Failure[] = []
    const from = opts.from === undefined ? [] : Array.isArray(opts.from) ? opts.from : [opts.from]
    for (const p of from) {
      if (tried.has(p)) continue
      tried.add(p)
      const data = await this.attempt(p, cid, maxBytes, opts, failures)
      if (data !== undefined) return data
    }
    if (opts.providers !== false) {
      const providers = await this.c.meshRecords.findProviders(cid, { signal: opts.signal, limit: opts.maxProviders ?? 5 }).catch((err: unknown) => {
        if (opts.signal?.aborted === true) throw err
        return [] as string[]
      })
      for (const p of providers) {
        if (tried.has(p)) continue
        tried.add(p)
        const data = await this.attempt(p, cid, maxBytes, opts, failures)
        if (data !== undefined) return data
      }
    }
    const detail = failures.length === 0 ? 'no peer to ask' : failures.map((f) => `${f.peerId}: ${f.error}: ${f.message}`).join('; ')
    const code = failures.some((f) => f.error === 'CidMismatch') ? 'CidMismatch' : failures.some((f) => f.error === 'RelayLimited') ? 'RelayLimited' : 'NotFound'
    throw new MeshError(code, `block ${cid} could not be fetched (${detail})`)
  }

  /** The block from our own store, when it holds it for us and it hashes to the CID. */
  private async fromLocal (cid: string, maxBytes: number): Promise<Uint8Array | undefined> {
    let data: Uint8Array | undefined
    try {
      data = await this.init.store.get(cid, this.init.selfPeerId)
    } catch (err) {
      this.init.log.debug({ err, cid }, 'reading our own block store failed; asking peers')
      return undefined
    }
    if (data === undefined || data.byteLength > maxBytes || !cidMatchesBytes(cid, data)) return undefined
    return data
  }

  /** Asks one peer; the verified bytes, or undefined with the failure recorded. */
  private async attempt (peerId: string, cid: string, maxBytes: number, opts: FetchBlockOptions, failures: Failure[]): Promise<Uint8Array | undefined> {
    const links = this.c.meshLinks
    const open = async (p: PeerId, protocol: string, signal: AbortSignal): Promise<Stream> => await links.openStream(p, protocol, signal)
    const r = await requestBlock(open, toPeerId(peerId), cid, maxBytes, opts.timeoutMs ?? this.init.blockMs, opts.signal, this.init.log)
    if (r.ok) {
      if (opts.store !== false) await this.init.store.put(cid, r.data)
      return r.data
    }
    const limits = links.lastLimits(peerId)
    if (limits !== undefined && r.error !== 'NotFound' && r.error !== 'CidMismatch') {
      // only a limited relayed connection to this peer, and no direct one (hole punching failed or not tried)
      const l = limitsInfo(limits)
      failures.push({
        peerId,
        error: 'RelayLimited',
        message: `only a limited relayed connection (relay allows ${l.bytes ?? 'unlimited'} bytes, ${l.seconds ?? 'unlimited'} s) and no direct one; ${r.error}: ${r.message}`
      })
      return undefined
    }
    failures.push({ peerId, error: r.error, message: r.message })
    if (r.error === 'CidMismatch') this.init.events.emit('block:rejected', { cid, peerId, reason: r.error, detail: r.message })
    return undefined
  }
}

export function blockExchange (init: BlockExchangeInit): (components: BlockExchangeComponents) => BlockExchange {
  return (components) => new BlockExchangeImpl(components, init)
}
