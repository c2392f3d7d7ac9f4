import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fuzz } from './fuzz.js'

test('fuzz: 60 000 mutated and random frames never crash, hang or throw untyped', () => {
  const stats = fuzz(60_000, 7)
  assert.equal(stats.inputs, 60_000)
  // the mutations reach deep into the pipeline, not only the decoder
  for (const reason of ['Malformed', 'BadSignature']) assert.ok((stats.rejected[reason] ?? 0) > 0, `saw ${reason}: ${JSON.stringify(stats)}`)
})
