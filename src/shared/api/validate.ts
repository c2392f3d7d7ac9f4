/**
 * Argument validators for every API method, run by the API service for every transport (the local
 * HTTP server today): the same input is rejected the same way with the same message
 * (`ApiError` code `BadRequest`). Unknown keys are rejected too, so typos never pass silently.
 */
import {
  ApiError, JOB_STATES, isApiMethod, type ApiArgs, type ApiMethod, type Json, type JsonObject,
  type JobStateName, type SettingsPatch, type ResourceCaps
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

function stringList (method: string, v: unknown, key: string, max: number): string[] {
  if (!Array.isArray(v) || v.length > max) bad(method, `${key} must be an array of at most ${max} strings`)
  return v.map((x, i) => {
    if (typeof x !== 'string' || x.trim().length === 0 || x.length > 1024) bad(method, `${key}[${i}] must be a non-empty string`)
    return x.trim()
  })
}

function optNumber (method: string, v: unknown, key: string, min: number, max: number, integer: boolean): number | null | undefined {
  if (v === undefined || v === null) return v as null | undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isSafeInteger(v))) {
    bad(method, `${key} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max} or null`)
  }
  return v
}

function settingsPatch (method: string, raw: unknown): SettingsPatch {
  const o = objectArgs(method, raw, ['region', 'listenAddrs', 'bootstrapPeers', 'caps', 'startAtLogin', 'startMinimized'])
  const out: SettingsPatch = {}
  if (o.region !== undefined) {
    if (o.region === null || o.region === '') out.region = null
    else if (typeof o.region !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(o.region)) bad(method, 'patch.region must be 1–64 letters, digits, "-", "_" or "." (or null)')
    else out.region = o.region
  }
  if (o.listenAddrs !== undefined) {
    out.listenAddrs = stringList(method, o.listenAddrs, 'patch.listenAddrs', 32)
    for (const a of out.listenAddrs) if (!a.startsWith('/')) bad(method, `patch.listenAddrs: "${a}" is not a multiaddr (must start with "/")`)
  }
  if (o.bootstrapPeers !== undefined) {
    out.bootstrapPeers = stringList(method, o.bootstrapPeers, 'patch.bootstrapPeers', 64)
    for (const a of out.bootstrapPeers) if (!a.startsWith('/') || !a.includes('/p2p/')) bad(method, `patch.bootstrapPeers: "${a}" must be a multiaddr ending in /p2p/<peer id>`)
  }
  if (o.caps !== undefined) {
    const c = objectArgs(method + ' patch.caps', o.caps, ['cpu', 'ramBytes', 'diskBytes', 'maxConcurrentJobs'])
    const caps: Partial<ResourceCaps> = {}
    const cpu = optNumber(method, c.cpu, 'patch.caps.cpu', 0.01, 1024, false)
    const ram = optNumber(method, c.ramBytes, 'patch.caps.ramBytes', 0, Number.MAX_SAFE_INTEGER, true)
    const disk = optNumber(method, c.diskBytes, 'patch.caps.diskBytes', 0, Number.MAX_SAFE_INTEGER, true)
    const jobs = optNumber(method, c.maxConcurrentJobs, 'patch.caps.maxConcurrentJobs', 1, 1024, true)
    if (cpu !== undefined) caps.cpu = cpu
    if (ram !== undefined) caps.ramBytes = ram
    if (disk !== undefined) caps.diskBytes = disk
    if (jobs !== undefined) caps.maxConcurrentJobs = jobs
    out.caps = caps
  }
  if (o.startAtLogin !== undefined) out.startAtLogin = reqBool(method, o, 'startAtLogin')
  if (o.startMinimized !== undefined) out.startMinimized = reqBool(method, o, 'startMinimized')
  return out
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
