import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createIntakeQueue } from '../../../src/main/market/index.js'

test('intake queue: urgent items first, evaluation in slices that let I/O in, bounded with drops counted', async () => {
  const done: string[] = []
  const dropped: string[] = []
  const q = createIntakeQueue<string>({
    process: (x) => {
      const until = performance.now() + 1 // 1 ms of work each
      while (performance.now() < until) { /* busy */ }
      done.push(x)
      return undefined
    },
    urgent: (x) => x.startsWith('u'),
    maxQueued: 100,
    sliceMs: 5,
    onDrop: (x) => dropped.push(x)
  })
  for (let i = 0; i < 120; i++) q.push(`n${i}`)
  q.push('u0')
  assert.deepEqual(dropped, Array.from({ length: 21 }, (_, i) => `n${i}`), 'the oldest normal ones are dropped')
  // a timer set now fires long before 100 ms of queued work is done: the queue yields between slices
  const atTimer = await new Promise<number>((resolve) => { setTimeout(() => resolve(done.length), 1) })
  assert.ok(atTimer < 50, `the timer ran after ${atTimer} items, not after all 100`)
  assert.equal(done[0], 'u0', 'the urgent item went first')
  while (q.stats().queued > 0) await new Promise((resolve) => setImmediate(resolve))
  assert.equal(done.length, 100)
  assert.deepEqual(q.stats(), { queued: 0, processed: 100, dropped: 21 })
})
