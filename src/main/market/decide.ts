/**
 * The bid/no-bid decision. Pure: everything it needs is in the announcement, the policy and the
 * context. Every rule is evaluated and every verdict recorded (passed and failed), so the UI can
 * show exactly why a job was or was not bid on.
 */
import {
  parseDuration, parseResources, parseTimestamp, formatCpu, formatRam, formatTimestamp,
  type JobAnnouncementV1, type ParsedResources
} from '../../shared/protocol/index.js'
import type { Offer } from '../probe/offer.js'
import type { MachineState } from './machine.js'
import type { Policy } from './policy.js'
import { quote } from './pricing.js'
import { describeSchedule, inSchedule } from './schedule.js'

export const RULES = [
  'auto_bid', 'once', 'paused', 'schedule', 'idle', 'battery', 'bidding_window', 'originator', 'originator_record',
  'region', 'qos', 'interactive', 'runtime', 'timeout', 'fuel', 'resources', 'concurrency', 'price'
] as const
/**
 * The rules decide() evaluates, plus two the auto-bidder records without evaluating the announcement:
 * `intake` (its originator floods us) and `unreachable` (our last bid to its originator could not be delivered).
 */
export type Rule = (typeof RULES)[number] | 'intake' | 'unreachable'

export interface Reason { rule: Rule, ok: boolean, text: string }

export interface Decision {
  bid: boolean
  /** Our price for this job (computed whenever the job's max_fuel allows; the bid carries it). */
  price?: bigint
  reasons: Reason[]
  /** The first failing rule (for grouping in the UI), absent when bidding. */
  firstFailedRule?: Rule
}

export interface OriginatorHistory {
  announcementsSeen: number
  bidsSent: number
  assigned: number
  completed: number
  failed: number
}

export interface DecisionContext {
  /** epoch ms */
  now: number
  /** what we offer (hardware with the owner's caps applied) */
  offer: Offer
  /** runtime ids this node can run; empty = no sandbox available */
  runtimes: readonly string[]
  /** why no runtime is available (e.g. the sandbox host was not built), shown with the 'runtime' reason */
  runtimeUnavailable?: string
  /** jobs currently in a non-terminal state */
  activeJobs: number
  /** our own region, if configured */
  ourRegion?: string
  /** region topic the announcement arrived on, if any */
  topicRegion?: string
  /** our history with this originator (undefined = never seen before) */
  originatorRecord?: OriginatorHistory
  machine?: MachineState
  /** we already bid on this announcement_id */
  alreadyBid?: boolean
}

export const DEFAULT_BIDDING_DURATION_MS = 30_000

const shortDid = (did: string): string => did.length > 24 ? `${did.slice(0, 14)}…${did.slice(-6)}` : did
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
const list = (xs: readonly string[]): string => `[${xs.join(', ')}]`

function asBig (v: number | bigint): bigint {
  return typeof v === 'bigint' ? v : BigInt(Math.trunc(v))
}

/** When bids stop being allowed: the earlier of timestamp + bidding_duration and deadline (profile 6.3a). */
export function biddingCloses (a: JobAnnouncementV1): { closesAt: number, cause: 'bidding_duration' | 'deadline' } {
  const ts = parseTimestamp(a.timestamp)
  const dur = a.bidding_duration === undefined || a.bidding_duration === null ? DEFAULT_BIDDING_DURATION_MS : parseDuration(a.bidding_duration)
  const windowEnd = ts + dur
  const deadline = a.job_params.deadline === undefined || a.job_params.deadline === null ? Infinity : parseTimestamp(a.job_params.deadline)
  return deadline < windowEnd ? { closesAt: deadline, cause: 'deadline' } : { closesAt: windowEnd, cause: 'bidding_duration' }
}

export function decide (a: JobAnnouncementV1, policy: Policy, ctx: DecisionContext): Decision {
  const reasons: Reason[] = []
  const add = (rule: Rule, ok: boolean, text: string): void => { reasons.push({ rule, ok, text: `${rule}: ${text}` }) }
  const jp = a.job_params
  const now = ctx.now

  add('auto_bid', policy.autoBid, policy.autoBid ? 'on' : 'off')
  add('once', ctx.alreadyBid !== true, ctx.alreadyBid === true ? 'already bid on this announcement' : 'no earlier bid on this announcement')

  if (policy.pausedUntil !== undefined && policy.pausedUntil > now) add('paused', false, `snoozed until ${formatTimestamp(policy.pausedUntil)}`)
  else add('paused', true, 'not paused')

  if (policy.schedule === undefined || policy.schedule.windows.length === 0) add('schedule', true, 'no schedule, always on')
  else {
    const s = inSchedule(policy.schedule, now)
    const hhmm = `${String(Math.floor(s.minute / 60)).padStart(2, '0')}:${String(s.minute % 60).padStart(2, '0')}`
    const at = `${s.day} ${hhmm} (${policy.schedule.timezone})`
    add('schedule', s.inside, `${at} ${s.inside ? 'is inside' : 'is outside'} ${describeSchedule(policy.schedule)}`)
  }

  if (policy.idleOnly === undefined) add('idle', true, 'idle-only off')
  else {
    const m = ctx.machine
    if (m === undefined) add('idle', false, 'machine state unknown, idle-only needs it')
    else {
      const problems: string[] = []
      const facts: string[] = []
      const cores = m.cpuCount ?? Math.max(1, Math.ceil(ctx.offer.cpu))
      const perCore = m.loadAvg / Math.max(1, cores)
      if (policy.idleOnly.maxLoadPerCore !== undefined) {
        const t = `load ${perCore.toFixed(2)} per core`
        if (perCore > policy.idleOnly.maxLoadPerCore) problems.push(`${t} > ${policy.idleOnly.maxLoadPerCore}`)
        else facts.push(`${t} ≤ ${policy.idleOnly.maxLoadPerCore}`)
      }
      if (policy.idleOnly.minUserIdleSeconds !== undefined) {
        if (m.userIdleSeconds === undefined) facts.push('user idle time unknown')
        else if (m.userIdleSeconds < policy.idleOnly.minUserIdleSeconds) problems.push(`user active ${Math.round(m.userIdleSeconds)}s ago < ${policy.idleOnly.minUserIdleSeconds}s`)
        else facts.push(`user idle ${Math.round(m.userIdleSeconds)}s ≥ ${policy.idleOnly.minUserIdleSeconds}s`)
      }
      add('idle', problems.length === 0, problems.length > 0 ? problems.join('; ') : (facts.join('; ') || 'machine idle'))
    }
  }

  if (!policy.stopOnBattery) add('battery', true, 'stop-on-battery off')
  else if (ctx.machine?.onBattery === true) add('battery', false, 'on battery power')
  else if (ctx.machine?.onBattery === false) add('battery', true, 'on mains power')
  else add('battery', true, 'power source unknown')

  try {
    const { closesAt, cause } = biddingCloses(a)
    const left = closesAt - now
    if (left <= 0) add('bidding_window', false, `${cause === 'deadline' ? 'deadline' : 'bidding window'} passed ${secs(-left)} ago (${formatTimestamp(closesAt)})`)
    else if (left < policy.bidMarginMs) add('bidding_window', false, `closes in ${left}ms, less than our ${policy.bidMarginMs}ms margin`)
    else add('bidding_window', true, `open for ${secs(left)} more${cause === 'deadline' ? ' (until the deadline)' : ''}`)
  } catch (err) {
    add('bidding_window', false, `bad timing fields: ${(err as Error).message}`)
  }

  const orig = a.originator_did
  if (policy.blockedOriginators.includes(orig)) add('originator', false, `${shortDid(orig)} is blocked`)
  else if (policy.allowedOriginators.length > 0 && !policy.allowedOriginators.includes(orig)) {
    add('originator', false, `${shortDid(orig)} not in allowed list (${policy.allowedOriginators.length} entr${policy.allowedOriginators.length === 1 ? 'y' : 'ies'})`)
  } else add('originator', true, policy.allowedOriginators.length > 0 ? `${shortDid(orig)} is in the allowed list` : `${shortDid(orig)} not blocked`)

  const rec = ctx.originatorRecord
  const rule = policy.minOriginatorRecord
  if (rule.maxBidsWithoutAssignment === undefined && rule.maxFailedWithoutCompletion === undefined) add('originator_record', true, 'no minimum record required')
  else if (rec === undefined) add('originator_record', true, 'new originator, no history yet')
  else {
    const problems: string[] = []
    if (rule.maxBidsWithoutAssignment !== undefined && rec.assigned === 0 && rec.bidsSent >= rule.maxBidsWithoutAssignment) {
      problems.push(`${rec.bidsSent} bids, never assigned (limit ${rule.maxBidsWithoutAssignment})`)
    }
    if (rule.maxFailedWithoutCompletion !== undefined && rec.completed === 0 && rec.failed >= rule.maxFailedWithoutCompletion) {
      problems.push(`${rec.failed} of their jobs failed, none completed (limit ${rule.maxFailedWithoutCompletion})`)
    }
    add('originator_record', problems.length === 0, problems.length > 0
      ? problems.join('; ')
      : `${rec.bidsSent} bids, ${rec.assigned} assigned, ${rec.completed} completed, ${rec.failed} failed`)
  }

  const filter = jp.execution_policy?.region_filter ?? undefined
  const jobRegion = filter ?? ctx.topicRegion
  const regionProblems: string[] = []
  if (policy.allowedRegions.length > 0) {
    if (jobRegion === undefined) regionProblems.push(`job names no region, allowed ${list(policy.allowedRegions)}`)
    else if (!policy.allowedRegions.includes(jobRegion)) regionProblems.push(`${jobRegion} not in allowed ${list(policy.allowedRegions)}`)
  }
  if (filter !== undefined && filter !== ctx.ourRegion) regionProblems.push(`job requires ${filter}, we are ${ctx.ourRegion ?? 'in no region'}`)
  if (regionProblems.length > 0) add('region', false, regionProblems.join('; '))
  else add('region', true, jobRegion === undefined ? 'job names no region' : `${jobRegion} ${policy.allowedRegions.length > 0 ? 'allowed' : 'accepted (any region)'}`)

  if (policy.acceptedQos.includes(jp.qos_profile)) add('qos', true, `${jp.qos_profile} accepted`)
  else add('qos', false, `${jp.qos_profile} not accepted ${list(policy.acceptedQos)}`)

  if (!jp.is_interactive) add('interactive', true, 'batch job')
  else add('interactive', policy.allowInteractive, policy.allowInteractive ? 'interactive job allowed' : 'interactive jobs not allowed')

  const wanted = (jp as unknown as Record<string, unknown>).runtime
  if (ctx.runtimes.length === 0) add('runtime', false, `no WASM runtime available on this node${ctx.runtimeUnavailable !== undefined ? ` (${ctx.runtimeUnavailable})` : ''}`)
  else if (typeof wanted === 'string' && !ctx.runtimes.includes(wanted)) add('runtime', false, `job wants ${wanted}, we run ${list(ctx.runtimes)}`)
  else add('runtime', true, `${ctx.runtimes[0] ?? ''} (WASI preview1 command)`)

  if (policy.maxTimeoutSeconds === undefined) add('timeout', true, `job timeout ${jp.timeout_seconds}s, no limit`)
  else if (jp.timeout_seconds > policy.maxTimeoutSeconds) add('timeout', false, `job timeout ${jp.timeout_seconds}s > our max ${policy.maxTimeoutSeconds}s`)
  else add('timeout', true, `job timeout ${jp.timeout_seconds}s ≤ our max ${policy.maxTimeoutSeconds}s`)

  const fuel = asBig(jp.max_fuel)
  if (policy.maxFuel === undefined) add('fuel', true, `job max_fuel ${fuel}, no limit`)
  else if (fuel > policy.maxFuel) add('fuel', false, `job max_fuel ${fuel} > our max ${policy.maxFuel}`)
  else add('fuel', true, `job max_fuel ${fuel} ≤ our max ${policy.maxFuel}`)

  let req: ParsedResources | undefined
  try { req = parseResources(jp.resources_required) } catch (err) { add('resources', false, `malformed resources_required: ${(err as Error).message}`) }
  if (req !== undefined) {
    const short: string[] = []
    const fit: string[] = []
    const o = ctx.offer
    if (req.cpu !== undefined) (req.cpu > o.cpu ? short : fit).push(`CPU ${formatCpu(req.cpu)} ${req.cpu > o.cpu ? '>' : '≤'} offered ${formatCpu(o.cpu)}`)
    if (req.ramBytes !== undefined) (req.ramBytes > o.ramBytes ? short : fit).push(`RAM ${formatRam(req.ramBytes)} ${req.ramBytes > o.ramBytes ? '>' : '≤'} offered ${formatRam(o.ramBytes)}`)
    if (req.diskBytes !== undefined) {
      if (o.diskBytes === undefined || req.diskBytes > o.diskBytes) short.push(`DISK ${gib(req.diskBytes)} > offered ${o.diskBytes === undefined ? 'none' : gib(o.diskBytes)}`)
      else fit.push(`DISK ${gib(req.diskBytes)} ≤ offered ${gib(o.diskBytes)}`)
    }
    for (const [name, n] of Object.entries(req.gpus)) {
      const have = o.gpus[name] ?? 0
      ;(n > have ? short : fit).push(`${name} ×${n} ${n > have ? '>' : '≤'} offered ${have}`)
    }
    if (short.length > 0) add('resources', false, `needs ${short.join('; ')}`)
    else add('resources', true, fit.length > 0 ? fit.join(', ') : 'no specific resources required')
  }

  if (ctx.activeJobs >= policy.maxConcurrentJobs) add('concurrency', false, `${ctx.activeJobs} job${ctx.activeJobs === 1 ? '' : 's'} running, max ${policy.maxConcurrentJobs}`)
  else add('concurrency', true, `${ctx.activeJobs} of ${policy.maxConcurrentJobs} job slots in use`)

  const q = quote(policy.pricing, fuel)
  const maxPrice = jp.execution_policy?.max_price
  if (maxPrice === undefined || maxPrice === null) add('price', true, `our price ${q.price} (${q.breakdown}); job sets no max_price`)
  else {
    const mp = asBig(maxPrice)
    if (policy.pricing.mode === 'floor_plus_rate' && mp < policy.pricing.floor) add('price', false, `job max_price ${mp} < our floor ${policy.pricing.floor}`)
    else if (mp < q.price) add('price', false, `job max_price ${mp} < our price ${q.price} (${q.breakdown})`)
    else add('price', true, `our price ${q.price} ≤ job max_price ${mp} (${q.breakdown})`)
  }

  const failed = reasons.find((r) => !r.ok)
  return failed === undefined
    ? { bid: true, price: q.price, reasons }
    : { bid: false, price: q.price, reasons, firstFailedRule: failed.rule }
}

function gib (b: number): string {
  return `${Math.floor(b / 1024 ** 3)}GiB`
}
