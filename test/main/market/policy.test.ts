import { test } from 'node:test'
import assert from 'node:assert/strict'
import { validatePolicy, parsePolicy, policyToJson, DEFAULT_POLICY, FIELDS, FIELD_ORDER } from '../../../src/main/market/index.js'

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

test('every problem is reported with its path, the field\'s label and a plain message', () => {
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
  const got = Object.fromEntries(r.errors.map((e) => [e.path, `${e.label}: ${e.message}`]))
  assert.deepEqual(got, {
    colour: 'colour: unknown policy setting "colour"',
    autoBid: 'Bid automatically: must be on or off (true/false), got "yes"',
    'pricing.floor': 'Price: must be a whole number of 0 or more, got -1',
    'pricing.ratePerMillionFuel': 'Price: must be a whole number of 0 or more, got 1.5',
    maxConcurrentJobs: 'Jobs at once: must be a whole number from 0 to 1024, got -2',
    'offer.extra': 'What you offer: unknown setting "extra" (known: cpuFraction, cpuCores, ramFraction, ramBytes, diskBytes, offerGpus)',
    'offer.cpuFraction': 'What you offer: must be a share between 0 and 1 (e.g. 0.5 for half), got 2',
    'offer.ramBytes': 'What you offer: must be an amount like "8GiB" or "512MiB" (or a number of bytes), got "8GB"',
    'allowedRegions[0]': 'Regions: region "EU West" must be 1–63 characters of a-z, 0-9 and "-" (e.g. "eu-west")',
    'blockedOriginators[0]': 'Blocked buyers: "bob" is not a node identity (did:key:…)',
    'acceptedQos[0]': 'Kinds of service: "Fast" is not a service level (BestEffort, LowLatency, CostOptimized, GuaranteedCompletion)',
    'schedule.timezone': 'Working hours: "Mars/Olympus" is not a time zone name (e.g. "Europe/Berlin", "UTC")',
    'schedule.windows[0].days': 'Working hours: "funday" is not a day of the week (sun, mon, tue, wed, thu, fri, sat)',
    'schedule.windows[0].from': 'Working hours: must be a time "HH:MM" (00:00–24:00), got "25:00"',
    pausedUntil: 'Paused until: must be a time like "2026-11-26T08:00:00Z", or nothing, got "tomorrow"',
    'idleOnly.maxLoadPerCore': 'Only when idle: must be a load of 0 or more, got -1',
    maxFuel: "Most work per job: must be at most 18446744073709551615 (the wire's 64-bit limit), got 1e+30"
  })
  // a whole number the wire can carry but JSON cannot hold exactly, and one past the wire's limit
  const big = validatePolicy({ maxFuel: 2 ** 60, pricing: { mode: 'fixed', price: '18446744073709551616' } })
  assert.equal(big.ok, false)
  if (!big.ok) {
    assert.deepEqual(Object.fromEntries(big.errors.map((e) => [e.path, e.message])), {
      maxFuel: '1152921504606847000 is above 2^53, where JSON numbers lose digits: write it as a decimal string in quotes',
      'pricing.price': 'must be at most 18446744073709551615 (the wire\'s 64-bit limit), got "18446744073709551616"'
    })
  }
})

test('bad shapes', () => {
  assert.deepEqual(validatePolicy([]), { ok: false, errors: [{ path: '$', label: 'Policy', message: 'must be a JSON object' }] })
  const r = validatePolicy({ pricing: { mode: 'auction' } })
  assert.equal(r.ok, false)
  if (r.ok) return
  assert.deepEqual(r.errors.map((e) => [e.path, e.label]), [['pricing.mode', 'Price']])
  assert.match(r.errors[0]?.message ?? '', /^must be "fixed" \(one price per job\), "per_mfuel" .* got "auction"$/)
  assert.throws(() => parsePolicy({ maxConcurrentJobs: 'two' }), { name: 'PolicyValidationError', code: 'InvalidPolicy', message: /Jobs at once \(maxConcurrentJobs\): must be a whole number/ })
})

test('every policy field has a descriptor with a label, help, a default, and a JSON round trip', () => {
  for (const key of FIELD_ORDER) {
    const f = FIELDS[key]
    assert.equal(f.key, key)
    assert.ok(f.label.length > 0 && f.help.length > 20, `${key}: label and help`)
    assert.deepEqual(DEFAULT_POLICY[key], f.default, `${key}: DEFAULT_POLICY comes from the descriptor`)
  }
  assert.deepEqual(Object.keys(policyToJson(DEFAULT_POLICY)).every((k) => k in FIELDS), true)
})
