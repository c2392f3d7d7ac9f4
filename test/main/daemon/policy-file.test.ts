/** --policy at restart: applied only when the file changed since it was last applied; the version in force and its source are reported. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon, type DaemonEvents } from '../../../src/main/daemon/index.js'
import { TypedEmitter } from '../../../src/main/mesh/index.js'

const LISTEN = { listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false as const }

test('an unchanged --policy file at restart keeps what the owner set in the dashboard; a changed one is applied', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mesh-policyfile-'))
  try {
    const file = { pricing: { mode: 'fixed', price: 5 }, maxConcurrentJobs: 1 }
    let d = await startDaemon({ dataDir, ...LISTEN, policy: file, policySource: '/etc/mesh/policy.json' })
    assert.equal(d.policyInfo().version, 1)
    assert.equal(d.policyInfo().source, 'from --policy /etc/mesh/policy.json')
    assert.equal(d.policyInfo().file?.applied, true)
    // the owner changes concurrency and CPU share in the dashboard
    const v2 = d.setPolicy({ ...file, maxConcurrentJobs: 3, offer: { cpuCores: 1 } }, 'saved in the dashboard')
    await d.stop({ graceMs: 0 })

    // restart with the same file: the dashboard's version stays in force
    const events = new TypedEmitter<DaemonEvents>()
    let ready: DaemonEvents['daemon:ready'] | undefined
    events.on('daemon:ready', (e) => { ready = e })
    d = await startDaemon({ dataDir, ...LISTEN, policy: file, policySource: '/etc/mesh/policy.json', events })
    assert.equal(d.policy().version, v2)
    assert.equal(d.policy().policy.maxConcurrentJobs, 3)
    assert.equal(d.policy().policy.offer.cpuCores, 1)
    assert.deepEqual(ready?.policy, { version: v2, source: 'saved in the dashboard', file: { path: '/etc/mesh/policy.json', applied: false, appliedVersion: 1 } })
    await d.stop({ graceMs: 0 })

    // the file changed: it is applied as a new version
    d = await startDaemon({ dataDir, ...LISTEN, policy: { ...file, pricing: { mode: 'fixed', price: 9 } }, policySource: '/etc/mesh/policy.json' })
    assert.equal(d.policy().version, v2 + 1)
    assert.equal(d.policy().policy.maxConcurrentJobs, 1)
    assert.equal(d.policyInfo().file?.applied, true)
    await d.stop({ graceMs: 0 })

    // the same content in a different key order or with defaults spelled out is the same policy
    d = await startDaemon({ dataDir, ...LISTEN, policy: { maxConcurrentJobs: 1, pricing: { price: 9, mode: 'fixed' } }, policySource: '/etc/mesh/policy.json' })
    assert.equal(d.policy().version, v2 + 1)
    assert.equal(d.policyInfo().file?.applied, false)
    await d.stop({ graceMs: 0 })
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
})
