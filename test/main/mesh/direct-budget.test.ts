/** What a peer may send us directly past its base limit: its job sessions' bucket; one bid per open announcement of ours. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDirectBudget, SESSION_ALLOWANCE } from '../../../src/main/mesh/direct-budget.js'

const drain = (take: () => boolean): number => {
  let n = 0
  while (n < 10_000 && take()) n++
  return n
}

test('a session: its peer may go on past its base limit within the sessions\' bucket (full when opened), another peer may not; ending restores', () => {
  let t = 0
  const b = createDirectBudget(() => t)
  assert.equal(b.takeSession('A'), false, 'no session: nothing past the base limit')
  const end1 = b.openSession('A')
  assert.equal(drain(() => b.takeSession('A')), SESSION_ALLOWANCE.burst, 'a full bucket at once')
  assert.equal(b.takeSession('B'), false, 'another peer gets nothing from A\'s session')
  t += 1000
  assert.equal(drain(() => b.takeSession('A')), SESSION_ALLOWANCE.perSecond, 'refilled at the session rate')
  const end2 = b.openSession('A')
  t += 1000
  assert.equal(drain(() => b.takeSession('A')), 2 * SESSION_ALLOWANCE.perSecond, 'two sessions: twice the rate')
  end1()
  end1()
  end2()
  assert.equal(b.takeSession('A'), false, 'all ended (ending twice changes nothing)')
  b.openSession('A')
  assert.equal(drain(() => b.takeSession('A')), SESSION_ALLOWANCE.burst, 'a later session starts full again')
})

test('a bid credit: once per peer per announcement taking bids, none once its window closed', () => {
  const b = createDirectBudget()
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
