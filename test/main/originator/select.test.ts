import { test } from 'node:test'
import assert from 'node:assert/strict'
import { selectBid, policyRefusals, DEFAULT_REPUTATION } from '../../../src/main/originator/index.js'
import type { CandidateBid } from '../../../src/main/originator/index.js'
import type { ExecutionPolicy } from '../../../src/shared/protocol/index.js'

const bid = (did: string, price: number | undefined, region?: string): CandidateBid => ({
  executorDid: did, executorPeerId: `peer-${did}`, ...(price !== undefined ? { price: BigInt(price) } : {}), ...(region !== undefined ? { region } : {})
})

interface Case {
  name: string
  bids: CandidateBid[]
  policy: ExecutionPolicy | undefined
  reps: Record<string, number>
  chosen: string | undefined
  order?: string[]
  refused?: Record<string, RegExp>
}

const cases: Case[] = [
  {
    name: 'issue case: region west + min reputation 75 picks the west executor with rep 80',
    bids: [bid('east100', 10, 'east'), bid('west50', 5, 'west'), bid('west80', 8, 'west')],
    policy: { region_filter: 'west', min_reputation: 75, rep_weight: 500, price_weight: 500 },
    reps: { east100: 100, west50: 50, west80: 80 },
    chosen: 'west80',
    refused: { east100: /region east is not west/, west50: /reputation 50 is below min_reputation 75/ }
  },
  {
    name: 'no policy: the cheapest wins',
    bids: [bid('a', 10), bid('b', 5), bid('c', 7)],
    policy: undefined,
    reps: {},
    chosen: 'b',
    order: ['b', 'c', 'a']
  },
  {
    name: 'both weights zero: cheapest wins',
    bids: [bid('a', 10), bid('b', 5)],
    policy: { rep_weight: 0, price_weight: 0 },
    reps: { a: 100, b: 0 },
    chosen: 'b'
  },
  {
    name: 'reputation weight only: best reputation wins despite price',
    bids: [bid('a', 10), bid('b', 5)],
    policy: { rep_weight: 1000, price_weight: 0 },
    reps: { a: 90, b: 60 },
    chosen: 'a'
  },
  {
    name: 'weighted: 1000×min/price vs rep×10 (a: 700×500+300×900, b: 700×1000+300×600)',
    bids: [bid('a', 10), bid('b', 5)],
    policy: { rep_weight: 300, price_weight: 700 },
    reps: { a: 90, b: 60 },
    chosen: 'b'
  },
  {
    name: 'max_price excludes expensive bids; a free bid (no price) passes',
    bids: [bid('a', 20), bid('free', undefined), bid('c', 15)],
    policy: { max_price: 15, rep_weight: 0, price_weight: 1000 },
    reps: {},
    chosen: 'free',
    order: ['free', 'c'],
    refused: { a: /price 20 is above max_price 15/ }
  },
  {
    name: 'ties broken by lower price, then reputation, then DID',
    bids: [bid('did:z', 5), bid('did:b', 5), bid('did:a', 5)],
    policy: { rep_weight: 0, price_weight: 1000 },
    reps: { 'did:z': 90 },
    chosen: 'did:z',
    order: ['did:z', 'did:a', 'did:b']
  },
  {
    name: 'strangers get the neutral default reputation',
    bids: [bid('stranger', 1)],
    policy: { min_reputation: DEFAULT_REPUTATION + 1, rep_weight: 0, price_weight: 0 },
    reps: {},
    chosen: undefined,
    refused: { stranger: new RegExp(`reputation ${DEFAULT_REPUTATION} is below`) }
  },
  {
    name: 'a bid without a region fails a region filter',
    bids: [bid('noregion', 1)],
    policy: { region_filter: 'eu', rep_weight: 0, price_weight: 0 },
    reps: {},
    chosen: undefined,
    refused: { noregion: /names no region/ }
  },
  {
    name: 'no bids: nothing chosen',
    bids: [],
    policy: { rep_weight: 500, price_weight: 500 },
    reps: {},
    chosen: undefined
  }
]

for (const c of cases) {
  test(`selectBid: ${c.name}`, () => {
    const sel = selectBid(c.bids, c.policy, c.reps)
    assert.equal(sel.chosen?.executorDid, c.chosen)
    if (c.order !== undefined) assert.deepEqual(sel.ranking.map((r) => r.bid.executorDid), c.order)
    for (const [did, re] of Object.entries(c.refused ?? {})) {
      const r = sel.refused.find((x) => x.bid.executorDid === did)
      assert.ok(r !== undefined, `${did} should be refused`)
      assert.match(r.reasons.join('; '), re)
    }
    // deterministic: arrival order does not matter
    const again = selectBid([...c.bids].reverse(), c.policy, c.reps)
    assert.deepEqual(again.ranking.map((r) => r.bid.executorDid), sel.ranking.map((r) => r.bid.executorDid))
  })
}

test('selectBid: reputations as a Map or a function give the same answer', () => {
  const bids = [bid('a', 10), bid('b', 10)]
  const policy: ExecutionPolicy = { rep_weight: 1000, price_weight: 0 }
  assert.equal(selectBid(bids, policy, new Map([['b', 99]])).chosen?.executorDid, 'b')
  assert.equal(selectBid(bids, policy, (d) => (d === 'b' ? 99 : undefined)).chosen?.executorDid, 'b')
})

test('policyRefusals lists every failed rule', () => {
  const reasons = policyRefusals(bid('x', 100, 'east'), { region_filter: 'west', max_price: 10, min_reputation: 90, rep_weight: 0, price_weight: 0 }, 10)
  assert.equal(reasons.length, 3)
})
