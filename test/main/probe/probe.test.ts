import { test } from 'node:test'
import assert from 'node:assert/strict'
import os from 'node:os'
import {
  createValidator, generateIdentity, parseResources, signMessage, type CapabilityAdvertisementV1, type Unsigned
} from '../../../src/shared/protocol/index.js'
import {
  probeHardware, buildCapabilityAd, applyCaps, offerToResourceMap, gpuFromController, createAdCache,
  createMachineStateSampler, WASM_RUNTIME_ID, type Hardware
} from '../../../src/main/probe/index.js'

const MIB = 1024 * 1024

test('probe on this machine: CPU count and RAM match os; the signed ad validates and offers the caps', async () => {
  const hw = await probeHardware({ dataDir: os.tmpdir() })
  assert.equal(hw.cpuCores, os.cpus().length)
  assert.equal(hw.ramBytes, os.totalmem())
  assert.ok(hw.cpuModel.length > 0)
  assert.ok((hw.diskFreeBytes ?? 0) > 0)
  for (const g of hw.gpus) assert.match(g.resourceName, /^GPU_[A-Z0-9_]+$/)

  const me = generateIdentity()
  const validator = createValidator()
  // uncapped: the whole machine
  const full = buildCapabilityAd({ identity: me, hardware: hw, region: 'eu-west', alias: 'test-box' })
  const v1 = validator.validate(full.bytes)
  assert.ok(v1.ok, v1.ok ? '' : v1.detail)
  assert.equal(v1.message.variant, 'CapabilityAdvertisementV1')
  if (v1.message.variant !== 'CapabilityAdvertisementV1') return
  const ad = v1.message.body
  assert.equal(ad.node_did, me.did)
  assert.equal(ad.peer_id, me.peerId)
  assert.equal(ad.region, 'eu-west')
  assert.equal(ad.alias, 'test-box')
  assert.deepEqual(ad.supported_runtimes, [WASM_RUNTIME_ID])
  const res = parseResources(ad.available_resources)
  assert.equal(res.cpu, os.cpus().length)
  assert.equal(res.ramBytes, Math.floor(os.totalmem() / MIB) * MIB)

  // capped: half the cores, a quarter of the RAM, at most 1 GiB of disk
  const capped = buildCapabilityAd({ identity: me, hardware: hw, caps: { cpuFraction: 0.5, ramFraction: 0.25, diskBytes: 1024 ** 3 } })
  const v2 = validator.validate(capped.bytes)
  assert.ok(v2.ok, v2.ok ? '' : v2.detail)
  if (v2.message.variant !== 'CapabilityAdvertisementV1') return
  const r2 = parseResources(v2.message.body.available_resources)
  assert.equal(r2.cpu, Math.floor(os.cpus().length * 0.5 * 1000) / 1000)
  assert.ok((r2.ramBytes ?? Infinity) <= os.totalmem() * 0.25)
  assert.ok((r2.ramBytes ?? 0) > os.totalmem() * 0.25 - MIB)
  assert.equal(r2.diskBytes, 1024 ** 3)
  assert.deepEqual(capped.offer, applyCaps(hw, { cpuFraction: 0.5, ramFraction: 0.25, diskBytes: 1024 ** 3 }))
})

const HW: Hardware = {
  cpuCores: 16,
  cpuModel: 'Test CPU',
  ramBytes: 64 * 1024 ** 3,
  gpus: [
    { vendor: 'NVIDIA', model: 'H100 80GB HBM3', resourceName: 'GPU_NVIDIA_H100_80GB_HBM3' },
    { vendor: 'NVIDIA', model: 'H100 80GB HBM3', resourceName: 'GPU_NVIDIA_H100_80GB_HBM3' }
  ],
  diskFreeBytes: 500 * 1024 ** 3
}

test('caps: fractions and absolute caps, whichever is smaller; GPUs counted by name or withheld', () => {
  assert.deepEqual(applyCaps(HW), { cpu: 16, ramBytes: 64 * 1024 ** 3, diskBytes: 500 * 1024 ** 3, gpus: { GPU_NVIDIA_H100_80GB_HBM3: 2 } })
  assert.deepEqual(applyCaps(HW, { cpuFraction: 0.5, cpuCores: 6, ramFraction: 0.5, ramBytes: 8 * 1024 ** 3, offerGpus: false }),
    { cpu: 6, ramBytes: 8 * 1024 ** 3, diskBytes: 500 * 1024 ** 3, gpus: {} })
  assert.equal(applyCaps(HW, { cpuFraction: 0.33 }).cpu, 5.28)
  assert.equal(applyCaps({ ...HW, cpuCores: 3 }, { cpuFraction: 1 / 3 }).cpu, 1)
  assert.deepEqual(offerToResourceMap(applyCaps(HW, { ramBytes: 1536 * MIB, diskBytes: 20 * 1024 ** 3 })),
    { CPU: '16c', RAM: '1536MiB', DISK: '20GiB', GPU_NVIDIA_H100_80GB_HBM3: '2' })
  // nothing offered → no zero quantities on the wire
  assert.deepEqual(offerToResourceMap(applyCaps(HW, { cpuFraction: 0, ramFraction: 0, offerGpus: false, diskBytes: 0 })), {})
})

test('GPU naming per profile 6.1; virtual adapters are not offered', () => {
  assert.equal(gpuFromController('NVIDIA Corporation', 'NVIDIA H100 80GB HBM3')?.resourceName, 'GPU_NVIDIA_H100_80GB_HBM3')
  assert.equal(gpuFromController('NVIDIA', 'GeForce RTX 4090', 24564)?.resourceName, 'GPU_NVIDIA_GEFORCE_RTX_4090')
  assert.equal(gpuFromController('NVIDIA', 'GeForce RTX 4090', 24564)?.vramBytes, 24564 * MIB)
  assert.equal(gpuFromController('Advanced Micro Devices, Inc. [AMD/ATI]', 'Radeon RX 7900 XTX')?.resourceName, 'GPU_AMD_RADEON_RX_7900_XTX')
  assert.equal(gpuFromController('Apple', 'Apple M2 Max')?.resourceName, 'GPU_APPLE_M2_MAX')
  assert.equal(gpuFromController('Intel Corporation', 'Intel(R) Arc(TM) A770 Graphics')?.resourceName, 'GPU_INTEL_ARC_A770_GRAPHICS')
  assert.equal(gpuFromController('VMware', 'SVGA II Adapter'), undefined)
  assert.equal(gpuFromController('Red Hat, Inc.', 'QXL paravirtual graphic card'), undefined)
})

test('ad cache: newest timestamp per DID wins', () => {
  const a = generateIdentity()
  const b = generateIdentity()
  const mk = (id: typeof a, ts: number, cpu: string): CapabilityAdvertisementV1 => {
    const u: Unsigned<CapabilityAdvertisementV1> = {
      node_did: id.did, peer_id: id.peerId, supported_runtimes: [WASM_RUNTIME_ID], available_resources: { CPU: cpu }, specialized_features: [], timestamp: new Date(ts).toISOString()
    }
    return signMessage('CapabilityAdvertisementV1', u, id).message.body
  }
  let now = 1_000_000
  const cache = createAdCache({ now: () => now, maxAgeMs: 60_000, maxEntries: 2 })
  assert.equal(cache.put(mk(a, now, '1c')), true)
  assert.equal(cache.put(mk(a, now - 1, '2c')), false, 'older ad ignored')
  assert.equal(cache.put(mk(a, now, '3c')), false, 'same timestamp ignored')
  assert.equal(cache.put(mk(a, now + 5, '4c')), true)
  assert.equal(cache.get(a.did)?.ad.available_resources.CPU, '4c')
  assert.equal(cache.put(mk(b, now - 120_000, '8c')), true)
  assert.deepEqual(cache.list().map((e) => e.ad.node_did), [a.did, b.did])
  assert.equal(cache.prune(), 1)
  assert.equal(cache.get(b.did), undefined)
  assert.equal(cache.size, 1)
  // bounded: the least recently updated DID goes first
  const c = generateIdentity()
  const d = generateIdentity()
  now += 1000
  cache.put(mk(c, now, '1c'))
  cache.put(mk(d, now, '1c'))
  assert.equal(cache.size, 2)
  assert.equal(cache.get(a.did), undefined)
})

test('machine state sampler reports load and core count', async () => {
  const ac = new AbortController()
  const s = createMachineStateSampler({ signal: ac.signal, userIdleSeconds: () => 42 })
  await s.refresh()
  const m = s.sample()
  assert.equal(m.cpuCount, os.cpus().length)
  assert.ok(m.loadAvg >= 0)
  assert.equal(m.userIdleSeconds, 42)
  assert.ok(m.onBattery === undefined || typeof m.onBattery === 'boolean')
  ac.abort()
})

test('machine state: the host (Electron powerMonitor) overrides the battery probe and supplies idle time', async () => {
  const { createMachineStateSampler } = await import('../../../src/main/probe/index.js')
  let battery: boolean | undefined = true
  const s = createMachineStateSampler({ userIdleSeconds: () => 42, onBattery: () => battery })
  try {
    assert.equal(s.sample().onBattery, true)
    assert.equal(s.sample().userIdleSeconds, 42)
    battery = false
    assert.equal(s.sample().onBattery, false)
    assert.ok((s.sample().cpuCount ?? 0) >= 1)
  } finally {
    s.close()
  }
})
