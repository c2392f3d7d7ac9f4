/**
 * The executor's direct handlers: AssignJobV1 (check it names us, that we know the announcement, that
 * the sender is its originator, that we bid, and that the assignment window is open — then accept or
 * refuse with the profile's reason code) and JobInteractiveInputV1 (in order, from 0, no duplicates,
 * nothing after is_final).
 */
import {
  decodeMessage, peerIdFromDid, ProtocolError, type JobAnnouncementV1, type MessageOf
} from '../../shared/protocol/index.js'
import { biddingCloses } from '../market/index.js'
import type { JobRow } from '../store/index.js'
import { ASSIGNMENT_GRACE_MS, type ExecutorContext, type Running } from './types.js'

type Reason = ConstructorParameters<typeof ProtocolError>[0]

/** Why an assignment is refused, or what to run (undefined: a repeat of one we accepted — answer ok, run nothing). */
function checkAssignment (ctx: ExecutorContext, a: MessageOf<'AssignJobV1'>['body'], accepting: boolean): { announcement: JobAnnouncementV1, region?: string, price?: bigint } | undefined {
  const { store, identity } = ctx.opts
  const id = a.announcement_id
  const refuse = (reason: Reason, detail: string): never => {
    ctx.events.emit('job:refused', { announcementId: id, originatorDid: a.originator_did, reason, detail })
    throw new ProtocolError(reason, detail)
  }
  if (a.executor_did !== identity.did) refuse('NotAssignedToYou', `assignment names executor ${a.executor_did}, not us`)
  const ann = store.getAnnouncement(id)
  if (ann === undefined) return refuse('UnknownJob', `no announcement ${id} seen`)
  if (ann.originatorDid !== a.originator_did) refuse('NotYourJob', `announcement ${id} belongs to another originator`)
  const existing = store.getJob(id)
  if (existing !== undefined) {
    // a repeat of the assignment we accepted: ok, without running the job again (profile 6.3a)
    if (existing.originatorDid === a.originator_did) return undefined
    refuse('WrongState', `job ${id} is already ${existing.state}`)
  }
  if (ann.decision !== 'bid') refuse('PolicyRejected', `we decided not to bid on ${id}`)
  const bid = store.getBid(id)
  if (bid === undefined || bid.sentOk === false) refuse('WrongState', `we have no delivered bid for ${id}`)
  // from here on the buyer chose our bid: a refusal is recorded with the bid (neither won nor lost)
  const refuseChosen = (reason: Reason, detail: string): never => {
    store.markBidRefused(id, detail)
    return refuse(reason, detail)
  }
  if (!accepting) refuseChosen('PolicyRejected', 'this node is shutting down')
  const decoded = decodeMessage(ann.raw, { maxBytes: 1024 * 1024 })
  if (decoded.kind !== 'message' || decoded.message.variant !== 'JobAnnouncementV1') return refuse('UnknownJob', `stored announcement ${id} is unreadable`)
  const announcement = decoded.message.body
  const now = ctx.clock()
  const { closesAt } = biddingCloses(announcement)
  if (now > closesAt + ASSIGNMENT_GRACE_MS) refuseChosen('WrongState', `assignment came ${Math.round((now - closesAt) / 1000)} s after bidding closed (limit ${ASSIGNMENT_GRACE_MS / 1000} s)`)
  if (announcement.job_params.deadline !== undefined && now > Date.parse(announcement.job_params.deadline)) refuseChosen('WrongState', 'the job deadline has passed')
  const limit = ctx.opts.maxConcurrent?.() ?? Infinity
  if (ctx.running.size >= limit) refuseChosen('PolicyRejected', `already running ${ctx.running.size} job(s), limit ${limit}`)
  return { announcement, region: ann.region, price: bid?.price }
}

/**
 * Accepts an assignment (or refuses it by throwing a ProtocolError, which the mesh answers with its
 * reason). An accepted job is recorded (Assigned → Accepted) and returned to run after the answer.
 */
export function acceptAssignment (ctx: ExecutorContext, m: MessageOf<'AssignJobV1'>, accepting: boolean): { job: JobRow, announcement: JobAnnouncementV1, rj: Running } | undefined {
  const a = m.body
  const ok = checkAssignment(ctx, a, accepting)
  if (ok === undefined) return undefined
  const id = a.announcement_id
  const jp = ok.announcement.job_params
  const job = ctx.opts.store.createJob({
    announcementId: id, originatorDid: a.originator_did, price: ok.price, wasmCid: jp.wasm_cid, inputDataCid: jp.input_data_cid,
    maxFuel: typeof jp.max_fuel === 'bigint' ? jp.max_fuel : BigInt(jp.max_fuel), timeoutSeconds: jp.timeout_seconds, isInteractive: jp.is_interactive,
    region: ok.region, at: ctx.clock()
  })
  const rj: Running = {
    announcementId: id, originatorDid: a.originator_did, originatorPeerId: peerIdFromDid(a.originator_did),
    controller: new AbortController(), done: Promise.resolve(), nextInputSeq: 0, inputClosed: false, pendingInput: [], pendingEnd: false, statusChain: Promise.resolve()
  }
  ctx.running.set(id, rj)
  return { job, announcement: ok.announcement, rj }
}

/** Feeds interactive stdin to a running job, strictly in sequence (profile 6.3). */
export function acceptInput (ctx: ExecutorContext, m: MessageOf<'JobInteractiveInputV1'>): void {
  const b = m.body
  const id = b.announcement_id
  if (b.executor_did !== ctx.opts.identity.did) throw new ProtocolError('NotAssignedToYou', 'input names another executor')
  const job = ctx.opts.store.getJob(id)
  if (job === undefined) throw new ProtocolError('UnknownJob', `no job ${id}`)
  if (job.originatorDid !== b.originator_did) throw new ProtocolError('NotYourJob', `job ${id} belongs to another originator`)
  if (!job.isInteractive) throw new ProtocolError('WrongState', `job ${id} is not interactive`)
  const rj = ctx.running.get(id)
  if (rj === undefined) throw new ProtocolError('WrongState', `job ${id} is ${job.state}`)
  if (rj.inputClosed) throw new ProtocolError('WrongState', `input #${b.sequence_number} after the final input`)
  if (b.sequence_number < rj.nextInputSeq) throw new ProtocolError('Replay', `input #${b.sequence_number} already received`)
  if (b.sequence_number > rj.nextInputSeq) throw new ProtocolError('WrongState', `input #${b.sequence_number} out of sequence: expected #${rj.nextInputSeq}`)
  rj.nextInputSeq++
  if (b.is_final) rj.inputClosed = true
  if (rj.write !== undefined) {
    if (b.data.length > 0) void rj.write(b.data)
    if (b.is_final) rj.end?.()
  } else {
    if (b.data.length > 0) rj.pendingInput.push(b.data)
    if (b.is_final) rj.pendingEnd = true
  }
}
