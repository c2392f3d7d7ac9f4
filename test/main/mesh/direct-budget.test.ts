/** What a peer may send us directly: the base limit, widened by job sessions; one bid per open announcement past an empty bucket. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDirectBudget, SESSION_ALLOWANCE } from '../../../src/main/mesh/direct-budget.js'
import { createRateLimiter } from '../../../src/main/mesh/rate-limit.js'

const BASE = { burst: 20, perSecond: 10 }

test('a session widens only its peer\'s limits, per session, until it ends (ending twice changes nothing)', () => {
  const b = createDirectBudget(BASE)
  assert.deepEqual(b.limitsFor('A'), BASE)
  const end1 = b.openSession('A')
  const end2 = b.openSession('A')
  assert.deepEqual(b.limitsFor('A'), { burst: 20 + 2 * SESSION_ALLOWANCE.burst, perSecond: 10 + 2 * SESSION_ALLOWANCE.perSecond })
  assert.deepEqual(b.limitsFor('B'), BASE, 'another peer gets nothing from A\'s sessions')
  end1()
  end1()
  assert.deepEqual(b.limitsFor('A'), { burst: 20 + SESSION_ALLOWANCE.burst, perSecond: 10 + SESSION_ALLOWANCE.perSecond })
  end2()
  assert.deepEqual(b.limitsFor('A'), BASE)
})

test('the rate limiter refills at the limits in force: a session peer gets its allowance, a stranger stays at the base', () => {
  let t = 0
  const lim = createRateLimiter(BASE, () => t)
  const b = createDirectBudget(BASE)
  b.openSession('A')
  let a = 0
  let s = 0
  for (let i = 0; i < 1000; i++) {
    if (lim.take('A', b.limitsFor('A'))) a++
    if (lim.take('S', b.limitsFor('S'))) s++
  }
  assert.equal(a, 20 + SESSION_ALLOWANCE.burst)
  assert.equal(s, 20)
  t += 1000
  a = 0
  s = 0
  for (let i = 0; i < 1000; i++) {
    if (lim.take('A', b.limitsFor('A'))) a++
    if (lim.take('S', b.limitsFor('S'))) s++
  }
  assert.equal(a, 10 + SESSION_ALLOWANCE.perSecond, 'one second later: the session rate')
  assert.equal(s, 10)
})

test('a bid credit: once per peer per announcement taking bids, none once its window closed', () => {
  const b = createDirectBudget(BASE)
  assert.equal(b.bidding, false)
  assert.equal(b.takeBidCredit('A', 'ann-1'), false, 'no open announcement')
  const close1 = b.openBidding('ann-1')
  b.openBidding('ann-2')
  assert.equal(b.bidding, true)
  assert.equal(b.takeBidCredit('A', 'ann-1'), true)
  assert.equal(b.takeBidCredit('A', 'ann-1'), false, 'a second message for the same announcement')
  assert.equal(b.takeBidCredit('B', 'ann-1'), true, 'each peer has its own')
  assert.equal(b.takeBidCredit('A', 'ann-2'), true)
  assert.equal(b.takeBidCredit('A', 'ann-9'), false, 'not one of ours')
  close1()
  assert.equal(b.takeBidCredit('C', 'ann-1'), false, 'window closed')
})
