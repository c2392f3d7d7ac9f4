/** Small pure formatting helpers shared by main (messages) and the renderer (display). */
import { TOKEN_UNIT, type Amount, type ReachabilityState, type ReachabilityView } from './contract.js'
import { isRuleId, RULE_TEXT } from '../policy/rules.js'

/** Human text of a no-bid rule, for counters like "43 skipped: job pays less than our price" (from the rule table). */
export function ruleText (rule: string): string {
  return isRuleId(rule) ? RULE_TEXT[rule] : rule.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()
}

export function skippedText (rule: string, count: number): string {
  return `${count} skipped: ${ruleText(rule)}`
}

/** "5 tokens", "1 token", "1 234 567 tokens"; "—" for none. */
export function formatTokens (a: Amount | null | undefined): string {
  if (a === null || a === undefined) return '—'
  return `${formatAmount(a)} ${a === '1' ? TOKEN_UNIT.replace(/s$/, '') : TOKEN_UNIT}`
}

const GIB = 1024 ** 3
const MIB = 1024 ** 2
/** "2.0 GiB", "512 MiB". */
export function formatBytes (n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—'
  if (n >= GIB) return `${(n / GIB).toFixed(n >= 100 * GIB ? 0 : 1)} GiB`
  if (n >= MIB) return `${Math.round(n / MIB)} MiB`
  return `${n} bytes`
}

/** "2 cores", "0.5 cores", "1 core". */
export function formatCores (n: number): string {
  const v = Math.round(n * 1000) / 1000
  return `${v} core${v === 1 ? '' : 's'}`
}

/** "3 000 000 fuel" → "3 million", for fuel budgets in prose. */
export function formatFuel (a: Amount | null | undefined): string {
  if (a === null || a === undefined) return '—'
  const n = Number(a)
  if (n >= 1e9) return `${(n / 1e9).toFixed(n % 1e9 === 0 ? 0 : 1)} billion`
  if (n >= 1e6) return `${(n / 1e6).toFixed(n % 1e6 === 0 ? 0 : 1)} million`
  return formatAmount(a)
}

/** The pricing of a policy in plain words, e.g. "8 tokens + 2 tokens per million fuel". */
export function priceText (p: { mode: string, price?: Amount | null, floor?: Amount | null, ratePerMillionFuel?: Amount | null }): string {
  if (p.mode === 'fixed') return `${formatTokens(p.price ?? '0')} per job`
  if (p.mode === 'per_mfuel') return `${formatTokens(p.ratePerMillionFuel ?? '0')} per million fuel`
  return `${formatTokens(p.floor ?? '0')} + ${formatTokens(p.ratePerMillionFuel ?? '0')} per million fuel`
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
