/**
 * The connection monitor's ping timeout (timeouts.pingTimeoutMs): a peer that answers late keeps its
 * connection, one that does not answer within the floor still loses it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn as spawnProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { DEFAULT_TIMEOUTS } from '../../../src/main/mesh/options.js'
import { spawn, stopAll } from './helpers.js'

const PEER = fileURLToPath(new URL('./stalled-peer.ts', import.meta.url))
const PING_MS = 3000
// longer than the ping interval plus libp2p's own 5 s floor: a ping sent in the first 5 s of the stall waits > 5 s
const STALL_MS = 10_000

test('a peer stalled for 10 s keeps its connection under the default floor and loses it under libp2p\'s 5 s one', { timeout: 60_000 }, async () => {
  assert.ok(DEFAULT_TIMEOUTS.pingTimeoutMs > STALL_MS, 'the default floor outlasts the stall')
  const child = spawnProcess(process.execPath, ['--import', 'tsx', PEER], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const [addr] = await once(lines, 'line') as [string]
  const patient = await spawn({ nat: false, timeouts: { pingMs: PING_MS } })
  const hasty = await spawn({ nat: false, timeouts: { pingMs: PING_MS, pingTimeoutMs: 5000 } })
  try {
    await patient.node.dial(addr)
    await hasty.node.dial(addr)
    const peer = patient.node.connectedPeers()[0]
    assert.ok(peer !== undefined)
    const closed = { patient: 0, hasty: 0 }
    patient.node.events.on('connection:closed', () => { closed.patient++ })
    const hastyClosed = new Promise<void>((resolve) => { hasty.node.events.on('connection:closed', () => { closed.hasty++; resolve() }) })
    child.kill('SIGSTOP')
    const stall = new Promise<void>((resolve) => setTimeout(resolve, STALL_MS))
    await Promise.race([hastyClosed, stall])
    assert.equal(closed.hasty, 1, 'an unanswered ping still closes the connection once it outlasts the floor')
    await stall
    child.kill('SIGCONT')
    const rtt = await patient.node.ping(peer, { signal: AbortSignal.timeout(10_000) })
    assert.ok(rtt >= 0)
    assert.equal(closed.patient, 0, 'the late answers count: the connection stayed open')
    assert.deepEqual(patient.node.connectedPeers(), [peer])
  } finally {
    child.kill('SIGCONT')
    child.kill('SIGTERM')
    await stopAll([patient.node, hasty.node])
  }
})
