/**
 * The owner's bidding policy: JSON on disk / in the store (`PolicyJson`), validated and normalised
 * into `Policy` (defaults filled in, token amounts as bigint). docs/POLICY.md documents every field.
 */
import { QOS_PROFILES, parseBytesQuantity, type QosProfile } from '../../shared/protocol/index.js'
import type { ResourceCaps } from '../probe/offer.js'
import { sellsForFree } from './pricing.js'

export type Pricing =
  | { mode: 'fixed', price: bigint }
  | { mode: 'per_mfuel', ratePerMillionFuel: bigint }
  | { mode: 'floor_plus_rate', floor: bigint, ratePerMillionFuel: bigint }

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type Weekday = (typeof WEEKDAYS)[number]

export interface ScheduleWindow {
  days: Weekday[]
  /** minutes since local midnight, inclusive */
  from: number
  /** minutes since local midnight, exclusive; may be ≤ from for a window that crosses midnight */
  to: number
}

export interface Schedule {
  /** IANA time zone, e.g. "Europe/Berlin"; default "UTC" */
  timezone: string
  windows: ScheduleWindow[]
}

export interface OriginatorRecordRule {
  /** Skip an originator we bid on this many times without ever being assigned. */
  maxBidsWithoutAssignment?: number
  /** Skip an originator whose jobs failed on us this many times with none completed. */
  maxFailedWithoutCompletion?: number
}

export interface IdleRule {
  /** 1-minute load average divided by core count must be ≤ this. */
  maxLoadPerCore?: number
  /** The user must have been idle at least this long (when the platform reports it). */
  minUserIdleSeconds?: number
}

export interface Policy {
  autoBid: boolean
  pricing: Pricing
  maxConcurrentJobs: number
  offer: ResourceCaps
  /** empty = any region */
  allowedRegions: string[]
  /** empty = anyone not blocked */
  allowedOriginators: string[]
  blockedOriginators: string[]
  minOriginatorRecord: OriginatorRecordRule
  /** QoS profiles we bid on */
  acceptedQos: QosProfile[]
  /** undefined = always on */
  schedule: Schedule | undefined
  /** epoch ms; undefined = not paused */
  pausedUntil: number | undefined
  idleOnly: IdleRule | undefined
  stopOnBattery: boolean
  maxTimeoutSeconds: number | undefined
  maxFuel: bigint | undefined
  allowInteractive: boolean
  /** Don't bid when the bidding window closes sooner than this (ms). */
  bidMarginMs: number
}

export interface PolicyError { path: string, message: string }
export type PolicyValidation = { ok: true, policy: Policy } | { ok: false, errors: PolicyError[] }

export const DEFAULT_POLICY: Policy = {
  autoBid: true,
  pricing: { mode: 'fixed', price: 0n },
  maxConcurrentJobs: 1,
  offer: {},
  allowedRegions: [],
  allowedOriginators: [],
  blockedOriginators: [],
  minOriginatorRecord: {},
  acceptedQos: [...QOS_PROFILES],
  schedule: undefined,
  pausedUntil: undefined,
  idleOnly: undefined,
  stopOnBattery: true,
  maxTimeoutSeconds: undefined,
  maxFuel: undefined,
  allowInteractive: true,
  bidMarginMs: 100
}

const KNOWN_KEYS = new Set([
  'autoBid', 'pricing', 'maxConcurrentJobs', 'offer', 'allowedRegions', 'allowedOriginators', 'blockedOriginators',
  'minOriginatorRecord', 'acceptedQos', 'schedule', 'pausedUntil', 'idleOnly', 'stopOnBattery', 'maxTimeoutSeconds',
  'maxFuel', 'allowInteractive', 'bidMarginMs', '$schema', 'comment'
])
const REGION = /^[a-z0-9-]{1,63}$/
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/
const MAX_U64 = (1n << 64n) - 1n

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Validates a policy JSON value (already parsed). Every problem is reported with its JSON path. */
export function validatePolicy (json: unknown): PolicyValidation {
  const errors: PolicyError[] = []
  const err = (path: string, message: string): void => { errors.push({ path, message }) }
  if (!isObj(json)) return { ok: false, errors: [{ path: '$', message: 'policy must be a JSON object' }] }
  if (nestsDeeperThan(json, MAX_POLICY_DEPTH)) return { ok: false, errors: [{ path: '$', message: `policy nests deeper than ${MAX_POLICY_DEPTH} levels` }] }
  for (const k of Object.keys(json)) if (!KNOWN_KEYS.has(k)) err(k, `unknown policy field "${k}"`)
  const p: Policy = { ...DEFAULT_POLICY, offer: {}, minOriginatorRecord: {} }

  const bool = (key: string, set: (b: boolean) => void): void => {
    const v = json[key]
    if (v === undefined) return
    if (typeof v !== 'boolean') err(key, `must be true or false, got ${show(v)}`)
    else set(v)
  }
  const int = (path: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      err(path, `must be an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`}, got ${show(v)}`)
      return undefined
    }
    return v
  }
  const tokens = (path: string, v: unknown): bigint | undefined => {
    let b: bigint | undefined
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) b = BigInt(v)
    else if (typeof v === 'string' && /^(0|[1-9]\d*)$/.test(v)) b = BigInt(v)
    if (b === undefined || b > MAX_U64) {
      err(path, `must be a non-negative integer amount (a number, or a decimal string for large values), got ${show(v)}`)
      return undefined
    }
    return b
  }
  const fraction = (path: string, v: unknown): number | undefined => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) { err(path, `must be a fraction between 0 and 1, got ${show(v)}`); return undefined }
    return v
  }
  const strList = (key: string, check: (s: string) => string | undefined): string[] | undefined => {
    const v = json[key]
    if (v === undefined) return undefined
    if (!Array.isArray(v)) { err(key, `must be an array of strings, got ${show(v)}`); return undefined }
    const out: string[] = []
    v.forEach((x, i) => {
      if (typeof x !== 'string') { err(`${key}[${i}]`, `must be a string, got ${show(x)}`); return }
      const problem = check(x)
      if (problem !== undefined) err(`${key}[${i}]`, problem)
      else out.push(x)
    })
    return out
  }

  bool('autoBid', (b) => { p.autoBid = b })
  bool('stopOnBattery', (b) => { p.stopOnBattery = b })
  bool('allowInteractive', (b) => { p.allowInteractive = b })

  const pr = json.pricing
  if (pr !== undefined) {
    if (!isObj(pr)) err('pricing', `must be an object with a "mode", got ${show(pr)}`)
    else if (pr.mode === 'fixed') {
      const price = tokens('pricing.price', pr.price)
      if (price !== undefined) p.pricing = { mode: 'fixed', price }
    } else if (pr.mode === 'per_mfuel') {
      const rate = tokens('pricing.ratePerMillionFuel', pr.ratePerMillionFuel)
      if (rate !== undefined) p.pricing = { mode: 'per_mfuel', ratePerMillionFuel: rate }
    } else if (pr.mode === 'floor_plus_rate') {
      const floor = tokens('pricing.floor', pr.floor)
      const rate = tokens('pricing.ratePerMillionFuel', pr.ratePerMillionFuel)
      if (floor !== undefined && rate !== undefined) p.pricing = { mode: 'floor_plus_rate', floor, ratePerMillionFuel: rate }
    } else err('pricing.mode', `must be "fixed", "per_mfuel" or "floor_plus_rate", got ${show(pr.mode)}`)
  }

  if (json.maxConcurrentJobs !== undefined) {
    const n = int('maxConcurrentJobs', json.maxConcurrentJobs, 0, 1024)
    if (n !== undefined) p.maxConcurrentJobs = n
  }

  const off = json.offer
  if (off !== undefined) {
    if (!isObj(off)) err('offer', `must be an object, got ${show(off)}`)
    else {
      for (const k of Object.keys(off)) {
        if (!['cpuFraction', 'cpuCores', 'ramFraction', 'ramBytes', 'diskBytes', 'offerGpus'].includes(k)) err(`offer.${k}`, `unknown offer field "${k}"`)
      }
      if (off.cpuFraction !== undefined) { const f = fraction('offer.cpuFraction', off.cpuFraction); if (f !== undefined) p.offer.cpuFraction = f }
      if (off.ramFraction !== undefined) { const f = fraction('offer.ramFraction', off.ramFraction); if (f !== undefined) p.offer.ramFraction = f }
      if (off.cpuCores !== undefined) {
        const v = off.cpuCores
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) err('offer.cpuCores', `must be a non-negative number of cores, got ${show(v)}`)
        else p.offer.cpuCores = v
      }
      for (const k of ['ramBytes', 'diskBytes'] as const) {
        const v = off[k]
        if (v === undefined) continue
        const b = byteQuantity(`offer.${k}`, v, err)
        if (b !== undefined) p.offer[k] = b
      }
      if (off.offerGpus !== undefined) {
        if (typeof off.offerGpus !== 'boolean') err('offer.offerGpus', `must be true or false, got ${show(off.offerGpus)}`)
        else p.offer.offerGpus = off.offerGpus
      }
    }
  }

  const regions = strList('allowedRegions', (s) => REGION.test(s) ? undefined : `region ${show(s)} must be 1–63 characters of a-z, 0-9 and "-"`)
  if (regions !== undefined) p.allowedRegions = regions
  const didCheck = (s: string): string | undefined => s.startsWith('did:key:z') ? undefined : `${show(s)} is not a did:key DID`
  const allowed = strList('allowedOriginators', didCheck)
  if (allowed !== undefined) p.allowedOriginators = allowed
  const blocked = strList('blockedOriginators', didCheck)
  if (blocked !== undefined) p.blockedOriginators = blocked
  const qos = strList('acceptedQos', (s) => (QOS_PROFILES as readonly string[]).includes(s) ? undefined : `${show(s)} is not a QoS profile (${QOS_PROFILES.join(', ')})`)
  if (qos !== undefined) p.acceptedQos = qos as QosProfile[]

  const rec = json.minOriginatorRecord
  if (rec !== undefined) {
    if (!isObj(rec)) err('minOriginatorRecord', `must be an object, got ${show(rec)}`)
    else {
      for (const k of Object.keys(rec)) {
        if (k !== 'maxBidsWithoutAssignment' && k !== 'maxFailedWithoutCompletion') err(`minOriginatorRecord.${k}`, `unknown field "${k}" (maxBidsWithoutAssignment, maxFailedWithoutCompletion)`)
      }
      if (rec.maxBidsWithoutAssignment !== undefined) {
        const n = int('minOriginatorRecord.maxBidsWithoutAssignment', rec.maxBidsWithoutAssignment, 1)
        if (n !== undefined) p.minOriginatorRecord.maxBidsWithoutAssignment = n
      }
      if (rec.maxFailedWithoutCompletion !== undefined) {
        const n = int('minOriginatorRecord.maxFailedWithoutCompletion', rec.maxFailedWithoutCompletion, 1)
        if (n !== undefined) p.minOriginatorRecord.maxFailedWithoutCompletion = n
      }
    }
  }

  const sch = json.schedule
  if (sch !== undefined && sch !== null) {
    if (!isObj(sch)) err('schedule', `must be an object {timezone?, windows}, got ${show(sch)}`)
    else {
      const tz = sch.timezone ?? 'UTC'
      let tzOk = typeof tz === 'string'
      if (tzOk) { try { new Intl.DateTimeFormat('en-US', { timeZone: tz as string }) } catch { tzOk = false } }
      if (!tzOk) err('schedule.timezone', `${show(tz)} is not an IANA time zone (e.g. "Europe/Berlin", "UTC")`)
      const windows: ScheduleWindow[] = []
      if (!Array.isArray(sch.windows)) err('schedule.windows', `must be an array of {days, from, to}, got ${show(sch.windows)}`)
      else {
        sch.windows.forEach((w: unknown, i: number) => {
          const at = `schedule.windows[${i}]`
          if (!isObj(w)) { err(at, `must be an object {days, from, to}, got ${show(w)}`); return }
          const days: Weekday[] = []
          if (!Array.isArray(w.days) || w.days.length === 0) err(`${at}.days`, `must be a non-empty array of ${WEEKDAYS.join('/')}, got ${show(w.days)}`)
          else {
            for (const d of w.days) {
              const dd = typeof d === 'string' ? d.toLowerCase().slice(0, 3) : ''
              if ((WEEKDAYS as readonly string[]).includes(dd) && typeof d === 'string' && d.length >= 3) days.push(dd as Weekday)
              else err(`${at}.days`, `${show(d)} is not a day of the week (${WEEKDAYS.join(', ')})`)
            }
          }
          const from = hhmm(`${at}.from`, w.from, err)
          const to = hhmm(`${at}.to`, w.to, err)
          if (from !== undefined && to !== undefined && from === to) err(at, `window from ${show(w.from)} to ${show(w.to)} is empty`)
          if (from !== undefined && to !== undefined && days.length > 0) windows.push({ days, from, to })
        })
      }
      if (tzOk) p.schedule = { timezone: tz as string, windows }
    }
  }

  if (json.pausedUntil !== undefined && json.pausedUntil !== null) {
    const v = json.pausedUntil
    const t = typeof v === 'string' ? Date.parse(v) : Number.NaN
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(t)) {
      err('pausedUntil', `must be an RFC 3339 time like "2026-11-26T08:00:00Z", or null, got ${show(v)}`)
    } else p.pausedUntil = t
  }

  const idle = json.idleOnly
  if (idle !== undefined && idle !== null && idle !== false) {
    if (idle === true) p.idleOnly = { maxLoadPerCore: 0.5, minUserIdleSeconds: 300 }
    else if (!isObj(idle)) err('idleOnly', `must be true/false or {maxLoadPerCore?, minUserIdleSeconds?}, got ${show(idle)}`)
    else {
      const rule: IdleRule = {}
      for (const k of Object.keys(idle)) {
        if (k !== 'maxLoadPerCore' && k !== 'minUserIdleSeconds') err(`idleOnly.${k}`, `unknown field "${k}" (maxLoadPerCore, minUserIdleSeconds)`)
      }
      if (idle.maxLoadPerCore !== undefined) {
        const v = idle.maxLoadPerCore
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) err('idleOnly.maxLoadPerCore', `must be a non-negative number, got ${show(v)}`)
        else rule.maxLoadPerCore = v
      }
      if (idle.minUserIdleSeconds !== undefined) {
        const n = int('idleOnly.minUserIdleSeconds', idle.minUserIdleSeconds, 0)
        if (n !== undefined) rule.minUserIdleSeconds = n
      }
      p.idleOnly = rule
    }
  }

  if (json.maxTimeoutSeconds !== undefined && json.maxTimeoutSeconds !== null) {
    const n = int('maxTimeoutSeconds', json.maxTimeoutSeconds, 1)
    if (n !== undefined) p.maxTimeoutSeconds = n
  }
  if (json.maxFuel !== undefined && json.maxFuel !== null) {
    const f = tokens('maxFuel', json.maxFuel)
    if (f !== undefined) p.maxFuel = f
  }
  if (json.bidMarginMs !== undefined) {
    const n = int('bidMarginMs', json.bidMarginMs, 0, 60_000)
    if (n !== undefined) p.bidMarginMs = n
  }

  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy: p }
}

/** Like validatePolicy, but throws a PolicyValidationError listing every problem. */
export function parsePolicy (json: unknown): Policy {
  const r = validatePolicy(json)
  if (!r.ok) throw new PolicyValidationError(r.errors)
  return r.policy
}

export class PolicyValidationError extends Error {
  override name = 'PolicyValidationError'
  readonly code = 'InvalidPolicy'
  readonly errors: PolicyError[]
  constructor (errors: PolicyError[]) {
    super(`invalid policy: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`)
    this.errors = errors
  }
}

export type PolicyJsonValue = null | boolean | number | string | PolicyJsonValue[] | { [key: string]: PolicyJsonValue }

/** Policy → its JSON form (amounts above 2^53 as decimal strings), accepted back by validatePolicy. */
export function policyToJson (p: Policy): { [key: string]: PolicyJsonValue } {
  const amt = (b: bigint): number | string => b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString()
  const pricing: { [key: string]: PolicyJsonValue } = p.pricing.mode === 'fixed'
    ? { mode: 'fixed', price: amt(p.pricing.price) }
    : p.pricing.mode === 'per_mfuel'
      ? { mode: 'per_mfuel', ratePerMillionFuel: amt(p.pricing.ratePerMillionFuel) }
      : { mode: 'floor_plus_rate', floor: amt(p.pricing.floor), ratePerMillionFuel: amt(p.pricing.ratePerMillionFuel) }
  const out: { [key: string]: PolicyJsonValue } = {
    autoBid: p.autoBid,
    pricing,
    maxConcurrentJobs: p.maxConcurrentJobs,
    offer: { ...p.offer },
    allowedRegions: [...p.allowedRegions],
    allowedOriginators: [...p.allowedOriginators],
    blockedOriginators: [...p.blockedOriginators],
    minOriginatorRecord: { ...p.minOriginatorRecord },
    acceptedQos: [...p.acceptedQos],
    stopOnBattery: p.stopOnBattery,
    allowInteractive: p.allowInteractive,
    bidMarginMs: p.bidMarginMs
  }
  if (p.schedule !== undefined) {
    out.schedule = {
      timezone: p.schedule.timezone,
      windows: p.schedule.windows.map((w) => ({ days: [...w.days], from: fmtMinutes(w.from), to: fmtMinutes(w.to) }))
    }
  }
  if (p.pausedUntil !== undefined) out.pausedUntil = new Date(p.pausedUntil).toISOString()
  if (p.idleOnly !== undefined) out.idleOnly = { ...p.idleOnly }
  if (p.maxTimeoutSeconds !== undefined) out.maxTimeoutSeconds = p.maxTimeoutSeconds
  if (p.maxFuel !== undefined) out.maxFuel = amt(p.maxFuel)
  return out
}

export function fmtMinutes (m: number): string {
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}

function hhmm (path: string, v: unknown, err: (p: string, m: string) => void): number | undefined {
  const m = typeof v === 'string' ? HHMM.exec(v) : null
  if (m === null) { err(path, `must be a time "HH:MM" (00:00–24:00), got ${show(v)}`); return undefined }
  if (v === '24:00') return 24 * 60
  return Number(m[1]) * 60 + Number(m[2])
}

function byteQuantity (path: string, v: unknown, err: (p: string, m: string) => void): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v
  if (typeof v === 'string') {
    try { return parseBytesQuantity(v) } catch { /* fall through */ }
  }
  err(path, `must be a byte count or a quantity like "8GiB"/"512MiB", got ${show(v)}`)
  return undefined
}

/** Largest policy file or API body we read (a real policy is a few hundred bytes). */
export const MAX_POLICY_BYTES = 256 * 1024
/** Deepest nesting a policy may have (objects and arrays; the schema needs 3). */
export const MAX_POLICY_DEPTH = 8

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

function show (v: unknown): string {
  if (v === undefined) return 'nothing'
  if (nestsDeeperThan(v, 3)) return Array.isArray(v) ? 'a nested array' : 'a nested object'
  try {
    const s = JSON.stringify(v)
    return s.length > 60 ? s.slice(0, 57) + '...' : s
  } catch {
    return String(v)
  }
}

/** What the owner should be told while this policy is in force: selling for free, not bidding at all. */
export function ownerWarnings (p: Policy): string[] {
  const w: string[] = []
  if (sellsForFree(p.pricing)) w.push('Your price is 0: jobs are run for free. Set a price in Policies.')
  if (!p.autoBid) w.push('Auto-bid is off: this node will not bid on jobs.')
  return w
}
