/**
 * Phases 2 and 3: collect bids (until the window closes, or the first bid the policy accepts), then
 * assign with fallback — the best-ranked bidder first; one that refuses, or sends no status within
 * `acceptTimeoutMs`, is replaced by the next one (bids that arrive meanwhile join the ranking).
 */
import { DEFAULT_INTAKE } from '../../../shared/policy/index.js'
import { formatTimestamp, signMessage } from '../../../shared/protocol/index.js'
import { MeshError } from '../../mesh/index.js'
import { errText } from '../check.js'
import type { Submission } from '../context.js'
import { NoBidsError, NoValidBidsError } from '../errors.js'
import { selectBid } from '../select.js'
import type { CandidateBid, Selection } from '../select.js'
import type { SubmitResult } from '../types.js'

type Outcome = 'refused' | 'silent' | 'accepted'
export type Attempts = SubmitResult['attempts']

function select (sub: Submission): Selection {
  const { ctx, p } = sub
  return selectBid(p.bids, p.policy, ctx.reputationOf, { defaultReputation: ctx.settings.defaultReputation })
}

/** Waits for bids: the whole window, or (first-valid-bid) until one bid passes the policy. */
export async function collectBids (sub: Submission): Promise<void> {
  const { p } = sub
  if (sub.job.selection === 'first-valid-bid') await sub.until(() => select(sub).chosen !== undefined, p.windowClosesAt)
  else await sub.until(() => false, p.windowClosesAt)
}

/** Assigns the job to the best bidder that accepts it; throws NoBids / NoValidBids when nobody does. */
export async function assignWithFallback (sub: Submission): Promise<{ chosen: CandidateBid, attempts: Attempts, assignedAt: number }> {
  const { p } = sub
  const attempts: Attempts = []
  const why = new Map<string, string[]>()
  const untried = (sel: Selection): Selection['ranking'][number] | undefined => sel.ranking.find((r) => !attempts.some((a) => a.executorDid === r.bid.executorDid))
  let announcedSelection = false
  for (;;) {
    const sel = select(sub)
    if (!announcedSelection) {
      announcedSelection = true
      sub.emit({ type: 'selection:made', announcementId: p.id, chosen: sel.chosen?.executorDid, ranking: sel.ranking, refused: sel.refused })
    }
    const next = untried(sel)
    if (next === undefined) {
      // more bids may still come in during the window (first-valid-bid mode) or its grace period
      if (await sub.until(() => untried(select(sub)) !== undefined, p.windowClosesAt + p.bidGraceMs)) continue
      noneAccepted(sub, sel, attempts, why)
    }
    const bid = next.bid
    const outcome = await assignOne(sub, bid, attempts.length + 1)
    attempts.push({ executorDid: bid.executorDid, outcome })
    if (outcome === 'accepted') return { chosen: bid, attempts, assignedAt: Date.now() }
    why.set(bid.executorDid, [outcome === 'silent' ? `sent no status within ${sub.ctx.settings.acceptTimeoutMs} ms of the assignment` : 'refused the assignment'])
  }
}

/**
 * Why nobody may have bid: this node announced faster than executors take from one originator by
 * default; else whether the announcement reached anyone (executors never say why they did not bid:
 * the reasons are on their side, in the dashboard's Market page).
 */
function noBidsHint (sub: Submission): string {
  if (sub.overIntake === true) {
    return ` (this node announced jobs faster than executors evaluate them from one originator by default: ${DEFAULT_INTAKE.burst} at once, then ${DEFAULT_INTAKE.perSecond}/s; space the submissions out)`
  }
  if (sub.recipients === 0) return ' (the announcement reached no peer: check --bootstrap, and that an executor is running and connected)'
  if (sub.recipients === undefined) return ''
  return ` (it reached ${sub.recipients} peer(s); an executor does not bid while its job slots are full, while it is paused, or when its policy refuses the job: its dashboard's Market page says which)`
}

/** Nobody left to try: NoBids, or NoValidBids with every reason. */
function noneAccepted (sub: Submission, sel: Selection, attempts: Attempts, why: Map<string, string[]>): never {
  const { p } = sub
  if (p.bids.length === 0) {
    sub.setState('NoBids')
    throw new NoBidsError(`no executor bid on ${p.id} within the ${sub.checked.windowMs} ms bidding window${noBidsHint(sub)}`)
  }
  const all = [...sel.refused.map((r) => ({ executorDid: r.bid.executorDid, reasons: r.reasons })),
    ...[...why].map(([executorDid, reasons]) => ({ executorDid, reasons }))]
  sub.setState('NoValidBids')
  throw new NoValidBidsError(attempts.length === 0
    ? `${p.bids.length} bid(s) on ${p.id}, none acceptable: ${all.map((w) => `${w.executorDid.slice(0, 20)}…: ${w.reasons.join('; ')}`).join(' | ')}`
    : `every acceptable bidder on ${p.id} refused the assignment or went silent (${attempts.map((a) => `${a.executorDid.slice(0, 20)}…: ${a.outcome}`).join(', ')})`, all)
}

/** Sends AssignJobV1 to one bidder (granting it the input) and waits for its first status. */
async function assignOne (sub: Submission, bid: CandidateBid, attempt: number): Promise<Outcome> {
  const { ctx, p, signal } = sub
  const { blocks, identity } = ctx
  p.assignee = bid
  p.accepted = false
  p.running = false
  if (p.inputCid !== undefined) blocks.allow(p.inputCid, bid.executorPeerId)
  // its statuses, receipt notice and interactive output get a session's rate allowance
  const endSession = ctx.node.openDirectSession(bid.executorPeerId)
  sub.cleanups.push(endSession)
  const unassign = (): void => {
    if (p.inputCid !== undefined) blocks.revoke(p.inputCid, bid.executorPeerId)
    p.assignee = undefined
    endSession()
  }
  ctx.storeSafe((s) => s.chooseExecutor(p.id, bid.executorDid, ctx.now()))
  sub.state = 'Assigned'
  const msg = signMessage('AssignJobV1', { announcement_id: p.id, originator_did: identity.did, executor_did: bid.executorDid, timestamp: formatTimestamp(ctx.now()) }, identity)
  let answer
  try {
    answer = await ctx.node.sendDirect(bid.executorPeerId, msg.bytes, { signal })
  } catch (err) {
    if (signal.aborted) throw signal.reason
    unassign()
    sub.emit({ type: 'assign:refused', announcementId: p.id, executorDid: bid.executorDid, error: err instanceof MeshError ? err.code : 'Transport', message: errText(err) })
    return 'refused'
  }
  if (!answer.ok) {
    unassign()
    sub.emit({ type: 'assign:refused', announcementId: p.id, executorDid: bid.executorDid, error: answer.error, message: answer.message })
    return 'refused'
  }
  sub.emit({ type: 'job:assigned', announcementId: p.id, executorDid: bid.executorDid, attempt, ...(bid.price !== undefined ? { price: bid.price } : {}) })
  const t0 = Date.now()
  if (await sub.until(() => p.accepted, t0 + ctx.settings.acceptTimeoutMs)) return 'accepted'
  unassign()
  ctx.book.record(bid.executorDid, 'failed')
  sub.emit({ type: 'assignee:silent', announcementId: p.id, executorDid: bid.executorDid, waitedMs: Date.now() - t0 })
  return 'silent'
}
