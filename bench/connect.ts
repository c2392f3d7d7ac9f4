/**
 * What one connection costs: two mesh nodes in this process (the daemon's mesh defaults on
 * 127.0.0.1), one dials the other, both finish identify (and with it the gossipsub and kad-dht
 * topology callbacks), then they hang up; repeated. A DHT put at 100 nodes dials ~30 peers it had no
 * connection to, so this cost sets what a put costs (docs/ARCHITECTURE.md, "Growth").
 *
 * {"bench":"connect","cycles":N,"cpu_ms_per_connection":…,"wall_ms_per_connection":…}
 *   cpu: the process's CPU (all threads) per dial-identify-hang-up cycle, both ends, minus the idle
 *   rate measured just before; median of --runs runs of --cycles cycles.
 * Usage: npm run bench -- connect [--cycles 100] [--runs 3]
 * Profile: node --cpu-prof --import tsx bench/connect.ts
 */
import '../src/main/polyfills.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { generateIdentity } from '../src/shared/protocol/index.js'
import { createMeshNode, type MeshNode } from '../src/main/mesh/index.js'
import { numberArg } from './lib/args.js'

const CYCLES = numberArg('cycles', 100)
const RUNS = numberArg('runs', 3)

async function node (): Promise<MeshNode> {
  const n = await createMeshNode({ identity: generateIdentity(), listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false, limits: { inboundConnectionThreshold: 10_000 } })
  await n.start()
  return n
}

/** Resolves when `n` has identified `peer` on a new connection. */
function identified (n: MeshNode, peer: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (e: CustomEvent<{ peerId: { toString: () => string } }>): void => {
      if (e.detail.peerId.toString() !== peer) return
      n.libp2p.removeEventListener('peer:identify', on)
      resolve()
    }
    n.libp2p.addEventListener('peer:identify', on)
  })
}

/**
 * kad-dht tags its 20 closest peers `keep-alive-kad-dht` and libp2p redials a tagged peer as soon as
 * it disconnects; the bench drops the tag so that the next cycle dials anew.
 */
async function disconnected (a: MeshNode, b: MeshNode): Promise<void> {
  const untag = { tags: { 'keep-alive-kad-dht': undefined } }
  await Promise.all([a.libp2p.peerStore.merge(b.libp2p.peerId, untag), b.libp2p.peerStore.merge(a.libp2p.peerId, untag)])
  await Promise.all([a.libp2p.hangUp(b.libp2p.peerId), b.libp2p.hangUp(a.libp2p.peerId)])
  while (a.libp2p.getConnections(b.libp2p.peerId).length + b.libp2p.getConnections(a.libp2p.peerId).length > 0) await sleep(5)
}

async function cycle (a: MeshNode, b: MeshNode, addr: Parameters<MeshNode['libp2p']['dial']>[0]): Promise<void> {
  const both = Promise.all([identified(a, b.peerId), identified(b, a.peerId)])
  await a.libp2p.dial(addr)
  await both
  await sleep(20) // let the protocols' first exchanges (gossipsub subscriptions, kad-dht) finish
  await disconnected(a, b)
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number

const a = await node()
const b = await node()
const addr = b.libp2p.getMultiaddrs()[0]
if (addr === undefined) throw new Error('no listen address')
for (let i = 0; i < 30; i++) await cycle(a, b, addr) // warm-up: JIT, first peer-store writes
const cpu: number[] = []
const wall: number[] = []
for (let r = 0; r < RUNS; r++) {
  let c0 = process.cpuUsage()
  let t0 = performance.now()
  await sleep(2000)
  const idlePerMs = cpuMs(process.cpuUsage(c0)) / (performance.now() - t0)
  c0 = process.cpuUsage()
  t0 = performance.now()
  for (let i = 0; i < CYCLES; i++) await cycle(a, b, addr)
  const dur = performance.now() - t0
  cpu.push((cpuMs(process.cpuUsage(c0)) - idlePerMs * dur) / CYCLES)
  wall.push(dur / CYCLES)
}
await Promise.all([a.stop(), b.stop()])
const round = (x: number): number => Math.round(x * 10) / 10
console.log(JSON.stringify({ bench: 'connect', cycles: CYCLES, runs: RUNS, cpu_ms_per_connection: round(median(cpu)), cpu_ms_runs: cpu.map(round), wall_ms_per_connection: round(median(wall)) }))
