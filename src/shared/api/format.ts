/** Small pure formatting helpers shared by main (messages) and the renderer (display). */
import type { Amount, ReachabilityState, ReachabilityView } from './contract.js'
import { isRuleId, RULE_TEXT } from '../policy/rules.js'

/** Human text of a no-bid rule, for counters like "43 skipped: price below floor" (from the rule table). */
export function ruleText (rule: string): string {
  return isRuleId(rule) ? RULE_TEXT[rule] : rule.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()
}

export function skippedText (rule: string, count: number): string {
  return `${count} skipped: ${ruleText(rule)}`
}

/** Groups digits of a decimal amount string: "1234567" → "1 234 567". */
export function formatAmount (a: Amount | null | undefined): string {
  if (a === null || a === undefined) return '—'
  return a.replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f')
}

export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  const h = Math.floor(m / 60)
  return `${h} h ${m % 60} min`
}

export function shortId (s: string, keep = 10): string {
  return s.length <= keep * 2 + 1 ? s : `${s.slice(0, keep)}…${s.slice(-keep)}`
}

export function base64FromBytes (bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

export function bytesFromBase64 (b64: string): Uint8Array {
  const s = atob(b64)
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}

const REACHABILITY_TEXT: Record<ReachabilityState, string> = {
  public: 'public: peers can connect directly',
  relayed: 'behind NAT, reachable via relay',
  unreachable: 'unreachable: behind NAT, no relay',
  unknown: 'unknown (not enough answers yet)'
}

/** One line for a reachability state, e.g. "behind NAT, reachable via relay". */
export function reachabilityText (state: ReachabilityState): string {
  return REACHABILITY_TEXT[state]
}

/** The view of a node that has not learned anything about its reachability (or runs without NAT traversal). */
export function unknownReachability (listenAddrs: string[] = []): ReachabilityView {
  return {
    state: 'unknown',
    autonat: 'unknown',
    natDetected: false,
    listenAddrs: [...listenAddrs],
    relayAddrs: [],
    publicAddrs: [],
    observedAddrs: [],
    observedPublicAddr: null,
    checks: { ok: 0, failed: 0 },
    connections: { direct: 0, relayed: 0 },
    holePunched: 0,
    changedAt: null
  }
}
