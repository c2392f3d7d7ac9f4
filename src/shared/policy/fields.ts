/**
 * One descriptor per policy field: its label and help for people, its unit, its default, how its JSON
 * is read (with every problem reported) and written. validatePolicy, policyToJson, DEFAULT_POLICY, the
 * CLI, the API and the dashboard's forms all come from this table, so a field cannot be half-added:
 * `FIELDS` is keyed by every `Policy` key (a missing descriptor does not compile).
 */
import { QOS_PROFILES, type QosProfile } from '../protocol/types.js'
import { parseBytesQuantity } from '../protocol/resources.js'
import { isValidRegion } from '../protocol/region.js'
import type { IdleRule, OriginatorRecordRule, Policy, PolicyJsonValue, Pricing, ResourceCaps, Schedule, ScheduleWindow, ThermalGuardRule, Weekday } from './types.js'
import { WEEKDAYS } from './types.js'

/** Reports a problem at a path relative to the field ('' = the field itself). */
export type Report = (subPath: string, message: string) => void

export type FieldGroup = 'bidding' | 'pricing' | 'resources' | 'schedule' | 'originators' | 'jobs'

export interface PolicyField<K extends keyof Policy> {
  key: K
  label: string
  /** plain-language explanation (forms show it under the field) */
  help: string
  unit?: string
  group: FieldGroup
  default: Policy[K]
  /** Reads the field's JSON (never undefined; null only for nullable fields, which mean "default"). */
  parse: (v: unknown, err: Report) => Policy[K] | undefined
  /** The JSON form; undefined leaves the key out. */
  toJson: (v: Policy[K]) => PolicyJsonValue | undefined
}

type Obj = Record<string, unknown>
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** True when `v` nests objects/arrays deeper than `max` levels. Iterative: safe on any depth. */
export function nestsDeeperThan (v: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[v, 0]]
  while (stack.length > 0) {
    const [x, d] = stack.pop() as [unknown, number]
    if (x === null || typeof x !== 'object') continue
    if (d + 1 > max) return true
    for (const child of Object.values(x)) stack.push([child, d + 1])
  }
  return false
}

/** A short rendering of a bad value for messages (never recursive on deep input). */
export function show (v: unknown): string {
  if (v === undefined) return 'nothing'
  if (nestsDeeperThan(v, 3)) return Array.isArray(v) ? 'a nested array' : 'a nested object'
  try {
    const s = JSON.stringify(v)
    return s.length > 60 ? s.slice(0, 57) + '...' : s
  } catch {
    return typeof v
  }
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/
const MAX_U64 = (1n << 64n) - 1n

// ---- value readers (each reports its own problem and returns undefined) ----------------------

const bool = (v: unknown, err: Report, sub = ''): boolean | undefined => {
  if (typeof v === 'boolean') return v
  err(sub, `must be on or off (true/false), got ${show(v)}`)
  return undefined
}

const int = (v: unknown, err: Report, min: number, max = Number.MAX_SAFE_INTEGER, sub = ''): number | undefined => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v
  err(sub, `must be a whole number ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}, got ${show(v)}`)
  return undefined
}

/** A token amount or fuel count: a non-negative integer (a decimal string for values above 2^53). */
const tokens = (v: unknown, err: Report, sub = ''): bigint | undefined => {
  let b: bigint | undefined
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) b = BigInt(v)
  else if (typeof v === 'string' && /^(0|[1-9]\d*)$/.test(v)) b = BigInt(v)
  if (b !== undefined && b <= MAX_U64) return b
  const unsafe = typeof v === 'number' && Number.isInteger(v) && v > 0
  if (b !== undefined || (unsafe && BigInt(v) > MAX_U64)) err(sub, `must be at most ${MAX_U64} (the wire's 64-bit limit), got ${show(v)}`)
  else if (unsafe) err(sub, `${show(v)} is above 2^53, where JSON numbers lose digits: write it as a decimal string in quotes`)
  else err(sub, `must be a whole number of 0 or more, got ${show(v)}`)
  return undefined
}

const fraction = (v: unknown, err: Report, sub: string): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1) return v
  err(sub, `must be a share between 0 and 1 (e.g. 0.5 for half), got ${show(v)}`)
  return undefined
}

const nonNegative = (v: unknown, err: Report, sub: string, what: string): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v
  err(sub, `must be ${what} of 0 or more, got ${show(v)}`)
  return undefined
}

const bytes = (v: unknown, err: Report, sub: string): number | undefined => {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v
  if (typeof v === 'string') {
    try { return parseBytesQuantity(v) } catch { /* reported below, with the accepted forms */ }
  }
  err(sub, `must be an amount like "8GiB" or "512MiB" (or a number of bytes), got ${show(v)}`)
  return undefined
}

const strList = (v: unknown, err: Report, check: (s: string) => string | undefined): string[] | undefined => {
  if (!Array.isArray(v)) { err('', `must be a list, got ${show(v)}`); return undefined }
  const out: string[] = []
  v.forEach((x, i) => {
    if (typeof x !== 'string') { err(`[${i}]`, `must be text, got ${show(x)}`); return }
    const problem = check(x)
    if (problem !== undefined) err(`[${i}]`, problem)
    else out.push(x)
  })
  return out
}

const knownKeys = (o: Obj, keys: readonly string[], err: Report): void => {
  for (const k of Object.keys(o)) if (!keys.includes(k)) err(`.${k}`, `unknown setting "${k}" (known: ${keys.join(', ')})`)
}

export function fmtMinutes (m: number): string {
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}

const hhmm = (v: unknown, err: Report, sub: string): number | undefined => {
  const m = typeof v === 'string' ? HHMM.exec(v) : null
  if (m === null) { err(sub, `must be a time "HH:MM" (00:00–24:00), got ${show(v)}`); return undefined }
  if (v === '24:00') return 24 * 60
  return Number(m[1]) * 60 + Number(m[2])
}

const amt = (b: bigint): number | string => b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString()
const didCheck = (s: string): string | undefined => s.startsWith('did:key:z') ? undefined : `${show(s)} is not a node identity (did:key:…)`

// ---- composite fields ------------------------------------------------------------------------

function parsePricing (v: unknown, err: Report): Pricing | undefined {
  if (!isObj(v)) { err('', `must say how you charge: {"mode": "fixed", "price": …}, got ${show(v)}`); return undefined }
  switch (v.mode) {
    case 'fixed': {
      knownKeys(v, ['mode', 'price'], err)
      const price = tokens(v.price, err, '.price')
      return price === undefined ? undefined : { mode: 'fixed', price }
    }
    case 'per_mfuel': {
      knownKeys(v, ['mode', 'ratePerMillionFuel'], err)
      const rate = tokens(v.ratePerMillionFuel, err, '.ratePerMillionFuel')
      return rate === undefined ? undefined : { mode: 'per_mfuel', ratePerMillionFuel: rate }
    }
    case 'floor_plus_rate': {
      knownKeys(v, ['mode', 'floor', 'ratePerMillionFuel'], err)
      const floor = tokens(v.floor, err, '.floor')
      const rate = tokens(v.ratePerMillionFuel, err, '.ratePerMillionFuel')
      return floor === undefined || rate === undefined ? undefined : { mode: 'floor_plus_rate', floor, ratePerMillionFuel: rate }
    }
    default:
      err('.mode', `must be "fixed" (one price per job), "per_mfuel" (per million units of work) or "floor_plus_rate" (a minimum plus per work), got ${show(v.mode)}`)
      return undefined
  }
}

function pricingToJson (p: Pricing): PolicyJsonValue {
  switch (p.mode) {
    case 'fixed': return { mode: 'fixed', price: amt(p.price) }
    case 'per_mfuel': return { mode: 'per_mfuel', ratePerMillionFuel: amt(p.ratePerMillionFuel) }
    case 'floor_plus_rate': return { mode: 'floor_plus_rate', floor: amt(p.floor), ratePerMillionFuel: amt(p.ratePerMillionFuel) }
  }
}

const OFFER_KEYS = ['cpuFraction', 'cpuCores', 'ramFraction', 'ramBytes', 'diskBytes', 'offerGpus'] as const

function parseOffer (v: unknown, err: Report): ResourceCaps | undefined {
  if (!isObj(v)) { err('', `must be an object, got ${show(v)}`); return undefined }
  knownKeys(v, OFFER_KEYS, err)
  const caps: ResourceCaps = {}
  if (v.cpuFraction !== undefined) { const f = fraction(v.cpuFraction, err, '.cpuFraction'); if (f !== undefined) caps.cpuFraction = f }
  if (v.ramFraction !== undefined) { const f = fraction(v.ramFraction, err, '.ramFraction'); if (f !== undefined) caps.ramFraction = f }
  if (v.cpuCores !== undefined) { const n = nonNegative(v.cpuCores, err, '.cpuCores', 'a number of cores'); if (n !== undefined) caps.cpuCores = n }
  if (v.ramBytes !== undefined) { const b = bytes(v.ramBytes, err, '.ramBytes'); if (b !== undefined) caps.ramBytes = b }
  if (v.diskBytes !== undefined) { const b = bytes(v.diskBytes, err, '.diskBytes'); if (b !== undefined) caps.diskBytes = b }
  if (v.offerGpus !== undefined) { const b = bool(v.offerGpus, err, '.offerGpus'); if (b !== undefined) caps.offerGpus = b }
  return caps
}

function parseRecord (v: unknown, err: Report): OriginatorRecordRule | undefined {
  if (!isObj(v)) { err('', `must be an object, got ${show(v)}`); return undefined }
  knownKeys(v, ['maxBidsWithoutAssignment', 'maxFailedWithoutCompletion'], err)
  const r: OriginatorRecordRule = {}
  if (v.maxBidsWithoutAssignment !== undefined) { const n = int(v.maxBidsWithoutAssignment, err, 1, Number.MAX_SAFE_INTEGER, '.maxBidsWithoutAssignment'); if (n !== undefined) r.maxBidsWithoutAssignment = n }
  if (v.maxFailedWithoutCompletion !== undefined) { const n = int(v.maxFailedWithoutCompletion, err, 1, Number.MAX_SAFE_INTEGER, '.maxFailedWithoutCompletion'); if (n !== undefined) r.maxFailedWithoutCompletion = n }
  return r
}

function parseWindow (w: unknown, at: string, err: Report): ScheduleWindow | undefined {
  if (!isObj(w)) { err(at, `must be {days, from, to}, got ${show(w)}`); return undefined }
  const days: Weekday[] = []
  if (!Array.isArray(w.days) || w.days.length === 0) err(`${at}.days`, `must list days (${WEEKDAYS.join(', ')}), got ${show(w.days)}`)
  else {
    for (const d of w.days) {
      const dd = typeof d === 'string' ? d.toLowerCase().slice(0, 3) : ''
      if ((WEEKDAYS as readonly string[]).includes(dd) && typeof d === 'string' && d.length >= 3) days.push(dd as Weekday)
      else err(`${at}.days`, `${show(d)} is not a day of the week (${WEEKDAYS.join(', ')})`)
    }
  }
  const from = hhmm(w.from, err, `${at}.from`)
  const to = hhmm(w.to, err, `${at}.to`)
  if (from !== undefined && to !== undefined && from === to) err(at, `the window from ${show(w.from)} to ${show(w.to)} is empty`)
  return from !== undefined && to !== undefined && days.length > 0 && from !== to ? { days, from, to } : undefined
}

function parseSchedule (v: unknown, err: Report): Schedule | undefined {
  if (!isObj(v)) { err('', `must be {timezone?, windows}, got ${show(v)}`); return undefined }
  const tz = v.timezone ?? 'UTC'
  let tzOk = typeof tz === 'string'
  if (tzOk) { try { new Intl.DateTimeFormat('en-US', { timeZone: tz as string }) } catch { tzOk = false } }
  if (!tzOk) err('.timezone', `${show(tz)} is not a time zone name (e.g. "Europe/Berlin", "UTC")`)
  const windows: ScheduleWindow[] = []
  if (!Array.isArray(v.windows)) err('.windows', `must be a list of {days, from, to}, got ${show(v.windows)}`)
  else v.windows.forEach((w: unknown, i: number) => { const pw = parseWindow(w, `.windows[${i}]`, err); if (pw !== undefined) windows.push(pw) })
  return tzOk ? { timezone: tz as string, windows } : undefined
}

function parseIdle (v: unknown, err: Report): IdleRule | undefined {
  if (v === true) return { maxLoadPerCore: 0.5, minUserIdleSeconds: 300 }
  if (!isObj(v)) { err('', `must be on/off or {maxLoadPerCore?, minUserIdleSeconds?}, got ${show(v)}`); return undefined }
  knownKeys(v, ['maxLoadPerCore', 'minUserIdleSeconds', 'graceSeconds'], err)
  const rule: IdleRule = {}
  if (v.maxLoadPerCore !== undefined) { const n = nonNegative(v.maxLoadPerCore, err, '.maxLoadPerCore', 'a load'); if (n !== undefined) rule.maxLoadPerCore = n }
  if (v.minUserIdleSeconds !== undefined) { const n = int(v.minUserIdleSeconds, err, 0, Number.MAX_SAFE_INTEGER, '.minUserIdleSeconds'); if (n !== undefined) rule.minUserIdleSeconds = n }
  if (v.graceSeconds !== undefined) { const n = int(v.graceSeconds, err, 0, 3600, '.graceSeconds'); if (n !== undefined) rule.graceSeconds = n }
  return rule
}

/** The idle-only flapping guard when `idleOnly.graceSeconds` is not set. */
export const DEFAULT_IDLE_GRACE_SECONDS = 60
/** `"thermalGuard": true` means these limits. */
export const DEFAULT_THERMAL_GUARD: Readonly<ThermalGuardRule> = Object.freeze({ stopAboveC: 85, resumeBelowC: 75 })

function parseThermal (v: unknown, err: Report): ThermalGuardRule | undefined {
  if (v === true) return { ...DEFAULT_THERMAL_GUARD }
  if (!isObj(v)) { err('', `must be on/off or {stopAboveC, resumeBelowC} in °C, got ${show(v)}`); return undefined }
  knownKeys(v, ['stopAboveC', 'resumeBelowC'], err)
  const deg = (x: unknown, sub: string, dflt: number): number | undefined => {
    if (x === undefined) return dflt
    if (typeof x === 'number' && Number.isFinite(x) && x >= 30 && x <= 110) return x
    err(sub, `must be a temperature from 30 to 110 °C, got ${show(x)}`)
    return undefined
  }
  const stop = deg(v.stopAboveC, '.stopAboveC', DEFAULT_THERMAL_GUARD.stopAboveC)
  const resume = deg(v.resumeBelowC, '.resumeBelowC', Math.min(DEFAULT_THERMAL_GUARD.resumeBelowC, (stop ?? DEFAULT_THERMAL_GUARD.stopAboveC) - 5))
  if (stop === undefined || resume === undefined) return undefined
  if (resume >= stop) { err('.resumeBelowC', `must be below the stop temperature (${stop} °C), got ${resume}`); return undefined }
  return { stopAboveC: stop, resumeBelowC: resume }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

function parsePaused (v: unknown, err: Report): number | undefined {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN
  if (typeof v === 'string' && RFC3339.test(v) && !Number.isNaN(t)) return t
  err('', `must be a time like "2026-11-26T08:00:00Z", or nothing, got ${show(v)}`)
  return undefined
}

// ---- the table -------------------------------------------------------------------------------

export const FIELDS: { [K in keyof Policy]: PolicyField<K> } = {
  autoBid: {
    key: 'autoBid', label: 'Bid automatically', group: 'bidding', default: true,
    help: 'When on, the node bids on every job your policy accepts. When off, it never bids.',
    parse: (v, err) => bool(v, err), toJson: (v) => v
  },
  pricing: {
    key: 'pricing', label: 'Price', group: 'pricing', unit: 'tokens', default: { mode: 'fixed', price: 0n },
    help: 'What you charge per job: one fixed price, a rate per million units of work (fuel), or a minimum plus a rate.',
    parse: parsePricing, toJson: pricingToJson
  },
  maxConcurrentJobs: {
    key: 'maxConcurrentJobs', label: 'Jobs at once', group: 'resources', unit: 'jobs', default: 1,
    help: 'How many jobs may run at the same time. 0 stops taking jobs.',
    parse: (v, err) => int(v, err, 0, 1024), toJson: (v) => v
  },
  offer: {
    key: 'offer', label: 'What you offer', group: 'resources', default: {},
    help: 'How much of the machine buyers may use: a share and/or a cap for CPU and memory, a disk cap, and whether GPUs are offered.',
    parse: parseOffer, toJson: (v) => ({ ...v })
  },
  allowedRegions: {
    key: 'allowedRegions', label: 'Regions', group: 'originators', default: [],
    help: 'Only take jobs meant for these regions (lowercase names like "eu-west"). Empty: any region.',
    parse: (v, err) => strList(v, err, (s) => isValidRegion(s) ? undefined : `region ${show(s)} must be 1–63 characters of a-z, 0-9 and "-" (e.g. "eu-west")`),
    toJson: (v) => [...v]
  },
  allowedOriginators: {
    key: 'allowedOriginators', label: 'Only these buyers', group: 'originators', default: [],
    help: 'Only bid for jobs of these buyers (their node identities). Empty: anyone not blocked.',
    parse: (v, err) => strList(v, err, didCheck), toJson: (v) => [...v]
  },
  blockedOriginators: {
    key: 'blockedOriginators', label: 'Blocked buyers', group: 'originators', default: [],
    help: 'Never bid for jobs of these buyers.',
    parse: (v, err) => strList(v, err, didCheck), toJson: (v) => [...v]
  },
  minOriginatorRecord: {
    key: 'minOriginatorRecord', label: 'Buyer track record', group: 'originators', default: {},
    help: 'Stop bidding for buyers who never assign you a job after many bids, or whose jobs keep failing.',
    parse: parseRecord, toJson: (v) => ({ ...v })
  },
  acceptedQos: {
    key: 'acceptedQos', label: 'Kinds of service', group: 'jobs', default: [...QOS_PROFILES],
    help: 'Which service levels you take: best effort, low latency, cost optimised, guaranteed completion.',
    parse: (v, err) => strList(v, err, (s) => (QOS_PROFILES as readonly string[]).includes(s) ? undefined : `${show(s)} is not a service level (${QOS_PROFILES.join(', ')})`) as QosProfile[] | undefined,
    toJson: (v) => [...v]
  },
  schedule: {
    key: 'schedule', label: 'Working hours', group: 'schedule', default: undefined,
    help: 'Only bid inside these weekly hours (in your time zone). Nothing set: always.',
    parse: (v, err) => v === null ? undefined : parseSchedule(v, err),
    toJson: (v) => v === undefined ? undefined : { timezone: v.timezone, windows: v.windows.map((w) => ({ days: [...w.days], from: fmtMinutes(w.from), to: fmtMinutes(w.to) })) }
  },
  pausedUntil: {
    key: 'pausedUntil', label: 'Paused until', group: 'schedule', default: undefined,
    help: 'No bids until this time (a snooze).',
    parse: (v, err) => v === null ? undefined : parsePaused(v, err),
    toJson: (v) => v === undefined ? undefined : new Date(v).toISOString()
  },
  idleOnly: {
    key: 'idleOnly', label: 'Only when idle', group: 'schedule', default: undefined,
    help: 'Only bid while the machine is not busy and nobody has used it for a while.',
    parse: (v, err) => v === null || v === false ? undefined : parseIdle(v, err),
    toJson: (v) => v === undefined ? undefined : { ...v }
  },
  stopOnBattery: {
    key: 'stopOnBattery', label: 'Stop on battery', group: 'schedule', default: true,
    help: 'Do not bid while the computer runs on battery.',
    parse: (v, err) => bool(v, err), toJson: (v) => v
  },
  thermalGuard: {
    key: 'thermalGuard', label: 'Thermal guard', group: 'schedule', unit: '°C', default: undefined,
    help: 'Stop bidding when the CPU gets hotter than a limit and resume only once it has cooled below a lower one, so the machine is not cooked and bidding does not flap around one temperature. Running jobs finish.',
    parse: (v, err) => v === null || v === false ? undefined : parseThermal(v, err),
    toJson: (v) => v === undefined ? undefined : { ...v }
  },
  maxTimeoutSeconds: {
    key: 'maxTimeoutSeconds', label: 'Longest job', group: 'jobs', unit: 'seconds', default: undefined,
    help: 'Skip jobs that may run longer than this. Nothing set: no limit.',
    parse: (v, err) => v === null ? undefined : int(v, err, 1), toJson: (v) => v
  },
  maxFuel: {
    key: 'maxFuel', label: 'Most work per job', group: 'jobs', unit: 'fuel', default: undefined,
    help: 'Skip jobs whose work budget (fuel: WebAssembly instructions) is above this. Nothing set: no limit.',
    parse: (v, err) => v === null ? undefined : tokens(v, err), toJson: (v) => v === undefined ? undefined : amt(v)
  },
  allowInteractive: {
    key: 'allowInteractive', label: 'Interactive jobs', group: 'jobs', default: true,
    help: 'Take jobs that talk to the buyer while they run.',
    parse: (v, err) => bool(v, err), toJson: (v) => v
  },
  bidMarginMs: {
    key: 'bidMarginMs', label: 'Skip jobs about to close', group: 'bidding', unit: 'ms', default: 100,
    help: 'Do not bid when bidding on a job ends sooner than this (the bid could not arrive in time).',
    parse: (v, err) => int(v, err, 0, 60_000), toJson: (v) => v
  }
}

/** The fields in their display order. */
export const FIELD_ORDER = Object.keys(FIELDS) as Array<keyof Policy>

/** The descriptor of `key`. */
export function field<K extends keyof Policy> (key: K): PolicyField<K> {
  return FIELDS[key]
}
