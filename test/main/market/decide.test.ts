import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  decide, parsePolicy, EVALUATED_RULES, type DecisionContext, type RuleId
} from '../../../src/main/market/index.js'
import { formatBytes } from '../../../src/main/market/rules/index.js'
import type { JobAnnouncementV1, MeshJobParams } from '../../../src/shared/protocol/index.js'
import { T, ORIG, announcement, context } from './fixtures.js'

/** Passes every rule: floor 8 + 2 per 1M fuel → 14 for the base job's 3M fuel, max_price 100. */
const BASE_POLICY = {
  autoBid: true,
  pricing: { mode: 'floor_plus_rate', floor: 8, ratePerMillionFuel: 2 },
  maxConcurrentJobs: 2,
  stopOnBattery: true
}

interface Row {
  name: string
  policy?: Record<string, unknown>
  ann?: Partial<Omit<JobAnnouncementV1, 'job_params'>>
  /** job_params; `wasm_size` / `input_size` are the extra keys our originator adds (rule relay) */
  params?: Partial<MeshJobParams> & { wasm_size?: unknown, input_size?: unknown }
  ctx?: Partial<DecisionContext>
  bid: boolean
  rule: RuleId
  text: string
  price?: bigint
}

const iso = (ms: number): string => new Date(ms).toISOString()
const MIB = 1024 * 1024

const ROWS: Row[] = [
  { name: 'base job is bid on', bid: true, rule: 'price', text: 'price: our price 14 ≤ job max_price 100 (floor 8 + 6 for 3000000 fuel)', price: 14n },
  { name: 'auto-bid off', policy: { autoBid: false }, bid: false, rule: 'auto_bid', text: 'auto_bid: off' },
  { name: 'auto-bid on', bid: true, rule: 'auto_bid', text: 'auto_bid: on' },
  { name: 'already bid', ctx: { alreadyBid: true }, bid: false, rule: 'once', text: 'once: already bid on this announcement' },
  { name: 'snoozed', policy: { pausedUntil: iso(T + 3600_000) }, bid: false, rule: 'paused', text: 'paused: snoozed until 2026-11-25T11:00:00.000Z' },
  { name: 'snooze over', policy: { pausedUntil: iso(T - 1) }, bid: true, rule: 'paused', text: 'paused: not paused' },
  { name: 'no schedule', bid: true, rule: 'schedule', text: 'schedule: no schedule, always on' },
  {
    name: 'inside a weekday window',
    policy: { schedule: { timezone: 'UTC', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] } },
    bid: true, rule: 'schedule', text: 'schedule: wed 10:00 (UTC) is inside mon,tue,wed,thu,fri 09:00-17:00'
  },
  {
    name: 'outside the window in the configured time zone',
    policy: { schedule: { timezone: 'America/New_York', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] } },
    bid: false, rule: 'schedule', text: 'schedule: wed 05:00 (America/New_York) is outside mon,tue,wed,thu,fri 09:00-17:00'
  },
  {
    name: 'busy machine',
    policy: { idleOnly: { maxLoadPerCore: 0.5, minUserIdleSeconds: 300 } },
    ctx: { machine: { loadAvg: 1.6, cpuCount: 2, userIdleSeconds: 900 } },
    bid: false, rule: 'idle', text: 'idle: load 0.80 per core > 0.5'
  },
  {
    name: 'user active',
    policy: { idleOnly: { maxLoadPerCore: 0.5, minUserIdleSeconds: 300 } },
    ctx: { machine: { loadAvg: 0.2, cpuCount: 2, userIdleSeconds: 12 } },
    bid: false, rule: 'idle', text: 'idle: user active 12s ago < 300s'
  },
  { name: 'idle-only without machine state', policy: { idleOnly: true }, bid: false, rule: 'idle', text: 'idle: machine state unknown, idle-only needs it' },
  {
    name: 'idle machine',
    policy: { idleOnly: { maxLoadPerCore: 0.5, minUserIdleSeconds: 300 } },
    ctx: { machine: { loadAvg: 0.2, cpuCount: 2, userIdleSeconds: 600 } },
    bid: true, rule: 'idle', text: 'idle: load 0.10 per core ≤ 0.5; user idle 600s ≥ 300s'
  },
  {
    name: 'idle machine, user idle unknown',
    policy: { idleOnly: { maxLoadPerCore: 0.5, minUserIdleSeconds: 300 } },
    ctx: { machine: { loadAvg: 0.2, cpuCount: 2 } },
    bid: true, rule: 'idle', text: 'idle: load 0.10 per core ≤ 0.5; user idle time unknown'
  },
  { name: 'on battery', ctx: { machine: { loadAvg: 0, onBattery: true } }, bid: false, rule: 'battery', text: 'battery: on battery power' },
  { name: 'on mains', ctx: { machine: { loadAvg: 0, onBattery: false } }, bid: true, rule: 'battery', text: 'battery: on mains power' },
  { name: 'battery unknown', bid: true, rule: 'battery', text: 'battery: power source unknown' },
  { name: 'disk almost full', ctx: { machine: { loadAvg: 0, dataDirFreeBytes: 40 * 1024 } }, bid: false, rule: 'disk', text: "disk: the data directory's disk has 40 KiB free, under the 64 MiB a job needs" },
  { name: 'disk has room', ctx: { machine: { loadAvg: 0, dataDirFreeBytes: 64 * 1024 * 1024 } }, bid: true, rule: 'disk', text: 'disk: 64 MiB free ≥ 64 MiB' },
  { name: 'disk space unknown', bid: true, rule: 'disk', text: 'disk: free disk space unknown' },
  { name: 'battery ignored', policy: { stopOnBattery: false }, ctx: { machine: { loadAvg: 0, onBattery: true } }, bid: true, rule: 'battery', text: 'battery: stop-on-battery off' },
  { name: 'bidding window open', bid: true, rule: 'bidding_window', text: 'bidding_window: open for 25.0s more' },
  { name: 'bidding window closed', ctx: { now: T + 26_000 }, bid: false, rule: 'bidding_window', text: 'bidding_window: bidding window passed 1.0s ago (2026-11-25T10:00:25.000Z)' },
  { name: 'custom bidding_duration', ann: { bidding_duration: 'PT2M' }, bid: true, rule: 'bidding_window', text: 'bidding_window: open for 115.0s more' },
  {
    name: 'deadline before the window ends',
    params: { deadline: iso(T + 1000) }, ctx: { now: T + 2000 },
    bid: false, rule: 'bidding_window', text: 'bidding_window: deadline passed 1.0s ago (2026-11-25T10:00:01.000Z)'
  },
  { name: 'deadline bounds the window', params: { deadline: iso(T + 10_000) }, bid: true, rule: 'bidding_window', text: 'bidding_window: open for 10.0s more (until the deadline)' },
  { name: 'window closes within our margin', ctx: { now: T + 24_950 }, bid: false, rule: 'bidding_window', text: 'bidding_window: closes in 50ms, less than our 100ms margin' },
  { name: 'originator blocked', policy: { blockedOriginators: [ORIG] }, bid: false, rule: 'originator', text: 'originator: did:key:z6MkOriginator is blocked' },
  { name: 'originator not allowed', policy: { allowedOriginators: ['did:key:z6MkSomeoneElse'] }, bid: false, rule: 'originator', text: 'originator: did:key:z6MkOriginator not in allowed list (1 entry)' },
  { name: 'originator allowed', policy: { allowedOriginators: [ORIG] }, bid: true, rule: 'originator', text: 'originator: did:key:z6MkOriginator is in the allowed list' },
  {
    name: 'originator never assigns',
    policy: { minOriginatorRecord: { maxBidsWithoutAssignment: 10 } },
    ctx: { originatorRecord: { announcementsSeen: 30, bidsSent: 12, assigned: 0, completed: 0, failed: 0 } },
    bid: false, rule: 'originator_record', text: 'originator_record: 12 bids, never assigned (limit 10)'
  },
  {
    name: 'originator jobs always fail',
    policy: { minOriginatorRecord: { maxFailedWithoutCompletion: 3 } },
    ctx: { originatorRecord: { announcementsSeen: 5, bidsSent: 5, assigned: 3, completed: 0, failed: 3 } },
    bid: false, rule: 'originator_record', text: 'originator_record: 3 of their jobs failed, none completed (limit 3)'
  },
  {
    name: 'originator with a good record',
    policy: { minOriginatorRecord: { maxBidsWithoutAssignment: 10, maxFailedWithoutCompletion: 3 } },
    ctx: { originatorRecord: { announcementsSeen: 30, bidsSent: 12, assigned: 4, completed: 1, failed: 3 } },
    bid: true, rule: 'originator_record', text: 'originator_record: 12 bids, 4 assigned, 1 completed, 3 failed'
  },
  { name: 'new originator', policy: { minOriginatorRecord: { maxBidsWithoutAssignment: 10 } }, bid: true, rule: 'originator_record', text: 'originator_record: new originator, no history yet' },
  { name: 'region not allowed', policy: { allowedRegions: ['us-east'] }, ctx: { topicRegion: 'eu-west' }, bid: false, rule: 'region', text: 'region: eu-west not in allowed [us-east]' },
  { name: 'job names no region', policy: { allowedRegions: ['us-east'] }, bid: false, rule: 'region', text: 'region: job names no region, allowed [us-east]' },
  { name: 'region allowed', policy: { allowedRegions: ['us-east', 'eu-west'] }, ctx: { topicRegion: 'eu-west' }, bid: true, rule: 'region', text: 'region: eu-west allowed' },
  {
    name: 'region_filter excludes us',
    params: { execution_policy: { region_filter: 'us-east', max_price: 100, rep_weight: 500, price_weight: 500 } },
    bid: false, rule: 'region', text: 'region: job requires us-east, we are eu-west'
  },
  { name: 'qos not accepted', policy: { acceptedQos: ['BestEffort', 'CostOptimized'] }, params: { qos_profile: 'GuaranteedCompletion' }, bid: false, rule: 'qos', text: 'qos: GuaranteedCompletion not accepted [BestEffort, CostOptimized]' },
  { name: 'qos accepted', bid: true, rule: 'qos', text: 'qos: BestEffort accepted' },
  { name: 'interactive refused', policy: { allowInteractive: false }, params: { is_interactive: true }, bid: false, rule: 'interactive', text: 'interactive: interactive jobs not allowed' },
  { name: 'interactive allowed', params: { is_interactive: true }, bid: true, rule: 'interactive', text: 'interactive: interactive job allowed' },
  { name: 'no runtime', ctx: { runtimes: [] }, bid: false, rule: 'runtime', text: 'runtime: no WASM runtime available on this node' },
  { name: 'timeout too long', policy: { maxTimeoutSeconds: 3600 }, params: { timeout_seconds: 7200 }, bid: false, rule: 'timeout', text: 'timeout: job timeout 7200s > our max 3600s' },
  { name: 'timeout fits', policy: { maxTimeoutSeconds: 3600 }, bid: true, rule: 'timeout', text: 'timeout: job timeout 60s ≤ our max 3600s' },
  {
    name: 'too much fuel',
    policy: { maxFuel: 1_000_000_000, pricing: { mode: 'fixed', price: 1 } }, params: { max_fuel: 5_000_000_000 },
    bid: false, rule: 'fuel', text: 'fuel: job max_fuel 5000000000 > our max 1000000000'
  },
  { name: 'needs more CPU', params: { resources_required: { CPU: '4c' } }, bid: false, rule: 'resources', text: 'resources: needs CPU 4c > offered 2c' },
  {
    name: 'needs more RAM, a GPU we lack and disk',
    params: { resources_required: { CPU: '1c', RAM: '8GiB', GPU_AMD_MI300X: '1', DISK: '200GiB' } },
    bid: false, rule: 'resources', text: 'resources: needs RAM 8GiB > offered 4GiB; DISK 200GiB > offered 100GiB; GPU_AMD_MI300X ×1 > offered 0'
  },
  {
    name: 'resources fit',
    params: { resources_required: { CPU: '0.5c', RAM: '1GiB', GPU_NVIDIA_RTX_4090: '1' } },
    bid: true, rule: 'resources', text: 'resources: CPU 0.5c ≤ offered 2c, RAM 1GiB ≤ offered 4GiB, GPU_NVIDIA_RTX_4090 ×1 ≤ offered 1'
  },
  {
    name: 'malformed resources',
    params: { resources_required: { CPU: 'lots' } },
    bid: false, rule: 'resources', text: 'resources: malformed resources_required: bad CPU quantity "lots": want a positive number of cores like "4c" or "0.5c"'
  },
  { name: 'relay: no sizes declared', bid: true, rule: 'relay', text: 'relay: job declares no block sizes (wasm_size, input_size); not checked' },
  { name: 'relay: garbage sizes are ignored', params: { wasm_size: -1, input_size: 'lots' }, ctx: { path: { bytes: 10n } }, bid: true, rule: 'relay', text: 'relay: job declares no block sizes (wasm_size, input_size); not checked' },
  {
    name: 'relay: path not looked up (the simulator)', params: { wasm_size: 4 * MIB, input_size: 8 * MIB },
    bid: true, rule: 'relay', text: 'relay: path to the originator not looked up; the job\'s blocks are 12 MiB (module 4 MiB + input 8 MiB)'
  },
  {
    name: 'relay: direct connection', params: { wasm_size: 4 * MIB, input_size: 8 * MIB }, ctx: { path: 'direct' },
    bid: true, rule: 'relay', text: 'relay: direct connection to the originator; the job\'s blocks are 12 MiB (module 4 MiB + input 8 MiB)'
  },
  {
    name: 'relay without a data limit', params: { wasm_size: 4 * MIB, input_size: 8 * MIB }, ctx: { path: { seconds: 120_000 } },
    bid: true, rule: 'relay', text: 'relay: the only path to the originator is a relay with no data limit; the job\'s blocks are 12 MiB (module 4 MiB + input 8 MiB)'
  },
  {
    name: 'relay large enough', params: { wasm_size: 4 * MIB + 80, input_size: 8 * MIB }, ctx: { path: { bytes: 32n * BigInt(MIB), seconds: 600_000 } },
    bid: true, rule: 'relay', text: 'relay: the only path to the originator is a relay allowing 32 MiB, enough for the job\'s blocks: 12.0 MiB (module 4.0 MiB + input 8 MiB)'
  },
  {
    name: 'blocks too large for the relay', params: { wasm_size: 4 * MIB + 80, input_size: 8 * MIB }, ctx: { path: { bytes: 131072n, seconds: 120_000 } },
    bid: false, rule: 'relay', text: 'relay: the only path to the originator is a relay allowing 128 KiB; the job\'s blocks are 12.0 MiB (module 4.0 MiB + input 8 MiB)'
  },
  {
    name: 'relay: module only, bigint size, exactly the limit', params: { wasm_size: 131072n }, ctx: { path: { bytes: 131072n } },
    bid: true, rule: 'relay', text: 'relay: the only path to the originator is a relay allowing 128 KiB, enough for the job\'s blocks: 128 KiB (module 128 KiB)'
  },
  {
    name: 'relay: one byte over', params: { wasm_size: 1000, input_size: 72 }, ctx: { path: { bytes: 1071n } },
    bid: false, rule: 'relay', text: 'relay: the only path to the originator is a relay allowing 1.0 KiB; the job\'s blocks are 1.0 KiB (module 1000 B + input 72 B)'
  },
  { name: 'all slots busy', ctx: { activeJobs: 2 }, bid: false, rule: 'concurrency', text: 'concurrency: 2 jobs running, max 2' },
  { name: 'a slot free', ctx: { activeJobs: 1 }, bid: true, rule: 'concurrency', text: 'concurrency: 1 of 2 job slots in use' },
  {
    name: 'max_price below our floor',
    params: { execution_policy: { max_price: 5, rep_weight: 500, price_weight: 500 } },
    bid: false, rule: 'price', text: 'price: job max_price 5 < our floor 8'
  },
  {
    name: 'max_price below floor + fuel',
    params: { execution_policy: { max_price: 10, rep_weight: 500, price_weight: 500 } },
    bid: false, rule: 'price', text: 'price: job max_price 10 < our price 14 (floor 8 + 6 for 3000000 fuel)'
  },
  {
    name: 'fixed price above max_price',
    policy: { pricing: { mode: 'fixed', price: 8 } }, params: { execution_policy: { max_price: 5, rep_weight: 500, price_weight: 500 } },
    bid: false, rule: 'price', text: 'price: job max_price 5 < our price 8 (fixed 8)'
  },
  {
    name: 'per-million-fuel rate',
    policy: { pricing: { mode: 'per_mfuel', ratePerMillionFuel: 3 } },
    bid: true, rule: 'price', text: 'price: our price 9 ≤ job max_price 100 (3 per 1M fuel × 3000000 fuel)', price: 9n
  },
  {
    name: 'rate rounds up to whole tokens',
    policy: { pricing: { mode: 'per_mfuel', ratePerMillionFuel: 1 } }, params: { max_fuel: 1 },
    bid: true, rule: 'price', text: 'price: our price 1 ≤ job max_price 100 (1 per 1M fuel × 1 fuel)', price: 1n
  },
  {
    name: 'no max_price',
    params: { execution_policy: { rep_weight: 500, price_weight: 500 } },
    bid: true, rule: 'price', text: 'price: our price 14 (floor 8 + 6 for 3000000 fuel); job sets no max_price', price: 14n
  },
  {
    name: 'big amounts stay exact',
    policy: { pricing: { mode: 'per_mfuel', ratePerMillionFuel: '1000000000000' } }, params: { max_fuel: 10n ** 15n, execution_policy: { rep_weight: 0, price_weight: 0 } },
    bid: true, rule: 'price', text: 'price: our price 1000000000000000000000 (1000000000000 per 1M fuel × 1000000000000000 fuel); job sets no max_price', price: 10n ** 21n
  }
]

for (const row of ROWS) {
  test(`decide: ${row.name}`, () => {
    const policy = parsePolicy({ ...BASE_POLICY, ...row.policy })
    const d = decide(announcement(row.ann, row.params), policy, context(row.ctx))
    // every rule is evaluated and explained, in order, each text prefixed by its rule
    assert.deepEqual(d.reasons.map((r) => r.rule), [...EVALUATED_RULES])
    for (const r of d.reasons) assert.ok(r.text.startsWith(`${r.rule}: `), r.text)
    const reason = d.reasons.find((r) => r.rule === row.rule)
    assert.equal(reason?.text, row.text)
    assert.equal(reason?.ok, row.bid)
    assert.equal(d.bid, row.bid)
    if (row.bid) {
      assert.equal(d.firstFailedRule, undefined)
    } else {
      assert.equal(d.firstFailedRule, row.rule)
      // the row changes one thing: only that rule fails
      assert.deepEqual(d.reasons.filter((r) => !r.ok).map((r) => r.rule), [row.rule])
    }
    if (row.price !== undefined) assert.equal(d.price, row.price)
  })
}

test('decide: several failures are all reported, the first one groups the decision', () => {
  const policy = parsePolicy({ ...BASE_POLICY, autoBid: false, allowInteractive: false })
  const d = decide(announcement({}, { is_interactive: true, execution_policy: { max_price: 1, rep_weight: 0, price_weight: 0 } }), policy, context({ activeJobs: 5 }))
  assert.equal(d.bid, false)
  assert.equal(d.firstFailedRule, 'auto_bid')
  assert.deepEqual(d.reasons.filter((r) => !r.ok).map((r) => r.rule), ['auto_bid', 'interactive', 'concurrency', 'price'])
})

test('decide: overnight schedule window spans midnight into the next day', () => {
  const policy = parsePolicy({ ...BASE_POLICY, schedule: { timezone: 'UTC', windows: [{ days: ['tue'], from: '22:00', to: '06:00' }] } })
  // Wed 05:59 UTC: inside Tuesday's window; Wed 06:00 outside; Tue 21:59 outside; Tue 23:00 inside
  const at = (d: number, h: number, m: number): boolean =>
    decide(announcement({ timestamp: new Date(Date.UTC(2026, 10, d, h, m) - 1000).toISOString() }), policy, context({ now: Date.UTC(2026, 10, d, h, m) })).bid
  assert.equal(at(25, 5, 59), true)
  assert.equal(at(25, 6, 0), false)
  assert.equal(at(24, 21, 59), false)
  assert.equal(at(24, 23, 0), true)
})

test('relay rule: byte sizes for people', () => {
  assert.deepEqual([0, 900, 1024, 1536, 131072, 12 * MIB, 4 * MIB + 80, 3 * 1024 * MIB, 2n ** 50n].map((n) => formatBytes(n)),
    ['0 B', '900 B', '1 KiB', '1.5 KiB', '128 KiB', '12 MiB', '4.0 MiB', '3 GiB', '1024 TiB'])
})
