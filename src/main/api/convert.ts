/** Store rows and protocol values → the JSON-safe views of the API contract. */
import { CID } from 'multiformats/cid'
import type {
  AnnouncementRow, JobRow, ReceiptRow, PolicyVersion, JsonValue
} from '../store/index.js'
import type {
  AnnouncementView, BidOutcomeView, Json, JsonObject, JobView, PolicyView, ReachabilityView, ReceiptSummaryView
} from '../../shared/api/index.js'
import type { ReachabilityStatus } from '../mesh/index.js'
import { base64FromBytes } from '../../shared/api/index.js'

export const amountStr = (v: bigint | number | undefined | null): string | null =>
  v === undefined || v === null ? null : BigInt(v).toString()

export function jsonObject (v: JsonValue | undefined): JsonObject {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {}
}

const TERMINAL = new Set(['Completed', 'Failed', 'Cancelled'])

export function jobView (j: JobRow, now: number, fuelUsed: bigint | null, description: string | null = null, earned: bigint | null = null): JobView {
  return {
    announcementId: j.announcementId,
    originatorDid: j.originatorDid,
    description,
    state: j.state,
    price: amountStr(j.price),
    earned: earned === null ? null : earned.toString(),
    wasmCid: j.wasmCid,
    inputDataCid: j.inputDataCid ?? null,
    maxFuel: j.maxFuel.toString(),
    fuelUsed: fuelUsed === null ? null : fuelUsed.toString(),
    timeoutSeconds: j.timeoutSeconds,
    isInteractive: j.isInteractive,
    failureReason: j.failureReason ?? null,
    details: j.details ?? null,
    region: j.region ?? null,
    createdAt: j.createdAt,
    updatedAt: j.updatedAt,
    durationMs: Math.max(0, (TERMINAL.has(j.state) ? j.updatedAt : now) - j.createdAt),
    logTruncated: j.logTruncated
  }
}

export function announcementView (a: AnnouncementRow, bid: BidOutcomeView | null = null): AnnouncementView {
  const d = a.summary.description
  return {
    announcementId: a.announcementId,
    originatorDid: a.originatorDid,
    receivedAt: a.receivedAt,
    summary: a.summary as JsonObject,
    description: typeof d === 'string' && d !== '' ? d : null,
    decision: a.decision,
    price: amountStr(a.price),
    bid,
    reasons: a.reasons.map((r) => ({ rule: r.rule, ok: r.ok, text: r.text })),
    firstFailedRule: a.firstFailedRule ?? null,
    policyVersion: a.policyVersion ?? null,
    region: a.region ?? null
  }
}

export function receiptSummary (r: ReceiptRow, description: string | null = null): ReceiptSummaryView {
  return {
    cid: r.cid,
    announcementId: r.announcementId,
    description,
    status: r.status,
    failureReason: r.failureReason ?? null,
    fuelUsed: r.fuelUsed.toString(),
    price: amountStr(r.price),
    createdAt: r.createdAt
  }
}

export function policyView (p: PolicyVersion): PolicyView {
  return { version: p.version, policy: jsonObject(p.policy), note: p.note ?? null, createdAt: p.createdAt }
}

/** A decoded CBOR value made JSON-safe: bytes → { $bytes: base64 }, big ints → strings, CIDs → { '/': cid }. */
export function cborToJson (v: unknown, depth = 0): Json {
  if (depth > 40) return '…'
  if (v === null || v === undefined) return null
  if (typeof v === 'boolean' || typeof v === 'string') return v
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : String(v)
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return { $bytes: base64FromBytes(v) }
  const cid = CID.asCID(v)
  if (cid !== null) return { '/': cid.toString() }
  if (Array.isArray(v)) return v.map((x) => cborToJson(x, depth + 1))
  if (typeof v === 'object') {
    const out: JsonObject = {}
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = cborToJson(x, depth + 1)
    return out
  }
  return String(v)
}

const isCircuitAddr = (a: string): boolean => a.includes('/p2p-circuit')

/** "203.0.113.7:4001" or "[2001:db8::1]:4001" / "2001:db8::1:4001" (how peers saw us) → a multiaddr. */
export function hostPortToMultiaddr (hp: string): string {
  const i = hp.lastIndexOf(':')
  if (i <= 0) return hp
  const host = hp.slice(0, i).replace(/^\[|\]$/g, '')
  const port = hp.slice(i + 1)
  if (!/^\d+$/.test(port)) return hp
  return `/${host.includes(':') ? 'ip6' : 'ip4'}/${host}/tcp/${port}`
}

/**
 * The mesh node's reachability (src/main/mesh/nat.ts) → the API view. `addrs` are all our announced
 * multiaddrs (direct and circuit); `connections` the open ones.
 */
export function reachabilityView (s: ReachabilityStatus, live: {
  addrs: string[]
  connections: Array<{ relayed: boolean }>
  holePunched: number
  changedAt: number | null
}): ReachabilityView {
  const relayAddrs = [...new Set([...s.relayAddrs, ...live.addrs.filter(isCircuitAddr)])]
  const relayed = live.connections.filter((c) => c.relayed).length
  const confirmed = s.publicAddrs[0]
  const seen = s.observedAddrs[0]
  return {
    state: s.reachability,
    autonat: s.autonat,
    natDetected: s.natDetected,
    listenAddrs: live.addrs.filter((a) => !isCircuitAddr(a)),
    relayAddrs,
    publicAddrs: [...s.publicAddrs],
    observedAddrs: [...s.observedAddrs],
    observedPublicAddr: confirmed ?? (s.natDetected && seen !== undefined ? hostPortToMultiaddr(seen) : null),
    checks: { ok: s.checks.ok, failed: s.checks.failed },
    connections: { direct: live.connections.length - relayed, relayed },
    holePunched: live.holePunched,
    changedAt: live.changedAt
  }
}
