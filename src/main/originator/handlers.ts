/**
 * What executors tell the originator (direct messages, one handler each, routed by
 * announcement_id): bids, statuses (only from the assignee), receipt announcements (direct, and on
 * gossip), interactive output chunks in sequence.
 */
import { ProtocolError } from '../../shared/protocol/index.js'
import type { MessageOf } from '../../shared/protocol/index.js'
import type { DirectContext, MeshEvents } from '../mesh/index.js'
import type { OriginatorContext } from './context.js'
import type { Pending } from './pending.js'
import type { CandidateBid } from './select.js'

function jobFor (ctx: OriginatorContext, announcementId: string): Pending {
  const p = ctx.jobs.get(announcementId)
  if (p === undefined) throw new ProtocolError('UnknownJob', `no job ${announcementId} in flight here`)
  return p
}

function assigneeOf (p: Pending, executorDid: string): void {
  if (p.assignee?.executorDid !== executorDid) throw new ProtocolError('NotAssignedToYou', `job ${p.id} is not assigned to ${executorDid}`)
}

function onBid (ctx: OriginatorContext, m: MessageOf<'JobBidV1'>, dc: DirectContext): void {
  const b = m.body
  const p = ctx.jobs.get(b.announcement_id)
  if (p === undefined) throw new ProtocolError('UnknownJob', `no job ${b.announcement_id} is taking bids here`)
  const t = Date.now()
  const refuse = (reason: 'WrongState', detail: string): never => {
    p.emit({ type: 'bid:refused', announcementId: p.id, executorDid: b.executor_did, reason, detail })
    throw new ProtocolError(reason, detail)
  }
  if (t > p.windowClosesAt + p.bidGraceMs) refuse('WrongState', `the bidding window of ${p.id} closed ${t - p.windowClosesAt} ms ago`)
  if (p.bids.some((x) => x.executorDid === b.executor_did)) refuse('WrongState', `${b.executor_did} already bid on ${p.id}`)
  const bid: CandidateBid = { executorDid: b.executor_did, executorPeerId: b.executor_peer_id, receivedAt: t }
  if (b.price !== undefined && b.price !== null) bid.price = BigInt(b.price)
  if (b.region !== undefined && b.region !== null) bid.region = b.region
  p.bids.push(bid)
  p.firstBidAt ??= t
  ctx.storeSafe((s) => s.recordReceivedBid({ announcementId: p.id, executorDid: bid.executorDid, price: bid.price, region: bid.region, raw: dc.bytes, receivedAt: ctx.now() }))
  p.emit({ type: 'bid:received', announcementId: p.id, executorDid: bid.executorDid, price: bid.price, region: bid.region })
  p.notifier.notify()
}

function onStatus (ctx: OriginatorContext, m: MessageOf<'JobStatusUpdateV1'>): void {
  const b = m.body
  const p = jobFor(ctx, b.announcement_id)
  assigneeOf(p, b.executor_did)
  p.accepted = true
  p.acceptedAt ??= Date.now()
  if (b.p2p_job_status === 'Running' || b.p2p_job_status === 'AwaitingInput') p.running = true
  p.lastStatus = { status: b.p2p_job_status, ...(b.details !== undefined && b.details !== null ? { details: b.details } : {}) }
  p.emit({ type: 'status:received', announcementId: p.id, executorDid: b.executor_did, status: b.p2p_job_status, details: p.lastStatus.details })
  if (b.p2p_job_status === 'Running') ctx.storeSafe((s) => s.setSubmittedState(p.id, 'Running', ctx.now()))
  p.notifier.notify()
}

function onReceiptAvailable (ctx: OriginatorContext, b: MessageOf<'ExecutionReceiptAvailableV1'>['body'], channel: 'direct' | 'gossip'): void {
  if (b.originator_did !== ctx.identity.did) throw new ProtocolError('NotYourJob', `receipt is for ${b.originator_did}, not for this originator`)
  const p = jobFor(ctx, b.announcement_id)
  assigneeOf(p, b.executor_did)
  p.accepted = true
  if (p.receiptCid !== undefined) return
  p.receiptCid = b.receipt_cid
  p.receiptAvailableAt = Date.now()
  p.emit({ type: 'receipt:available', announcementId: p.id, receiptCid: b.receipt_cid, channel })
  p.notifier.notify()
}

function onOutput (ctx: OriginatorContext, m: MessageOf<'JobInteractiveOutputV1'>): void {
  const b = m.body
  if (b.originator_did !== ctx.identity.did) throw new ProtocolError('NotYourJob', `output is for ${b.originator_did}`)
  const p = jobFor(ctx, b.announcement_id)
  assigneeOf(p, b.executor_did)
  if (!p.interactive) throw new ProtocolError('WrongState', `job ${p.id} is not interactive`)
  if (b.sequence_number < p.outNext) throw new ProtocolError('Replay', `output ${b.sequence_number} of ${p.id} already received`)
  if (p.outFinal) throw new ProtocolError('WrongState', `output of ${p.id} already ended (is_final)`)
  if (b.sequence_number > p.outNext) throw new ProtocolError('WrongState', `output ${b.sequence_number} of ${p.id} arrived before ${p.outNext}`)
  p.outNext++
  p.outFinal = b.is_final
  p.outChunks.push(b.data)
  p.emit({ type: 'output:received', announcementId: p.id, sequence: b.sequence_number, bytes: b.data.byteLength, isFinal: b.is_final })
  if (b.data.byteLength > 0) p.onOutput?.(b.data)
  p.notifier.notify()
}

/** Registers the handlers (one set per originator); returns the function that removes them. */
export function registerHandlers (ctx: OriginatorContext): () => void {
  const { node, identity, log } = ctx
  const onGossip = (e: MeshEvents['message:received']): void => {
    if (e.channel !== 'gossip' || e.message.variant !== 'ExecutionReceiptAvailableV1') return
    const b = e.message.body
    if (b.originator_did !== identity.did || !ctx.jobs.has(b.announcement_id)) return
    try { onReceiptAvailable(ctx, b, 'gossip') } catch (err) { log.debug({ err, job: b.announcement_id }, 'receipt announcement on gossip ignored (not from the assignee)') }
  }
  const offs = [
    node.handleDirect('JobBidV1', (m, dc) => { onBid(ctx, m, dc) }),
    node.handleDirect('JobStatusUpdateV1', (m) => { onStatus(ctx, m) }),
    node.handleDirect('ExecutionReceiptAvailableV1', (m) => { onReceiptAvailable(ctx, m.body, 'direct') }),
    node.handleDirect('JobInteractiveOutputV1', (m) => { onOutput(ctx, m) }),
    node.events.on('message:received', onGossip)
  ]
  return () => { for (const off of offs) off() }
}
