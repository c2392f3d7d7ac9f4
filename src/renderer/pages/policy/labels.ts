/** The words of the policy forms: names of the parts of composite fields, QoS profiles, and what a default means. */
import type { PolicyError } from '../../../shared/policy/types.js'
import { FIELDS, type PolicyField } from '../../../shared/policy/fields.js'
import type { Key } from './draft.js'

/** Labels of the parts of composite fields (errors name them after the field's label). */
const SUB_LABELS: Record<string, string> = {
  'pricing.mode': 'how you charge',
  'pricing.price': 'price per job',
  'pricing.floor': 'minimum per job',
  'pricing.ratePerMillionFuel': 'rate per million fuel',
  'offer.cpuCores': 'CPU cores',
  'offer.cpuFraction': 'CPU share',
  'offer.ramBytes': 'memory',
  'offer.ramFraction': 'memory share',
  'offer.diskBytes': 'disk space',
  'offer.offerGpus': 'GPUs',
  'idleOnly.maxLoadPerCore': 'busiest load per core',
  'idleOnly.minUserIdleSeconds': 'user away for at least',
  'idleOnly.graceSeconds': 'ignore spikes shorter than',
  'thermalGuard.stopAboveC': 'stop above',
  'thermalGuard.resumeBelowC': 'resume below',
  'minOriginatorRecord.maxBidsWithoutAssignment': 'bids without ever being picked',
  'minOriginatorRecord.maxFailedWithoutCompletion': 'failed jobs without one completed',
  'schedule.timezone': 'time zone'
}
export const QOS_WORDS: Record<string, string> = { BestEffort: 'Best effort', LowLatency: 'Low latency', CostOptimized: 'Cost optimised', GuaranteedCompletion: 'Guaranteed completion' }

/** The label an error is named by: the field's label, plus the part for composite fields. */
export function errorLabel (e: Pick<PolicyError, 'path' | 'label'>): string {
  const base = e.path.replace(/\[\d+\]/g, '')
  const sub = SUB_LABELS[base] ?? (base.startsWith('schedule.windows') ? `window ${Number(/\[(\d+)\]/.exec(e.path)?.[1] ?? 0) + 1}${base.endsWith('.days') ? ' days' : base.endsWith('.from') ? ' from' : base.endsWith('.to') ? ' to' : ''}` : undefined)
  const entry = /^(allowedRegions|allowedOriginators|blockedOriginators|acceptedQos)\[(\d+)\]$/.exec(e.path)
  return sub !== undefined ? `${e.label} — ${sub}` : entry !== null ? `${e.label} — entry ${Number(entry[2]) + 1}` : e.label
}

/** What leaving a field out means, where "none" would not say it. */
const EMPTY_MEANS: Partial<Record<Key, string>> = {
  schedule: 'always (no working hours)', pausedUntil: 'not paused', idleOnly: 'off', thermalGuard: 'off', maxTimeoutSeconds: 'no limit', maxFuel: 'no limit',
  allowedRegions: 'any region', allowedOriginators: 'anyone not blocked', blockedOriginators: 'nobody', minOriginatorRecord: 'no minimum', acceptedQos: 'all four'
}

/** A field's default in words (the "Default: …" line under it). */
export function defaultText (k: Key): string {
  const f = FIELDS[k] as PolicyField<Key>
  const empty = EMPTY_MEANS[k]
  if (empty !== undefined) return empty
  const j = f.toJson(f.default as never)
  if (j === undefined) return 'none'
  if (typeof j === 'boolean') return j ? 'on' : 'off'
  if (Array.isArray(j)) return j.length === 0 ? 'empty' : j.map((x) => QOS_WORDS[String(x)] ?? String(x)).join(', ')
  if (k === 'pricing') return '0 tokens per job (free)'
  if (typeof j === 'object' && j !== null) return Object.keys(j).length === 0 ? 'the whole machine' : JSON.stringify(j)
  return `${String(j)}${f.unit !== undefined ? ` ${j === 1 ? f.unit.replace(/s$/, '') : f.unit}` : ''}`
}
