/** Phase 1, announce: serve the module (public) and the input (assignee only), sign and publish JobAnnouncementV1. */
import { formatDuration, formatTimestamp, signMessage } from '../../../shared/protocol/index.js'
import type { JobAnnouncementV1, MeshJobParams, Unsigned } from '../../../shared/protocol/index.js'
import { wireUint } from '../check.js'
import type { Submission } from '../context.js'

/**
 * The announcement's job_params (profile 6.2), plus two keys the profile does not define (kept and
 * ignored by any receiver, profile 2): `wasm_size` and `input_size`, the byte lengths of the module
 * and input blocks, so an executor can tell before bidding whether they can reach it (e.g. through a
 * relay that limits each connection's data). Informative only: the blocks are checked by CID.
 */
function jobParams (sub: Submission): MeshJobParams & { wasm_size: number, input_size?: number } {
  const { job, checked, p } = sub
  const params: MeshJobParams & { wasm_size: number, input_size?: number } = {
    wasm_cid: p.wasmCid,
    description: checked.description,
    resources_required: { ...(job.resources ?? {}) },
    max_fuel: wireUint(checked.maxFuel),
    timeout_seconds: job.timeoutSeconds,
    is_interactive: p.interactive,
    qos_profile: checked.qos,
    execution_policy: checked.policy,
    wasm_size: job.module.byteLength
  }
  if (p.inputCid !== undefined) params.input_data_cid = p.inputCid
  if (job.input !== undefined) params.input_size = job.input.byteLength
  return params
}

/**
 * Behind a NAT, bids reach us only through a relay reservation: an announcement sent before we hold
 * one gets bids that cannot be delivered (the executor finds only our private address). So when a
 * NAT is detected and we are neither public nor relayed yet, wait for a reservation, up to
 * `reachableWaitMs`; then announce anyway.
 */
async function untilReachable (sub: Submission): Promise<void> {
  const { node, settings } = sub.ctx
  const waiting = (r: ReturnType<typeof node.reachability>): boolean => r.natDetected && r.reachability !== 'public' && r.relayAddrs.length === 0
  if (!waiting(node.reachability()) || settings.reachableWaitMs <= 0) return
  await node.events.waitFor('reachability:changed', { predicate: (r) => !waiting(r), signal: AbortSignal.any([sub.signal, AbortSignal.timeout(settings.reachableWaitMs)]) })
    .catch(() => { sub.signal.throwIfAborted() })
}

/** Announces the job on the global topic (and the region's); the bidding window starts now. Returns when it was announced. */
export async function announce (sub: Submission): Promise<number> {
  const { ctx, job, checked, p } = sub
  const { identity } = ctx
  await untilReachable(sub)
  const unsigned: Unsigned<JobAnnouncementV1> = {
    announcement_id: p.id,
    originator_did: identity.did,
    job_params: jobParams(sub),
    timestamp: formatTimestamp(ctx.now()),
    bidding_duration: formatDuration(checked.windowMs)
  }
  const ann = signMessage('JobAnnouncementV1', unsigned, identity)
  ctx.storeSafe((s) => s.recordSubmittedJob({
    announcementId: p.id,
    raw: ann.bytes,
    summary: {
      description: checked.description.slice(0, 160), wasm_cid: p.wasmCid, input_data_cid: p.inputCid ?? null,
      max_fuel: String(checked.maxFuel), timeout_seconds: job.timeoutSeconds, is_interactive: p.interactive,
      max_price: checked.maxPrice === undefined ? null : String(checked.maxPrice), region_filter: job.region ?? null,
      selection: job.selection ?? 'window', bidding_window_ms: checked.windowMs
    },
    createdAt: ctx.now()
  }))
  const announcedAt = Date.now()
  sub.overIntake = !ctx.intake(ctx.identity.did)
  p.windowClosesAt = announcedAt + checked.windowMs
  // executors' bids get past a spent per-peer rate limit once each while the window is open
  sub.endBidding = ctx.node.openBidding(p.id)
  sub.cleanups.push(sub.endBidding)
  const pub = await ctx.node.publishAnnouncement(ann.bytes, job.region)
  sub.recipients = pub.recipients
  sub.emit({
    type: 'job:announced', announcementId: p.id, wasmCid: p.wasmCid, ...(p.inputCid !== undefined ? { inputCid: p.inputCid } : {}),
    topics: pub.topics, recipients: pub.recipients, biddingWindowMs: checked.windowMs
  })
  return announcedAt
}
