/**
 * A minimal executor written from the protocol core + MeshNode + the real sandbox, so the originator
 * can be tested against a real counterpart before (and independently of) the product's executor.
 * It follows the wire profile: bids by direct message, accepts AssignJobV1, fetches the module and
 * input from the originator, sends Accepted → FetchingInputs → Running → Completed|Failed, signs a
 * receipt, serves the output to the originator only and the receipt publicly, puts the receipt in the
 * DHT and announces it (direct + gossip). `behaviour` and `forge` make it misbehave on purpose.
 */
import { randomUUID } from 'node:crypto'
import {
  formatTimestamp, peerIdFromDid, rawCid, signMessage, signReceipt, ProtocolError, dagCborCid
} from '../../../src/shared/protocol/index.js'
import type { Identity, JobAnnouncementV1, Unsigned, ExecutionReceiptV1, P2PJobStatus } from '../../../src/shared/protocol/index.js'
import { spawn } from '../mesh/helpers.js'
import type { BlockStore, MeshNode } from '../../../src/main/mesh/index.js'
import type { Sandbox, SandboxResult } from '../../../src/main/sandbox/index.js'

export type Behaviour = 'honest' | 'silent' | 'refuse' | 'no-bid'
export type Forgery = 'signature' | 'cid' | 'output' | 'announcement' | 'wasm'

export interface TestExecutorOptions {
  sandbox: Sandbox
  price?: number
  region?: string
  behaviour?: Behaviour
  forge?: Forgery
  identity?: Identity
  /** Put the receipt in the DHT before announcing it (default true). */
  putReceipt?: boolean
}

export interface TestExecutor {
  node: MeshNode
  id: Identity
  /** announcement ids this executor bid on / was assigned */
  bids: string[]
  assigned: string[]
  /** every announcement it heard, by announcement id */
  announcements: ReadonlyMap<string, JobAnnouncementV1>
  stop(): Promise<void>
}

/** Output blocks only to their originator; receipts to everyone; forged bytes on demand. */
class ExecutorBlocks implements BlockStore {
  readonly blocks = new Map<string, { bytes: Uint8Array, only?: string }>()
  get (cid: string, requester: string): Uint8Array | undefined {
    const e = this.blocks.get(cid)
    if (e === undefined || (e.only !== undefined && e.only !== requester)) return undefined
    return e.bytes
  }

  put (cid: string, bytes: Uint8Array): void {
    if (!this.blocks.has(cid)) this.blocks.set(cid, { bytes, only: '\0nobody' })
  }
}

function flipSignature (bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes)
  for (let i = 0; i < out.length - 65; i++) {
    if (out[i] === 0x58 && out[i + 1] === 0x40) {
      out[i + 2] = (out[i + 2] ?? 0) ^ 0x01
      return out
    }
  }
  throw new Error('no signature found')
}

export async function startTestExecutor (opts: TestExecutorOptions): Promise<TestExecutor> {
  const blocks = new ExecutorBlocks()
  const { node, id } = await spawn({
    ...(opts.identity !== undefined ? { identity: opts.identity } : {}),
    blockStore: blocks,
    regions: opts.region === undefined ? [] : [opts.region],
    directRateLimit: { burst: 10_000, perSecond: 10_000 }
  })
  const behaviour = opts.behaviour ?? 'honest'
  const announcements = new Map<string, JobAnnouncementV1>()
  const running = new Set<string>()
  const bids: string[] = []
  const assigned: string[] = []
  const stdinFeeds = new Map<string, { next: number, write: (b: Uint8Array) => Promise<void>, end: () => void, pending: Uint8Array[], ended: boolean }>()
  const now = (): string => formatTimestamp(Date.now())

  node.events.on('message:received', (e) => {
    if (e.channel !== 'gossip' || e.message.variant !== 'JobAnnouncementV1') return
    const a = e.message.body
    if (announcements.has(a.announcement_id)) return
    announcements.set(a.announcement_id, a)
    if (behaviour === 'no-bid') return
    const bid = signMessage('JobBidV1', {
      announcement_id: a.announcement_id,
      executor_did: id.did,
      executor_peer_id: id.peerId,
      ...(opts.price !== undefined ? { price: opts.price } : {}),
      ...(opts.region !== undefined ? { region: opts.region } : {}),
      timestamp: now()
    }, id)
    bids.push(a.announcement_id)
    void node.sendDirect(peerIdFromDid(a.originator_did), bid.bytes).catch(() => {})
  })

  node.handleDirect('AssignJobV1', (m) => {
    const a = announcements.get(m.body.announcement_id)
    if (a === undefined) throw new ProtocolError('UnknownJob', 'never saw this announcement')
    if (m.body.originator_did !== a.originator_did) throw new ProtocolError('NotYourJob', 'not the announcer')
    if (behaviour === 'refuse') throw new ProtocolError('WrongState', 'busy')
    assigned.push(a.announcement_id)
    if (behaviour === 'silent' || running.has(a.announcement_id)) return
    running.add(a.announcement_id)
    setImmediate(() => { void run(a).catch(() => {}) })
  })

  node.handleDirect('JobInteractiveInputV1', async (m) => {
    const f = stdinFeeds.get(m.body.announcement_id)
    if (f === undefined) throw new ProtocolError('UnknownJob', 'no interactive job')
    if (m.body.sequence_number !== f.next || f.ended) throw new ProtocolError('WrongState', `expected input ${f.next}`)
    f.next++
    if (m.body.data.byteLength > 0) await f.write(m.body.data)
    if (m.body.is_final) { f.ended = true; f.end() }
  })

  async function run (a: JobAnnouncementV1): Promise<void> {
    const origPeer = peerIdFromDid(a.originator_did)
    const jp = a.job_params
    const status = async (s: P2PJobStatus, details?: string): Promise<void> => {
      const msg = signMessage('JobStatusUpdateV1', {
        announcement_id: a.announcement_id, executor_did: id.did, p2p_job_status: s, ...(details !== undefined ? { details } : {}), timestamp: now()
      }, id)
      await node.sendDirect(origPeer, msg.bytes)
    }
    await status('Accepted')
    await status('FetchingInputs')
    const startedAt = Date.now()
    const module = await node.fetchBlock(jp.wasm_cid, { from: origPeer, providers: false, store: false })
    const input = jp.input_data_cid === undefined || jp.input_data_cid === null
      ? undefined
      : await node.fetchBlock(jp.input_data_cid, { from: origPeer, providers: false, store: false })
    await status('Running')
    const job = { module, maxFuel: BigInt(jp.max_fuel), timeoutMs: jp.timeout_seconds * 1000, ...(input !== undefined ? { input } : {}) }
    let result: SandboxResult
    if (jp.is_interactive) {
      const h = opts.sandbox.runInteractive(job)
      stdinFeeds.set(a.announcement_id, { next: 0, write: async (b) => { await h.write(b) }, end: () => { h.end() }, pending: [], ended: false })
      let seq = 0
      let chain = Promise.resolve()
      const sendOut = (data: Uint8Array, isFinal: boolean): void => {
        chain = chain.then(async () => {
          const msg = signMessage('JobInteractiveOutputV1', {
            executor_did: id.did, originator_did: a.originator_did, output_id: randomUUID(), announcement_id: a.announcement_id,
            sequence_number: seq++, is_final: isFinal, timestamp: now(), data
          }, id)
          await node.sendDirect(origPeer, msg.bytes)
        })
      }
      h.onStdout((chunk) => { sendOut(chunk, false) })
      result = await h.result
      sendOut(new Uint8Array(0), true)
      await chain
    } else {
      result = await opts.sandbox.run(job)
    }
    await status(result.status === 'CompletedSuccessfully' ? 'Completed' : result.status === 'Cancelled' ? 'Cancelled' : 'Failed',
      result.failure_reason !== undefined ? `${result.failure_reason}: ${result.detail ?? ''}` : undefined)

    let output = result.output
    const unsigned: Unsigned<ExecutionReceiptV1> = {
      announcement_id: opts.forge === 'announcement' ? randomUUID() : a.announcement_id,
      originator_did: a.originator_did,
      executor_did: id.did,
      wasm_cid: opts.forge === 'wasm' ? rawCid(new Uint8Array([1, 2, 3])) : jp.wasm_cid,
      ...(jp.input_data_cid !== undefined && jp.input_data_cid !== null ? { input_data_cid: jp.input_data_cid } : {}),
      output_cid: rawCid(output),
      status: result.status,
      ...(result.failure_reason !== undefined ? { failure_reason: result.failure_reason } : {}),
      fuel_used: result.fuel_used,
      resource_usage: { wall_ms: Math.round(result.wall_ms), peak_memory_bytes: result.peak_memory_bytes, output_bytes: output.byteLength },
      ...(opts.price !== undefined ? { price: opts.price } : {}),
      runtime: 'wasi-preview1-test-executor',
      started_at: formatTimestamp(startedAt),
      finished_at: now()
    }
    const signed = signReceipt(unsigned, id)
    let receiptBytes = signed.bytes
    let receiptCid = signed.cid
    if (opts.forge === 'signature') {
      receiptBytes = flipSignature(receiptBytes)
      receiptCid = dagCborCid(receiptBytes)
    }
    if (opts.forge === 'output') output = new TextEncoder().encode('forged output\n')
    const outputCid = rawCid(result.output)
    blocks.blocks.set(outputCid, { bytes: output, only: origPeer }) // forge 'output': other bytes under the true CID
    if (opts.forge === 'cid') {
      // serve another receipt's bytes under the announced CID
      blocks.blocks.set(receiptCid, { bytes: signReceipt({ ...unsigned, finished_at: formatTimestamp(Date.now() + 1) }, id).bytes })
    } else {
      blocks.blocks.set(receiptCid, { bytes: receiptBytes })
    }
    // the DHT put runs alongside the announcement (the originator asks the executor directly too)
    if (opts.putReceipt !== false && opts.forge === undefined) {
      void node.putReceipt(receiptBytes, { signal: AbortSignal.timeout(3000) }).catch(() => {})
    }
    const avail = signMessage('ExecutionReceiptAvailableV1', {
      announcement_id: a.announcement_id, originator_did: a.originator_did, executor_did: id.did, receipt_cid: receiptCid, timestamp: now()
    }, id)
    await node.sendDirect(origPeer, avail.bytes)
    await node.publishReceiptAvailable(avail.bytes).catch(() => {})
  }

  return {
    node,
    id,
    bids,
    assigned,
    announcements,
    async stop () { await node.stop() }
  }
}
