import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createIntakeLimiter, DEFAULT_INTAKE } from '../../../src/shared/policy/index.js'

/** Whether the last of `times` (ms, ascending) is over the default bucket after the earlier ones: the shared limiter on a fake clock. */
function overIntake (times: number[]): boolean {
  let now = 0
  const admit = createIntakeLimiter(DEFAULT_INTAKE, () => now)
  let over = false
  for (const t of times) { now = t; over = !admit('originator') }
  return over
}
import { startOriginator } from './harness.js'

test('intake limiter: the executors\' default bucket (60 at once, then 2/s) over our own announcement times', () => {
  const at = (n: number, gapMs: number): number[] => Array.from({ length: n }, (_, i) => i * gapMs)
  assert.equal(DEFAULT_INTAKE.burst, 60)
  assert.equal(overIntake(at(60, 0)), false)
  assert.equal(overIntake(at(61, 0)), true)
  assert.equal(overIntake(at(200, 500)), false, 'one every 500 ms is sustainable')
  const over = (gapMs: number): number => Array.from({ length: 200 }, (_, n) => overIntake(at(n + 1, gapMs))).indexOf(true)
  assert.equal(over(250), 119, 'one every 250 ms (4/s): the 120th finds half a token')
  assert.equal(overIntake([...at(61, 0).slice(0, 60), 30_000]), false, 'the bucket refills')
  assert.equal(overIntake([]), false)
})

test('a buyer that announced faster than executors take from one originator is told so with NoBids', async (t) => {
  const o = await startOriginator({})
  t.after(async () => {
    o.originator.close()
    await o.node.stop()
  })
  const module = new Uint8Array(readFileSync(new URL('../../../assets/jobs/fuel_basic.wasm', import.meta.url)))
  const errors = await Promise.all(Array.from({ length: 62 }, async (_, i) =>
    await o.originator.submit({ module, maxFuel: 1_000_000, timeoutSeconds: 5, biddingWindowMs: 1500, description: `batch ${i}` })
      .then(() => assert.fail('no executor here: the submission cannot succeed'), (e: unknown) => e as Error & { code?: string })))
  for (const e of errors) assert.equal(e.code, 'NoBids', e.message)
  const hinted = errors.filter((e) => /faster than executors evaluate them from one originator by default: 60 at once, then 2\/s/.test(e.message))
  // the first 60 fit an executor's bucket; the 61st and 62nd do not
  assert.equal(hinted.length, 2, errors.map((e) => e.message).join('\n'))
  assert.ok(errors.slice(0, 60).every((e) => !hinted.includes(e)))
  // no executor at all: the others say the announcement reached nobody
  assert.ok(errors.slice(0, 60).every((e) => /the announcement reached no peer: check --bootstrap/.test(e.message)), errors[0]?.message)
})
