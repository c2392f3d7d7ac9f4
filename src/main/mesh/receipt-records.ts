/**
 * Receipt records (a js-libp2p service, profile 4.4): `/icn-receipt/<cid>` records in kad-dht,
 * verified before they are put and every time one is read, and provider records of public blocks.
 */
import type { ContentRouting } from '@libp2p/interface'
import type { KadDHT, QueryEvent } from '@libp2p/kad-dht'
import { verifyReceiptBlock } from '../../shared/protocol/index.js'
import { receiptKey, toCid } from './dht.js'
import { MeshError } from './errors.js'
import { abortError, timeoutSignal } from './frame.js'
import { errMessage } from './peer-links.js'
import type { AbortOpts } from './types.js'

export interface ReceiptRecordsInit {
  selfPeerId: string
  dhtMs: number
}

export interface ReceiptRecordsComponents {
  /** kad-dht (the `dht` service). */
  dht: KadDHT
  contentRouting: ContentRouting
}

export interface ReceiptRecords {
  start(): void
  stop(): void
  put(bytes: Uint8Array, opts?: AbortOpts): Promise<{ cid: string, peers: number }>
  get(cid: string, opts?: AbortOpts): Promise<Uint8Array | undefined>
  provide(cid: string, opts?: AbortOpts): Promise<void>
  findProviders(cid: string, opts?: AbortOpts & { limit?: number }): Promise<string[]>
}

class ReceiptRecordsImpl implements ReceiptRecords {
  readonly [Symbol.toStringTag] = 'icn-mesh-records'
  constructor (private readonly c: ReceiptRecordsComponents, private readonly init: ReceiptRecordsInit) {}

  // nothing to set up: kad-dht runs the queries; the record validator and selector sit in its config
  start (): void {}
  stop (): void {}

  async put (bytes: Uint8Array, opts: AbortOpts = {}): Promise<{ cid: string, peers: number }> {
    const v = verifyReceiptBlock(bytes)
    if (!v.ok) throw new MeshError('InvalidInput', `not a valid receipt block: ${v.reason}: ${v.detail}`)
    const signal = timeoutSignal(this.init.dhtMs, opts.signal)
    let peers = 0
    try {
      for await (const ev of this.c.dht.put(receiptKey(v.cid), bytes, { signal })) {
        if (ev.name === 'PEER_RESPONSE' && ev.messageName === 'PUT_VALUE') peers++
      }
    } catch (err) {
      if (signal.aborted) throw abortError(signal, `putting receipt ${v.cid}`)
      throw new MeshError('Transport', `putting receipt ${v.cid} failed: ${errMessage(err)}`, { cause: err })
    }
    return { cid: v.cid, peers }
  }

  async get (cid: string, opts: AbortOpts = {}): Promise<Uint8Array | undefined> {
    const key = receiptKey(cid)
    const signal = timeoutSignal(this.init.dhtMs, opts.signal)
    // kad-dht's get() runs the whole query, picks the best record and sends correction records
    // before it yields anything. A receipt record is immutable — exactly one value verifies for its
    // CID — so the first value that verifies is the answer: getMany yields values as peers answer
    // (our own store first), and leaving the loop ends the query.
    const fetching = (this.c.dht as unknown as { contentFetching?: { getMany?: (k: Uint8Array, o: { signal: AbortSignal }) => AsyncIterable<QueryEvent> } }).contentFetching
    const source = fetching?.getMany !== undefined ? fetching.getMany(key, { signal }) : this.c.dht.get(key, { signal })
    try {
      for await (const ev of source) {
        if (ev.name === 'VALUE' && verifyReceiptBlock(ev.value, cid).ok) return ev.value
      }
    } catch (err) {
      if (opts.signal?.aborted === true) throw abortError(opts.signal, `getting receipt ${cid}`)
      if (signal.aborted) throw abortError(signal, `getting receipt ${cid}`)
      if ((err as Error).name === 'NotFoundError') return undefined
      throw new MeshError('Transport', `getting receipt ${cid} failed: ${errMessage(err)}`, { cause: err })
    }
    return undefined
  }

  async provide (cid: string, opts: AbortOpts = {}): Promise<void> {
    const signal = timeoutSignal(this.init.dhtMs, opts.signal)
    try {
      await this.c.contentRouting.provide(toCid(cid), { signal })
    } catch (err) {
      if (signal.aborted) throw abortError(signal, `providing ${cid}`)
      throw new MeshError('Transport', `providing ${cid} failed: ${errMessage(err)}`, { cause: err })
    }
  }

  async findProviders (cid: string, opts: AbortOpts & { limit?: number } = {}): Promise<string[]> {
    const limit = opts.limit ?? 20
    const signal = timeoutSignal(this.init.dhtMs, opts.signal)
    const found: string[] = []
    try {
      for await (const p of this.c.contentRouting.findProviders(toCid(cid), { signal })) {
        const id = p.id.toString()
        if (id === this.init.selfPeerId || found.includes(id)) continue
        found.push(id)
        if (found.length >= limit) break
      }
    } catch (err) {
      if (opts.signal?.aborted === true) throw abortError(opts.signal, `finding providers of ${cid}`)
      if (signal.aborted || (err as Error).name === 'NotFoundError') return found
      throw new MeshError('Transport', `finding providers of ${cid} failed: ${errMessage(err)}`, { cause: err })
    }
    return found
  }
}

export function receiptRecords (init: ReceiptRecordsInit): (components: ReceiptRecordsComponents) => ReceiptRecords {
  return (components) => new ReceiptRecordsImpl(components, init)
}
