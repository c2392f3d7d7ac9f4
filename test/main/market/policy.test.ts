import { test } from 'node:test'
import assert from 'node:assert/strict'
import { validatePolicy, parsePolicy, policyToJson, DEFAULT_POLICY } from '../../../src/main/market/index.js'

const FULL = {
  autoBid: true,
  pricing: { mode: 'floor_plus_rate', floor: 8, ratePerMillionFuel: 2 },
  maxConcurrentJobs: 2,
  offer: { cpuFraction: 0.5, cpuCores: 4, ramFraction: 0.5, ramBytes: '8GiB', diskBytes: '20GiB', offerGpus: false },
  allowedRegions: ['eu-west', 'eu-central'],
  allowedOriginators: [],
  blockedOriginators: ['did:key:z6MkBadActor'],
  minOriginatorRecord: { maxBidsWithoutAssignment: 20, maxFailedWithoutCompletion: 3 },
  acceptedQos: ['BestEffort', 'CostOptimized'],
  schedule: { timezone: 'Europe/Berlin', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '18:00', to: '08:00' }, { days: ['sat', 'sun'], from: '00:00', to: '24:00' }] },
  pausedUntil: '2026-12-01T08:00:00Z',
  idleOnly: { maxLoadPerCore: 0.5, minUserIdleSeconds: 300 },
  stopOnBattery: true,
  maxTimeoutSeconds: 3600,
  maxFuel: '100000000000',
  allowInteractive: false,
  bidMarginMs: 250
}

test('a full policy validates and normalises', () => {
  const r = validatePolicy(FULL)
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.errors))
  const p = r.policy
  assert.deepEqual(p.pricing, { mode: 'floor_plus_rate', floor: 8n, ratePerMillionFuel: 2n })
  assert.deepEqual(p.offer, { cpuFraction: 0.5, cpuCores: 4, ramFraction: 0.5, ramBytes: 8 * 1024 ** 3, diskBytes: 20 * 1024 ** 3, offerGpus: false })
  assert.deepEqual(p.schedule?.windows[0], { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: 18 * 60, to: 8 * 60 })
  assert.equal(p.schedule?.windows[1]?.to, 24 * 60)
  assert.equal(p.pausedUntil, Date.UTC(2026, 11, 1, 8))
  assert.equal(p.maxFuel, 100_000_000_000n)
  // JSON round trip
  assert.deepEqual(parsePolicy(policyToJson(p)), p)
})

test('an empty object is the default policy', () => {
  assert.deepEqual(parsePolicy({}), DEFAULT_POLICY)
  assert.deepEqual(parsePolicy({ idleOnly: true }).idleOnly, { maxLoadPerCore: 0.5, minUserIdleSeconds: 300 })
})

test('every problem is reported with its path and a clear message', () => {
  const r = validatePolicy({
    autoBid: 'yes',
    pricing: { mode: 'floor_plus_rate', floor: -1, ratePerMillionFuel: 1.5 },
    maxConcurrentJobs: -2,
    offer: { cpuFraction: 2, ramBytes: '8GB', extra: 1 },
    allowedRegions: ['EU West'],
    blockedOriginators: ['bob'],
    acceptedQos: ['Fast'],
    schedule: { timezone: 'Mars/Olympus', windows: [{ days: ['funday'], from: '25:00', to: '08:00' }] },
    pausedUntil: 'tomorrow',
    idleOnly: { maxLoadPerCore: -1 },
    maxFuel: 1e30,
    colour: 'blue'
  })
  assert.equal(r.ok, false)
  if (r.ok) return
  const got = Object.fromEntries(r.errors.map((e) => [e.path, e.message]))
  assert.deepEqual(got, {
    colour: 'unknown policy field "colour"',
    autoBid: 'must be true or false, got "yes"',
    'pricing.floor': 'must be a non-negative integer amount (a number, or a decimal string for large values), got -1',
    'pricing.ratePerMillionFuel': 'must be a non-negative integer amount (a number, or a decimal string for large values), got 1.5',
    maxConcurrentJobs: 'must be an integer in 0..1024, got -2',
    'offer.extra': 'unknown offer field "extra"',
    'offer.cpuFraction': 'must be a fraction between 0 and 1, got 2',
    'offer.ramBytes': 'must be a byte count or a quantity like "8GiB"/"512MiB", got "8GB"',
    'allowedRegions[0]': 'region "EU West" must be 1–63 characters of a-z, 0-9 and "-"',
    'blockedOriginators[0]': '"bob" is not a did:key DID',
    'acceptedQos[0]': '"Fast" is not a QoS profile (BestEffort, LowLatency, CostOptimized, GuaranteedCompletion)',
    'schedule.timezone': '"Mars/Olympus" is not an IANA time zone (e.g. "Europe/Berlin", "UTC")',
    'schedule.windows[0].days': '"funday" is not a day of the week (sun, mon, tue, wed, thu, fri, sat)',
    'schedule.windows[0].from': 'must be a time "HH:MM" (00:00–24:00), got "25:00"',
    pausedUntil: 'must be an RFC 3339 time like "2026-11-26T08:00:00Z", or null, got "tomorrow"',
    'idleOnly.maxLoadPerCore': 'must be a non-negative number, got -1',
    maxFuel: 'must be a non-negative integer amount (a number, or a decimal string for large values), got 1e+30'
  })
})

test('bad shapes', () => {
  assert.deepEqual(validatePolicy([]), { ok: false, errors: [{ path: '$', message: 'policy must be a JSON object' }] })
  const r = validatePolicy({ pricing: { mode: 'auction' } })
  assert.deepEqual(r, { ok: false, errors: [{ path: 'pricing.mode', message: 'must be "fixed", "per_mfuel" or "floor_plus_rate", got "auction"' }] })
  assert.throws(() => parsePolicy({ maxConcurrentJobs: 'two' }), { name: 'PolicyValidationError', code: 'InvalidPolicy', message: /maxConcurrentJobs: must be an integer/ })
})
