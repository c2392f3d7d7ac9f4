import { test } from 'node:test'
import assert from 'node:assert/strict'
import { simulate, parsePolicy } from '../../../src/main/market/index.js'
import type { MeshJobParams } from '../../../src/shared/protocol/index.js'
import { T, announcement, sources } from './fixtures.js'

test('simulate: counts would-bid, implied earnings and groups no-bids by first failing rule', () => {
  const policy = parsePolicy({ pricing: { mode: 'per_mfuel', ratePerMillionFuel: 2 }, maxConcurrentJobs: 4, acceptedQos: ['BestEffort'], maxTimeoutSeconds: 600 })
  const anns = [
    announcement({ announcement_id: 'a' }, { max_fuel: 1_000_000 }), // 2
    announcement({ announcement_id: 'b' }, { max_fuel: 5_000_000 }), // 10
    announcement({ announcement_id: 'c' }, { qos_profile: 'LowLatency' }),
    announcement({ announcement_id: 'd' }, { timeout_seconds: 3600 }),
    announcement({ announcement_id: 'e' }, { qos_profile: 'GuaranteedCompletion' }),
    // announced an hour ago: still evaluated at its own timestamp, so its window is open
    announcement({ announcement_id: 'f', timestamp: new Date(T - 3600_000).toISOString() }, { max_fuel: 500_000 }) // 1
  ]
  const r = simulate(policy, anns, sources())
  assert.equal(r.total, 6)
  assert.equal(r.wouldBid, 3)
  assert.equal(r.earningsImplied, 13n)
  assert.deepEqual(r.byFirstFailedRule, [{ rule: 'qos', count: 2 }, { rule: 'timeout', count: 1 }])
  assert.deepEqual(r.decisions.map((d) => [d.announcementId, d.decision.bid]), [['a', true], ['b', true], ['c', false], ['d', false], ['e', false], ['f', true]])
  // at a fixed "now" the old announcement's window has closed
  const late = simulate(policy, anns, sources(), { now: T })
  assert.equal(late.wouldBid, 2)
  assert.deepEqual(late.byFirstFailedRule.find((x) => x.rule === 'bidding_window'), { rule: 'bidding_window', count: 1 })
})

test('simulate: per-originator history feeds the originator_record rule', () => {
  const policy = parsePolicy({ minOriginatorRecord: { maxBidsWithoutAssignment: 3 } })
  const other = 'did:key:z6MkOther'
  const anns = [announcement({ announcement_id: 'x' }), announcement({ announcement_id: 'y', originator_did: other })]
  const r = simulate(policy, anns, sources({ originatorRecord: (did) => did === other ? { announcementsSeen: 9, bidsSent: 9, assigned: 0, completed: 0, failed: 0 } : undefined }))
  assert.deepEqual(r.decisions.map((d) => d.decision.bid), [true, false])
  assert.equal(r.decisions[1]?.decision.firstFailedRule, 'originator_record')
})

test('simulate: replays decide from the same sources as the live node (machine state included: idle-only works)', () => {
  const policy = parsePolicy({ idleOnly: { maxLoadPerCore: 0.5 } })
  const anns = [announcement({ announcement_id: 'i' })]
  const idle = simulate(policy, anns, sources({ machine: () => ({ loadAvg: 0.2, cpuCount: 2 }) }))
  assert.equal(idle.wouldBid, 1, 'an idle machine bids in the replay too')
  const busy = simulate(policy, anns, sources({ machine: () => ({ loadAvg: 3, cpuCount: 2 }) }))
  assert.equal(busy.decisions[0]?.decision.firstFailedRule, 'idle')
  // a replay ignores earlier bids and taken slots: the policy alone decides
  const replay = simulate(parsePolicy({ maxConcurrentJobs: 1 }), anns, sources({ activeJobs: () => 5, alreadyBid: () => true }))
  assert.equal(replay.wouldBid, 1)
})

test('simulate: a replay knows no path to the originator, so the relay rule passes for a job that declares its sizes', () => {
  const params = { wasm_size: 4 * 1024 * 1024, input_size: 8 * 1024 * 1024 } as Partial<MeshJobParams>
  const r = simulate(parsePolicy({}), [announcement({ announcement_id: 'big' }, params)], sources())
  assert.equal(r.wouldBid, 1)
  assert.equal(r.decisions[0]?.decision.reasons.find((x) => x.rule === 'relay')?.text, 'relay: path to the originator not looked up; the job\'s blocks are 12 MiB (module 4 MiB + input 8 MiB)')
})
