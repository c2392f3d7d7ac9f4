/**
 * What the executor tells an originator: statuses (in order, without holding the job up), the
 * receipt announcement (direct + gossip), and the receipt's DHT records (in the background).
 */
import {
  formatTimestamp, rawCid, signMessage, signReceipt,
  type ExecutionReceiptV1, type FailureReason, type MessageOf, type P2PJobStatus, type Unsigned
} from '../../shared/protocol/index.js'
import type { JobRow, TransitionOptions } from '../store/index.js'
import { errMessage, type ExecutorContext, type Running } from './types.js'

export interface Target { announcementId: string, originatorDid: string, originatorPeerId: string }

export interface ReceiptFacts {
  status: ExecutionReceiptV1['status']
  failureReason?: FailureReason
  fuelUsed: bigint
  wallMs: number
  peakMemory: number
  output?: Uint8Array
  startedAt: number
  finishedAt: number
}

export interface Outbox {
  /** `retried`: a failure is reported as pending news (it is tried again later), not as an error. */
  sendTo(peerId: string, bytes: Uint8Array, what: string, announcementId: string, retried?: boolean): Promise<boolean>
  sendStatus(job: Pick<Target, 'announcementId' | 'originatorPeerId'>, status: P2PJobStatus, details?: string, retried?: boolean): Promise<boolean>
  /** Queues a status behind the job's earlier ones (order preserved, the job does not wait). */
  queueStatus(rj: Running, status: P2PJobStatus, details?: string): void
  /** Announces the receipt (direct + gossip) and puts it in the DHT in the background. True when the originator heard it directly. */
  publishReceipt(job: Target, receipt: { bytes: Uint8Array, cid: string }, retried?: boolean): Promise<boolean>
  buildReceipt(job: JobRow, r: ReceiptFacts): { bytes: Uint8Array, cid: string, receipt: ExecutionReceiptV1 }
  /** A state change, recorded and reported. */
  transition(id: string, to: JobRow['state'], o?: TransitionOptions): void
  /** A line in the job's log, recorded and reported. */
  log(id: string, stream: string, text: string): void
}

const wireInt = (v: bigint): number | bigint => v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v

export function createOutbox (ctx: ExecutorContext): Outbox {
  const { opts, clock, events } = ctx
  const { node, identity, store } = opts

  const sendTo: Outbox['sendTo'] = async (peerId, bytes, what, announcementId, retried = false) => {
    const report = (error: string): void => {
      if (retried) events.emit('job:notify-pending', { announcementId, error })
      else events.emit('error:job', { announcementId, error })
    }
    try {
      const answer = await node.sendDirect(peerId, bytes)
      if (answer.ok) return true
      report(`${what} refused by originator: ${answer.error} ${answer.message ?? ''}`.trim())
    } catch (err) {
      report(`${what} not delivered: ${errMessage(err)}`)
    }
    return false
  }

  const sendStatus: Outbox['sendStatus'] = async (job, status, details, retried = false) => {
    const unsigned: Unsigned<MessageOf<'JobStatusUpdateV1'>['body']> = {
      announcement_id: job.announcementId, executor_did: identity.did, p2p_job_status: status, timestamp: formatTimestamp(clock())
    }
    if (details !== undefined) unsigned.details = details.slice(0, 1000)
    const { bytes } = signMessage('JobStatusUpdateV1', unsigned, identity)
    return await sendTo(job.originatorPeerId, bytes, `status ${status}`, job.announcementId, retried)
  }

  /** The DHT record and provider record go out in the background: a DHT put can take seconds on a sparse mesh. */
  const putInDht = (job: Target, receipt: { bytes: Uint8Array, cid: string }, direct: boolean): void => {
    const signal = (): AbortSignal => AbortSignal.any([ctx.dhtAbort.signal, AbortSignal.timeout(15_000)])
    const publication = (async () => {
      let dhtPeers = 0
      let dhtError: string | undefined
      try {
        dhtPeers = (await node.putReceipt(receipt.bytes, { signal: signal() })).peers
        await node.provide(receipt.cid, { signal: signal() })
      } catch (err) {
        // a sparse mesh (no DHT peers yet) is not a fault of this node: reported with the publication, logged as a warning
        dhtError = `receipt DHT put/provide failed: ${errMessage(err)}`
      }
      events.emit('receipt:published', { announcementId: job.announcementId, receiptCid: receipt.cid, dhtPeers, direct, ...(dhtError !== undefined ? { dhtError } : {}) })
    })()
    ctx.publications.add(publication)
    void publication.finally(() => ctx.publications.delete(publication))
  }

  return {
    sendTo,
    sendStatus,
    queueStatus (rj, status, details) {
      rj.statusChain = rj.statusChain.then(async () => { await sendStatus(rj, status, details) })
    },
    async publishReceipt (job, receipt, retried = false) {
      const { bytes: availBytes } = signMessage('ExecutionReceiptAvailableV1', {
        announcement_id: job.announcementId, originator_did: job.originatorDid, executor_did: identity.did,
        receipt_cid: receipt.cid, timestamp: formatTimestamp(clock())
      }, identity)
      const direct = await sendTo(job.originatorPeerId, availBytes, 'ExecutionReceiptAvailableV1', job.announcementId, retried)
      await node.publishReceiptAvailable(availBytes).catch((err: unknown) => {
        events.emit('error:job', { announcementId: job.announcementId, error: `receipt gossip failed: ${errMessage(err)}` })
      })
      putInDht(job, receipt, direct)
      return direct
    },
    buildReceipt (job, r) {
      const unsigned: Unsigned<ExecutionReceiptV1> = {
        announcement_id: job.announcementId,
        originator_did: job.originatorDid,
        executor_did: identity.did,
        wasm_cid: job.wasmCid,
        status: r.status,
        fuel_used: wireInt(r.fuelUsed),
        resource_usage: { wall_ms: Math.round(r.wallMs), peak_memory_bytes: r.peakMemory, output_bytes: r.output?.length ?? 0 },
        runtime: opts.runtime,
        started_at: formatTimestamp(r.startedAt),
        finished_at: formatTimestamp(r.finishedAt)
      }
      if (job.inputDataCid !== undefined) unsigned.input_data_cid = job.inputDataCid
      if (r.output !== undefined) unsigned.output_cid = rawCid(r.output)
      if (r.status !== 'CompletedSuccessfully') unsigned.failure_reason = r.failureReason ?? 'InternalError'
      if (job.price !== undefined) unsigned.price = wireInt(job.price)
      return signReceipt(unsigned, identity)
    },
    transition (id, to, o = {}) {
      store.transitionJob(id, to, { at: clock(), ...o })
      events.emit('job:state', { announcementId: id, state: to, details: o.details })
    },
    log (id, stream, text) {
      store.appendJobLog(id, stream, text, clock())
      events.emit('job:log', { announcementId: id, stream, text })
    }
  }
}
