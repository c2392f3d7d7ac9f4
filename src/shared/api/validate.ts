/**
 * Argument validators for every API method, run by the API service for every transport (the local
 * HTTP server today): the same input is rejected the same way with the same message
 * (`ApiError` code `BadRequest`). Unknown keys are rejected too, so typos never pass silently.
 */
import {
  ApiError, JOB_STATES, isApiMethod, type ApiArgs, type ApiMethod, type Json, type JsonObject,
  type JobStateName, type SettingsPatch, type ResourceCaps, type FieldIssue, type LogsQuery, LOG_LEVEL_NAMES, type LogLevelName
} from './contract.js'

type Obj = Record<string, unknown>

const MAX_STRING = 4096
const MAX_POLICY_BYTES = 64 * 1024
const MAX_BLOCK_BASE64 = 2 * 1024 * 1024

function bad (method: string, message: string): never {
  throw new ApiError('BadRequest', `${method}: ${message}`)
}

function isPlainObject (v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function objectArgs (method: string, raw: unknown, allowed: readonly string[]): Obj {
  if (raw === undefined || raw === null) raw = {}
  if (!isPlainObject(raw)) bad(method, 'arguments must be a JSON object')
  for (const k of Object.keys(raw)) {
    if (!allowed.includes(k)) bad(method, `unknown argument "${k}"` + (allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ' (this method takes none)'))
  }
  return raw
}

function optInt (method: string, o: Obj, key: string, min: number, max: number): number | undefined {
  const v = o[key]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) bad(method, `${key} must be an integer in ${min}..${max}`)
  return v
}

function reqString (method: string, o: Obj, key: string, pattern?: RegExp): string {
  const v = o[key]
  if (typeof v !== 'string' || v.length === 0) bad(method, `${key} must be a non-empty string`)
  if (v.length > MAX_STRING) bad(method, `${key} is longer than ${MAX_STRING} characters`)
  if (pattern !== undefined && !pattern.test(v)) bad(method, `${key} has an invalid format`)
  return v
}

function optString (method: string, o: Obj, key: string): string | undefined {
  return o[key] === undefined ? undefined : reqString(method, o, key)
}

function reqBool (method: string, o: Obj, key: string): boolean {
  const v = o[key]
  if (typeof v !== 'boolean') bad(method, `${key} must be true or false`)
  return v
}

function isJson (v: unknown, depth: number): v is Json {
  if (depth > 32) return false
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return true
  if (typeof v === 'number') return Number.isFinite(v)
  if (Array.isArray(v)) return v.every((x) => isJson(x, depth + 1))
  if (isPlainObject(v)) return Object.values(v).every((x) => isJson(x, depth + 1))
  return false
}

function policyArg (method: string, o: Obj): JsonObject {
  const p = o.policy
  if (!isPlainObject(p)) bad(method, 'policy must be a JSON object')
  if (!isJson(p, 0)) bad(method, 'policy must contain only JSON values (finite numbers, at most 32 levels deep)')
  if (JSON.stringify(p).length > MAX_POLICY_BYTES) bad(method, `policy is larger than ${MAX_POLICY_BYTES} bytes`)
  return p as JsonObject
}

const CID_RE = /^b[a-z2-7]{20,200}$/
const ID_RE = /^[\x21-\x7e]{1,256}$/

/** A region name as the wire, the CLI's --region and the policy's allowedRegions accept it. */
const REGION_RE = /^[a-z0-9-]{1,63}$/

/** "EU West" → "eu-west": what a region the owner typed probably meant (or undefined). */
export function suggestRegion (s: string): string | undefined {
  const t = s.trim().toLowerCase().replace(/[\s_.]+/g, '-').replace(/[^a-z0-9-]/g, '').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 63)
  return t !== '' && t !== s && REGION_RE.test(t) ? t : undefined
}

export function regionProblem (s: string): string | undefined {
  if (REGION_RE.test(s)) return undefined
  const hint = suggestRegion(s)
  return `"${s.slice(0, 80)}" is not a region name: use 1–63 characters a–z, 0–9 and "-"${hint !== undefined ? ` (did you mean "${hint}"?)` : ', e.g. "eu-west"'}`
}

/** The labels Settings shows, by key (errors are named by them). */
export const SETTINGS_LABELS: Record<string, string> = {
  region: 'Region',
  listenAddrs: 'Listen addresses',
  bootstrapPeers: 'Bootstrap peers',
  caps: 'Resource limits',
  'caps.cpu': 'CPU cores offered',
  'caps.ramBytes': 'Memory (RAM) offered',
  'caps.diskBytes': 'Disk space offered',
  'caps.maxConcurrentJobs': 'Jobs at the same time',
  startAtLogin: 'Start at login',
  startMinimized: 'Start minimized to the tray'
}

/** The machine a settings patch is checked against (caps cannot exceed it). */
export interface MachineLimits { cpuCores: number, ramBytes: number, diskFreeBytes: number | null }

function addrList (v: unknown, path: string, max: number, issue: (p: string, m: string) => void): string[] | undefined {
  if (!Array.isArray(v) || v.length > max) { issue(path, `must be a list of at most ${max} addresses`); return undefined }
  const out: string[] = []
  v.forEach((x, i) => {
    if (typeof x !== 'string' || x.trim().length === 0 || x.length > 1024) { issue(path, `entry ${i + 1} is empty or too long`); return }
    out.push(x.trim())
  })
  return out
}

/**
 * Checks a settings patch completely and names every problem by its label. The same function backs
 * `settings.validate` (while typing) and `settings.update` (which refuses a patch with any problem).
 * With `machine`, resource caps must fit the machine (a 64-core cap on a 2-core machine is refused).
 */
export function checkSettingsPatch (raw: unknown, machine?: MachineLimits): { patch: SettingsPatch, errors: FieldIssue[] } {
  const errors: FieldIssue[] = []
  const issue = (path: string, message: string): void => { errors.push({ path, label: SETTINGS_LABELS[path] ?? path, message }) }
  const out: SettingsPatch = {}
  if (raw === undefined || raw === null) raw = {}
  if (!isPlainObject(raw)) return { patch: out, errors: [{ path: '$', label: 'Settings', message: 'must be a JSON object' }] }
  const allowed = ['region', 'listenAddrs', 'bootstrapPeers', 'caps', 'startAtLogin', 'startMinimized']
  for (const k of Object.keys(raw)) if (!allowed.includes(k)) issue(k, `unknown setting "${k}" (allowed: ${allowed.join(', ')})`)
  const o = raw
  if (o.region !== undefined) {
    if (o.region === null || o.region === '') out.region = null
    else if (typeof o.region !== 'string') issue('region', 'must be text')
    else {
      const p = regionProblem(o.region.trim())
      if (p !== undefined) issue('region', p)
      else out.region = o.region.trim()
    }
  }
  if (o.listenAddrs !== undefined) {
    const l = addrList(o.listenAddrs, 'listenAddrs', 32, issue)
    if (l !== undefined) {
      const badOnes = l.filter((a) => !a.startsWith('/'))
      if (badOnes.length > 0) issue('listenAddrs', `${badOnes.map((a) => `"${a.slice(0, 60)}"`).join(', ')} ${badOnes.length === 1 ? 'is' : 'are'} not a network address (multiaddr): write it like /ip4/0.0.0.0/tcp/4001`)
      else out.listenAddrs = l
    }
  }
  if (o.bootstrapPeers !== undefined) {
    const l = addrList(o.bootstrapPeers, 'bootstrapPeers', 64, issue)
    if (l !== undefined) {
      const badOnes = l.filter((a) => !a.startsWith('/') || !a.includes('/p2p/'))
      if (badOnes.length > 0) issue('bootstrapPeers', `${badOnes.map((a) => `"${a.slice(0, 60)}"`).join(', ')} must be a peer's address ending in /p2p/<peer id>, e.g. /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…`)
      else out.bootstrapPeers = l
    }
  }
  if (o.caps !== undefined) {
    if (!isPlainObject(o.caps)) issue('caps', 'must be an object')
    else {
      const c = o.caps
      for (const k of Object.keys(c)) if (!['cpu', 'ramBytes', 'diskBytes', 'maxConcurrentJobs'].includes(k)) issue(`caps.${k}`, `unknown limit "${k}"`)
      const caps: Partial<ResourceCaps> = {}
      const GIB = 1024 ** 3
      /** a number in min..max, or null (no limit); `over` says why above max is refused */
      const num = (key: 'cpu' | 'ramBytes' | 'diskBytes' | 'maxConcurrentJobs', min: number, max: number, integer: boolean, what: string, over?: string): number | null | undefined => {
        const v = c[key]
        if (v === undefined || v === null) return v as null | undefined
        if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v))) { issue(`caps.${key}`, `must be ${integer ? 'a whole number' : 'a number'} of ${what}`); return undefined }
        if (v > max && over !== undefined) { issue(`caps.${key}`, over); return undefined }
        if (v < min || v > max) { issue(`caps.${key}`, `must be between ${min} and ${max} ${what}`); return undefined }
        return v
      }
      const m = machine
      const cpu = num('cpu', 0.01, m?.cpuCores ?? 1024, false, 'cores',
        m === undefined ? undefined : `this machine has ${m.cpuCores} core${m.cpuCores === 1 ? '' : 's'}: offer at most ${m.cpuCores}`)
      const ram = num('ramBytes', 64 * 1024 * 1024, m?.ramBytes ?? Number.MAX_SAFE_INTEGER, true, 'bytes (at least 64 MiB)',
        m === undefined ? undefined : `this machine has ${(m.ramBytes / GIB).toFixed(1)} GiB of memory: offer at most that`)
      const disk = num('diskBytes', 0, m?.diskFreeBytes ?? Number.MAX_SAFE_INTEGER, true, 'bytes',
        m?.diskFreeBytes === null || m === undefined ? undefined : `the data directory's disk has ${((m.diskFreeBytes ?? 0) / GIB).toFixed(1)} GiB free: offer at most that`)
      const jobs = num('maxConcurrentJobs', 1, 1024, true, 'jobs')
      if (disk !== undefined) caps.diskBytes = disk
      if (cpu !== undefined) caps.cpu = cpu
      if (ram !== undefined) caps.ramBytes = ram
      if (jobs !== undefined) caps.maxConcurrentJobs = jobs
      out.caps = caps
    }
  }
  for (const k of ['startAtLogin', 'startMinimized'] as const) {
    if (o[k] === undefined) continue
    if (typeof o[k] !== 'boolean') issue(k, 'must be on or off (true or false)')
    else out[k] = o[k]
  }
  return { patch: out, errors }
}

function settingsPatch (method: string, raw: unknown): SettingsPatch {
  const { patch, errors } = checkSettingsPatch(raw)
  if (errors.length > 0) bad(method, errors.map((e) => `${e.label}: ${e.message}`).join('; '))
  return patch
}

const LOG_CURSOR_RE = /^[A-Za-z0-9._-]{1,128}:\d{1,16}$/
const EXPORT_MAX_SPAN_MS = 5 * 366 * 86_400_000

function exportQuery (method: string, raw: unknown, withFormat: boolean): { fromMs: number, toMs: number, format?: 'csv' | 'json' } {
  const o = objectArgs(method, raw, withFormat ? ['fromMs', 'toMs', 'format'] : ['fromMs', 'toMs'])
  const from = optInt(method, o, 'fromMs', 0, 8_640_000_000_000_000)
  const to = optInt(method, o, 'toMs', 0, 8_640_000_000_000_000)
  if (from === undefined || to === undefined) bad(method, 'fromMs and toMs (epoch ms) are required')
  if (to <= from) bad(method, 'the period must end after it starts (toMs > fromMs)')
  if (to - from > EXPORT_MAX_SPAN_MS) bad(method, 'the period is longer than 5 years: export it in parts')
  if (!withFormat) return { fromMs: from, toMs: to }
  if (o.format !== 'csv' && o.format !== 'json') bad(method, 'format must be "csv" or "json"')
  return { fromMs: from, toMs: to, format: o.format }
}

type Validators = { [M in ApiMethod]: (raw: unknown) => ApiArgs<M> }

const validators: Validators = {
  'node.status': (raw) => { objectArgs('node.status', raw, []); return {} },
  'earnings.get': (raw) => {
    const m = 'earnings.get'
    const o = objectArgs(m, raw, ['tzOffsetMinutes', 'days'])
    const out: ApiArgs<'earnings.get'> = {}
    const tz = optInt(m, o, 'tzOffsetMinutes', -14 * 60, 14 * 60)
    const days = optInt(m, o, 'days', 1, 366)
    if (tz !== undefined) out.tzOffsetMinutes = tz
    if (days !== undefined) out.days = days
    return out
  },
  'jobs.list': (raw) => {
    const m = 'jobs.list'
    const o = objectArgs(m, raw, ['limit', 'offset', 'states'])
    const out: ApiArgs<'jobs.list'> = {}
    const limit = optInt(m, o, 'limit', 1, 1000)
    const offset = optInt(m, o, 'offset', 0, 1_000_000_000)
    if (limit !== undefined) out.limit = limit
    if (offset !== undefined) out.offset = offset
    if (o.states !== undefined) {
      if (!Array.isArray(o.states) || o.states.length > JOB_STATES.length) bad(m, 'states must be an array of job states')
      out.states = o.states.map((s) => {
        if (typeof s !== 'string' || !(JOB_STATES as readonly string[]).includes(s)) bad(m, `unknown job state ${JSON.stringify(s)} (one of ${JOB_STATES.join(', ')})`)
        return s as JobStateName
      })
    }
    return out
  },
  'jobs.get': (raw) => {
    const o = objectArgs('jobs.get', raw, ['announcementId'])
    return { announcementId: reqString('jobs.get', o, 'announcementId', ID_RE) }
  },
  'market.announcements': (raw) => {
    const m = 'market.announcements'
    const o = objectArgs(m, raw, ['limit', 'offset', 'decision', 'firstFailedRule'])
    const out: ApiArgs<'market.announcements'> = {}
    const limit = optInt(m, o, 'limit', 1, 1000)
    const offset = optInt(m, o, 'offset', 0, 1_000_000_000)
    if (limit !== undefined) out.limit = limit
    if (offset !== undefined) out.offset = offset
    if (o.decision !== undefined) {
      if (o.decision !== 'bid' && o.decision !== 'no_bid') bad(m, 'decision must be "bid" or "no_bid"')
      out.decision = o.decision
    }
    const rule = optString(m, o, 'firstFailedRule')
    if (rule !== undefined) out.firstFailedRule = rule
    return out
  },
  'market.stats': (raw) => {
    const o = objectArgs('market.stats', raw, ['sinceMs'])
    const since = optInt('market.stats', o, 'sinceMs', 0, Number.MAX_SAFE_INTEGER)
    return since === undefined ? {} : { sinceMs: since }
  },
  'market.simulate': (raw) => {
    const m = 'market.simulate'
    const o = objectArgs(m, raw, ['policy', 'lastN'])
    const lastN = optInt(m, o, 'lastN', 1, 10_000)
    if (lastN === undefined) bad(m, 'lastN must be an integer in 1..10000')
    return { policy: policyArg(m, o), lastN }
  },
  'policy.get': (raw) => { objectArgs('policy.get', raw, []); return {} },
  'policy.validate': (raw) => ({ policy: policyArg('policy.validate', objectArgs('policy.validate', raw, ['policy'])) }),
  'policy.save': (raw) => {
    const o = objectArgs('policy.save', raw, ['policy', 'note'])
    const note = optString('policy.save', o, 'note')
    return note === undefined ? { policy: policyArg('policy.save', o) } : { policy: policyArg('policy.save', o), note }
  },
  'receipts.list': (raw) => {
    const m = 'receipts.list'
    const o = objectArgs(m, raw, ['limit', 'offset'])
    const out: ApiArgs<'receipts.list'> = {}
    const limit = optInt(m, o, 'limit', 1, 1000)
    const offset = optInt(m, o, 'offset', 0, 1_000_000_000)
    if (limit !== undefined) out.limit = limit
    if (offset !== undefined) out.offset = offset
    return out
  },
  'receipts.get': (raw) => ({ cid: reqString('receipts.get', objectArgs('receipts.get', raw, ['cid']), 'cid', CID_RE) }),
  'receipts.verify': (raw) => {
    const m = 'receipts.verify'
    const o = objectArgs(m, raw, ['cid', 'blockBase64'])
    if ((o.cid === undefined) === (o.blockBase64 === undefined)) bad(m, 'give exactly one of cid or blockBase64')
    if (o.cid !== undefined) return { cid: reqString(m, o, 'cid', CID_RE) }
    const b = o.blockBase64
    if (typeof b !== 'string' || b.length === 0 || b.length > MAX_BLOCK_BASE64 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b)) bad(m, 'blockBase64 must be non-empty standard base64 (at most 2 MiB)')
    return { blockBase64: b }
  },
  'node.setAutoBid': (raw) => ({ enabled: reqBool('node.setAutoBid', objectArgs('node.setAutoBid', raw, ['enabled']), 'enabled') }),
  'node.pause': (raw) => {
    const m = 'node.pause'
    const o = objectArgs(m, raw, ['untilMs'])
    if (o.untilMs === null) return { untilMs: null }
    const until = optInt(m, o, 'untilMs', 0, 8_640_000_000_000_000)
    if (until === undefined) bad(m, 'untilMs must be an epoch-millisecond integer, or null to resume')
    return { untilMs: until }
  },
  'settings.get': (raw) => { objectArgs('settings.get', raw, []); return {} },
  'settings.update': (raw) => {
    const o = objectArgs('settings.update', raw, ['patch'])
    if (o.patch === undefined) bad('settings.update', 'patch is required')
    return { patch: settingsPatch('settings.update', o.patch) }
  },
  'node.setMachineState': (raw) => {
    const m = 'node.setMachineState'
    const o = objectArgs(m, raw, ['userIdleSeconds', 'onBattery'])
    const idle = o.userIdleSeconds
    if (idle !== null && (typeof idle !== 'number' || !Number.isFinite(idle) || idle < 0 || idle > 1e9)) bad(m, 'userIdleSeconds must be a number of seconds in 0..1e9, or null (unknown)')
    const battery = o.onBattery
    if (battery !== null && typeof battery !== 'boolean') bad(m, 'onBattery must be true, false or null (unknown)')
    return { userIdleSeconds: idle, onBattery: battery }
  },
  'node.shutdown': (raw) => {
    const m = 'node.shutdown'
    const o = objectArgs(m, raw, ['graceSeconds'])
    const g = o.graceSeconds
    if (g === undefined) return {}
    if (typeof g !== 'number' || !Number.isFinite(g) || g < 0 || g > 86_400) bad(m, 'graceSeconds must be a number of seconds in 0..86400')
    return { graceSeconds: g }
  },
  'settings.validate': (raw) => {
    const o = objectArgs('settings.validate', raw, ['patch'])
    if (!isPlainObject(o.patch)) bad('settings.validate', 'patch must be a JSON object')
    return { patch: o.patch as SettingsPatch }
  },
  'logs.tail': (raw) => {
    const m = 'logs.tail'
    const o = objectArgs(m, raw, ['limit', 'level', 'subs', 'job', 'text', 'before'])
    const out: LogsQuery = {}
    const limit = optInt(m, o, 'limit', 1, 1000)
    if (limit !== undefined) out.limit = limit
    if (o.level !== undefined) {
      if (typeof o.level !== 'string' || !(LOG_LEVEL_NAMES as readonly string[]).includes(o.level)) bad(m, `level must be one of ${LOG_LEVEL_NAMES.join(', ')}`)
      out.level = o.level as LogLevelName
    }
    if (o.subs !== undefined) {
      if (!Array.isArray(o.subs) || o.subs.length > 20 || !o.subs.every((x) => typeof x === 'string' && /^[a-z0-9_-]{1,32}$/.test(x))) bad(m, 'subs must be a list of subsystem names (daemon, jobs, market, …)')
      out.subs = o.subs as string[]
    }
    if (o.job !== undefined) out.job = reqString(m, o, 'job', ID_RE)
    if (o.text !== undefined) {
      if (typeof o.text !== 'string' || o.text.length > 200) bad(m, 'text must be at most 200 characters')
      if (o.text !== '') out.text = o.text
    }
    if (o.before !== undefined) out.before = reqString(m, o, 'before', LOG_CURSOR_RE)
    return out
  },
  'export.earnings': (raw) => exportQuery('export.earnings', raw, true) as ApiArgs<'export.earnings'>,
  'export.receipts': (raw) => exportQuery('export.receipts', raw, true) as ApiArgs<'export.receipts'>,
  'export.statement': (raw) => exportQuery('export.statement', raw, false),
  'statement.verify': (raw) => {
    const o = objectArgs('statement.verify', raw, ['text'])
    const t = o.text
    if (typeof t !== 'string' || t.length === 0 || t.length > 4 * 1024 * 1024) bad('statement.verify', 'text must be the statement file\'s contents (at most 4 MiB here; larger files: mesh-executor receipt verify FILE)')
    return { text: t }
  },
  'market.rate': (raw) => {
    const o = objectArgs('market.rate', raw, ['days'])
    const days = optInt('market.rate', o, 'days', 1, 90)
    return days === undefined ? {} : { days }
  }
}

/** Validates `raw` as the arguments of `method`; throws ApiError(BadRequest) with a clear message. */
export function validateArgs<M extends ApiMethod> (method: M, raw: unknown): ApiArgs<M> {
  return validators[method](raw)
}

/** Validates an untrusted method name plus arguments (transport entry points). */
export function validateCall (method: unknown, raw: unknown): { method: ApiMethod, args: ApiArgs<ApiMethod> } {
  if (!isApiMethod(method)) throw new ApiError('BadRequest', `unknown API method ${JSON.stringify(String(method)).slice(0, 80)}`)
  return { method, args: validateArgs(method, raw) }
}
