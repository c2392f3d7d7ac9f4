/**
 * Bid selection per ExecutionPolicy (wire profile 6.2). Pure: same bids, policy and reputations →
 * same answer, independent of arrival order.
 *
 * 1. Filters, each with a readable reason: `region_filter` (the bid must name that region),
 *    `max_price` (a bid without a price is free), `min_reputation` (reputation from OUR history,
 *    see reputation.ts; unknown executors get the neutral default).
 * 2. Score (integers only, like the wire format):
 *      repScore   = reputation × 10                          (0–1000)
 *      priceScore = 1000 × cheapest eligible price / price   (1000 for the cheapest and for free bids)
 *      score      = rep_weight × repScore + price_weight × priceScore
 *    When both weights are 0 (or there is no policy) the cheapest bid wins (price_weight = 1000).
 * 3. Order: higher score, then lower price, then higher reputation, then DID (bytewise ascending).
 */
import type { ExecutionPolicy } from '../../shared/protocol/index.js'

/** Reputation an executor we never worked with gets (0–100). */
export const DEFAULT_REPUTATION = 50

export interface CandidateBid {
  executorDid: string
  executorPeerId: string
  /** undefined: a free bid */
  price?: bigint
  region?: string
  receivedAt?: number
}

export interface RankedBid {
  bid: CandidateBid
  reputation: number
  score: bigint
}

export interface RefusedBid {
  bid: CandidateBid
  reputation: number
  reasons: string[]
}

export interface Selection {
  /** The winner (first of `ranking`), undefined when no bid is eligible. */
  chosen: CandidateBid | undefined
  /** Eligible bids, best first. */
  ranking: RankedBid[]
  /** Bids the policy excludes, with every reason. */
  refused: RefusedBid[]
}

export type Reputations = ReadonlyMap<string, number> | Readonly<Record<string, number>> | ((did: string) => number | undefined)

function reputationOf (reps: Reputations | undefined, did: string, dflt: number): number {
  let r: number | undefined
  if (reps === undefined) r = undefined
  else if (typeof reps === 'function') r = reps(did)
  else if (reps instanceof Map) r = (reps as ReadonlyMap<string, number>).get(did)
  else r = Object.prototype.hasOwnProperty.call(reps, did) ? (reps as Readonly<Record<string, number>>)[did] : undefined
  if (r === undefined || !Number.isFinite(r)) return dflt
  return Math.max(0, Math.min(100, Math.round(r)))
}

const big = (v: number | bigint | undefined): bigint | undefined => (v === undefined || v === null ? undefined : BigInt(v))

/** Why `bid` is not eligible under `policy` (empty: eligible). */
export function policyRefusals (bid: CandidateBid, policy: ExecutionPolicy | undefined, reputation: number): string[] {
  const reasons: string[] = []
  if (policy === undefined) return reasons
  if (policy.region_filter !== undefined && policy.region_filter !== null) {
    if (bid.region === undefined) reasons.push(`bid names no region; region_filter is ${policy.region_filter}`)
    else if (bid.region !== policy.region_filter) reasons.push(`region ${bid.region} is not ${policy.region_filter}`)
  }
  const max = big(policy.max_price)
  if (max !== undefined && (bid.price ?? 0n) > max) reasons.push(`price ${bid.price ?? 0n} is above max_price ${max}`)
  if (policy.min_reputation !== undefined && policy.min_reputation !== null && reputation < policy.min_reputation) {
    reasons.push(`reputation ${reputation} is below min_reputation ${policy.min_reputation}`)
  }
  return reasons
}

function compareDid (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function selectBid (
  bids: readonly CandidateBid[],
  policy: ExecutionPolicy | undefined,
  reputations?: Reputations,
  opts: { defaultReputation?: number } = {}
): Selection {
  const dflt = opts.defaultReputation ?? DEFAULT_REPUTATION
  const eligible: Array<{ bid: CandidateBid, reputation: number }> = []
  const refused: RefusedBid[] = []
  const seen = new Set<string>()
  for (const bid of bids) {
    if (seen.has(bid.executorDid)) continue // an executor bids once; keep its first bid
    seen.add(bid.executorDid)
    const reputation = reputationOf(reputations, bid.executorDid, dflt)
    const reasons = policyRefusals(bid, policy, reputation)
    if (reasons.length > 0) refused.push({ bid, reputation, reasons })
    else eligible.push({ bid, reputation })
  }
  let repW = BigInt(policy?.rep_weight ?? 0)
  let priceW = BigInt(policy?.price_weight ?? 0)
  if (repW === 0n && priceW === 0n) { priceW = 1000n; repW = 0n }
  let cheapest: bigint | undefined
  for (const e of eligible) {
    const p = e.bid.price ?? 0n
    if (cheapest === undefined || p < cheapest) cheapest = p
  }
  const ranking: RankedBid[] = eligible.map((e) => {
    const p = e.bid.price ?? 0n
    const priceScore = p === 0n ? 1000n : (1000n * (cheapest ?? 0n)) / p
    const score = repW * BigInt(e.reputation * 10) + priceW * priceScore
    return { bid: e.bid, reputation: e.reputation, score }
  })
  ranking.sort((a, b) => {
    if (a.score !== b.score) return a.score > b.score ? -1 : 1
    const pa = a.bid.price ?? 0n
    const pb = b.bid.price ?? 0n
    if (pa !== pb) return pa < pb ? -1 : 1
    if (a.reputation !== b.reputation) return b.reputation - a.reputation
    return compareDid(a.bid.executorDid, b.bid.executorDid)
  })
  refused.sort((a, b) => compareDid(a.bid.executorDid, b.bid.executorDid))
  return { chosen: ranking[0]?.bid, ranking, refused }
}
