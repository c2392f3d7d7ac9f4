/**
 * Mesh benchmarks (real libp2p nodes on 127.0.0.1):
 *  - gossip-latency: 10 nodes in a ring with chords; publish → `message:received` latency at every other node.
 *  - direct-rtt: direct-message round trip (`sendDirect`, answered {ok:true}) vs libp2p ping on the same connection.
 * Usage: npm run bench -- mesh [--messages N] [--rounds N]
 */
import { randomUUID } from 'node:crypto'
import { formatTimestamp, signMessage } from '../src/shared/protocol/index.js'
import { JOBS_ANNOUNCE_TOPIC } from '../src/main/mesh/index.js'
import { announcement, spawn as spawnNode, until, type TestNode } from '../test/main/mesh/helpers.js'
import { numberArg } from './lib/args.js'

const MESSAGES = numberArg('messages', 60)
const ROUNDS = numberArg('rounds', 300)

type Peer = TestNode

/**
 * A test node with the direct rate limit off (the bench sends as fast as it can), a 500 ms heartbeat,
 * and the per-host inbound connection limit raised: all ten nodes share 127.0.0.1, and their start-up
 * DHT dials exceeded the desktop default of 5 per second (the dial was reset: ECONNRESET).
 */
async function spawn (): Promise<Peer> {
  return await spawnNode({ heartbeatMs: 500, directRateLimit: { burst: 1e9, perSecond: 1e9 }, limits: { inboundConnectionThreshold: 10_000 } })
}

function percentile (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))
  return Math.round((s[i] ?? NaN) * 1000) / 1000
}


async function gossipLatency (): Promise<void> {
  const N = 10
  const peers: Peer[] = []
  for (let i = 0; i < N; i++) peers.push(await spawn())
  try {
    // ring plus chords i → i+3: diameter 2-3 hops
    for (let i = 0; i < N; i++) {
      for (const j of [(i + 1) % N, (i + 3) % N]) {
        await peers[i]!.node.dial(peers[j]!.node.multiaddrs()[0]!)
      }
    }
    await until(() => peers.every((p) => p.node.meshPeers(JOBS_ANNOUNCE_TOPIC).length >= 3), 'gossip mesh')
    const latencies: number[] = []
    for (let m = 0; m < MESSAGES; m++) {
      const from = peers[m % N]!
      const bytes = announcement(from.id)
      const others = peers.filter((p) => p !== from)
      const t0 = performance.now()
      const arrivals = others.map(async (p) => {
        await p.node.events.waitFor('message:received', {
          signal: AbortSignal.timeout(10_000),
          predicate: (e) => e.bytes.length === bytes.length && Buffer.compare(Buffer.from(e.bytes), Buffer.from(bytes)) === 0
        })
        latencies.push(performance.now() - t0)
      })
      await from.node.publishAnnouncement(bytes)
      await Promise.all(arrivals)
    }
    console.log(JSON.stringify({ bench: 'gossip-latency', nodes: N, messages: MESSAGES, samples: latencies.length, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99) }))
  } finally {
    await Promise.all(peers.map(async (p) => { await p.node.stop() }))
  }
}

async function directRtt (): Promise<void> {
  const a = await spawn()
  const b = await spawn()
  try {
    await a.node.dial(b.node.multiaddrs()[0]!)
    b.node.handleDirect('JobBidV1', () => {})
    const frames: Uint8Array[] = []
    for (let i = 0; i < ROUNDS + 20; i++) {
      frames.push(signMessage('JobBidV1', {
        announcement_id: randomUUID(), executor_did: a.id.did, executor_peer_id: a.id.peerId, price: i, timestamp: formatTimestamp(Date.now())
      }, a.id).bytes)
    }
    // warm-up
    for (let i = 0; i < 20; i++) {
      await a.node.sendDirect(b.node.peerId, frames[ROUNDS + i]!)
      await a.node.ping(b.node.peerId)
    }
    const direct: number[] = []
    const ping: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      // interleave so both see the same conditions
      const t0 = performance.now()
      const answer = await a.node.sendDirect(b.node.peerId, frames[i]!)
      direct.push(performance.now() - t0)
      if (!answer.ok) throw new Error(`direct message refused: ${answer.error}`)
      const t1 = performance.now()
      await a.node.ping(b.node.peerId)
      ping.push(performance.now() - t1)
    }
    const connections = a.node.libp2p.getConnections().length
    const p50 = percentile(direct, 50)
    const pingP50 = percentile(ping, 50)
    console.log(JSON.stringify({
      bench: 'direct-rtt', rounds: ROUNDS, connections, p50_ms: p50, p99_ms: percentile(direct, 99), ping_p50_ms: pingP50, ratio: Math.round((p50 / pingP50) * 100) / 100
    }))
  } finally {
    await Promise.all([a.node.stop(), b.node.stop()])
  }
}

await gossipLatency()
await directRtt()
