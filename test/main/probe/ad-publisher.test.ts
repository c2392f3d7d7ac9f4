import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateIdentity, createValidator } from '../../../src/shared/protocol/index.js'
import { buildCapabilityAd, createAdPublisher, type Hardware } from '../../../src/main/probe/index.js'

const HW: Hardware = { cpuCores: 4, cpuModel: 'x', ramBytes: 8 * 1024 ** 3, gpus: [] }

test('ad publisher: at start, on interval, on change, and throttled after new subscribers; every ad freshly signed', async () => {
  const me = generateIdentity()
  const published: Uint8Array[] = []
  const ac = new AbortController()
  let t = Date.now()
  const pub = createAdPublisher({
    build: () => buildCapabilityAd({ identity: me, hardware: HW, now: t++ }).bytes,
    publish: async (b) => { published.push(b) },
    intervalMs: 40,
    minGapMs: 30,
    signal: ac.signal
  })
  const reasons: string[] = []
  pub.on('ad:published', (e) => { reasons.push(e.reason) })
  const waitFor = async (reason: string): Promise<void> => {
    await new Promise<void>((resolve) => {
      const off = pub.on('ad:published', (e) => { if (e.reason === reason) { off(); resolve() } })
    })
  }
  const started = waitFor('start')
  pub.start()
  await started
  const ticked = waitFor('interval')
  await ticked
  const changed = waitFor('changed')
  pub.changed()
  await changed
  const sub = waitFor('subscriber')
  pub.peerSubscribed()
  pub.peerSubscribed() // coalesced
  pub.peerSubscribed()
  await sub
  await waitFor('interval') // any further subscriber publish would have fired by now (30 ms < 40 ms)
  ac.abort()
  assert.equal(reasons.filter((r) => r === 'subscriber').length, 1, 'three subscriptions → one publish')
  const validator = createValidator()
  const ts = new Set<string>()
  for (const b of published) {
    const v = validator.validate(b)
    assert.ok(v.ok, v.ok ? '' : v.detail)
    if (v.message.variant === 'CapabilityAdvertisementV1') ts.add(v.message.body.timestamp)
  }
  assert.equal(ts.size, published.length, 'each publish carries a fresh timestamp')
})
