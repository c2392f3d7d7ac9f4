/**
 * A process hosting several mesh nodes for bench/scale.ts, driven over stdio (JSON lines):
 * every request `{"id", "cmd", …}` gets one answer `{"id", …}` (or `{"id", "error"}`).
 *
 *   start    {count, seeds?: number, bootstrap: string[]} → {nodes: [{peerId, did, addr}]}
 *   status   → {nodes: [{up, connections, topicPeers, meshPeers, routing}]}
 *   publish  {node} → {announcementId, t}              (a signed JobAnnouncementV1 from that node)
 *   report   → {received: [[announcementId, nodeIndex, t], …]} (since the last report), {bytes, rss}
 *   put      {node} → {cid, ms, peers}                 (a receipt signed by that node, put in the DHT)
 *   get      {node, cid} → {ok, ms}
 *   kill     {nodes: [i…]} / restart {nodes: [i…], bootstrap}   (stop / start again with the same identity)
 *   stop
 * Times are epoch ms (performance.timeOrigin + performance.now()), comparable across processes.
 * Bytes: everything this process wrote to TCP sockets (its nodes' traffic, all protocols).
 */
import '../../src/main/polyfills.js'
import { randomUUID } from 'node:crypto'
import { Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { formatTimestamp, generateIdentity, rawCid, signMessage, signReceipt, verifyReceiptBlock, type Identity } from '../../src/shared/protocol/index.js'
import { createMeshNode, JOBS_ANNOUNCE_TOPIC, receiptKey, type MeshNode, type MeshNodeOptions } from '../../src/main/mesh/index.js'

const now = (): number => performance.timeOrigin + performance.now()

// count TCP bytes written (sockets with a remote address; not our stdio pipes)
let bytes = 0
const write = Socket.prototype.write as (this: Socket, chunk: unknown, ...rest: unknown[]) => boolean
Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]): boolean {
  if (this.remoteAddress !== undefined && chunk instanceof Uint8Array) bytes += chunk.byteLength
  return write.call(this, chunk, ...rest)
} as typeof Socket.prototype.write

interface Slot { identity: Identity, node?: MeshNode, up: boolean }
const slots: Slot[] = []
let received: Array<[string, number, number]> = []
let lastElu = performance.eventLoopUtilization()
let lastCpu = process.cpuUsage()

/** Every node of the bench: the daemon's mesh defaults except NAT traversal (loopback) and the per-host inbound limits (all nodes share 127.0.0.1). */
function options (identity: Identity, bootstrap: string[]): MeshNodeOptions {
  return {
    identity, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, lan: true, nat: false,
    limits: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1000 },
    ...(process.env.SCALE_PING_MS !== undefined ? { timeouts: { pingMs: Number(process.env.SCALE_PING_MS) } } : {})
  }
}

let connectionsOpened = 0
let connectionsClosed = 0

async function startSlot (i: number, bootstrap: string[]): Promise<void> {
  const slot = slots[i] as Slot
  const node = await createMeshNode(options(slot.identity, bootstrap.filter((a) => !a.endsWith(slot.identity.peerId))))
  node.events.on('message:received', (e) => {
    if (e.message.variant === 'JobAnnouncementV1') received.push([e.message.body.announcement_id, i, now()])
  })
  node.events.on('connection:opened', () => { connectionsOpened++ })
  node.events.on('connection:closed', () => { connectionsClosed++ })
  await node.start()
  slot.node = node
  slot.up = true
}

function announcement (id: Identity): { bytes: Uint8Array, announcementId: string } {
  const announcementId = randomUUID()
  const { bytes } = signMessage('JobAnnouncementV1', {
    announcement_id: announcementId, originator_did: id.did, timestamp: formatTimestamp(Date.now()),
    job_params: { wasm_cid: rawCid(new Uint8Array([1, 2, 3])), description: 'scale bench', resources_required: { CPU: '1c' }, max_fuel: 1_000_000, timeout_seconds: 30, is_interactive: false, qos_profile: 'BestEffort' }
  }, id)
  return { bytes, announcementId }
}

function receipt (executor: Identity): { bytes: Uint8Array, cid: string } {
  const t = Date.now()
  return signReceipt({
    announcement_id: randomUUID(), originator_did: executor.did, executor_did: executor.did, wasm_cid: rawCid(new Uint8Array([1, 2, 3])),
    output_cid: rawCid(new Uint8Array([4])), status: 'CompletedSuccessfully', fuel_used: 1, resource_usage: { wall_ms: 1, peak_memory_bytes: 65536, output_bytes: 1 },
    runtime: 'wasi-p1-fuel-v1', started_at: formatTimestamp(t - 1), finished_at: formatTimestamp(t)
  }, executor)
}

const live = (i: number): MeshNode => {
  const s = slots[i]
  if (s?.node === undefined || !s.up) throw new Error(`node ${i} is not up`)
  return s.node
}

/** diagnostics: one kad-dht query event as a line, `ms since t0, event[:message] peer [error]` */
function eventLine (ev: { name: string }, t0: number): string {
  const e = ev as { name: string, messageName?: string, from?: unknown, peer?: { id?: unknown } | unknown, error?: Error }
  const peer = String(e.from ?? (e.peer as { id?: unknown } | undefined)?.id ?? e.peer ?? '').slice(-6)
  return `${Math.round(now() - t0)} ${e.name}${e.messageName !== undefined ? ':' + e.messageName : ''} ${peer}${e.error !== undefined ? ' ' + e.error.message.slice(0, 80) : ''}`
}

/**
 * diagnostics: a receipt get as the node does it (the first value that verifies), with its kad-dht
 * events, printed on stderr when it took over 300 ms
 */
async function tracedGet (i: number, cid: string): Promise<Record<string, unknown>> {
  const t0 = now()
  const evs: string[] = []
  const dht = live(i).libp2p.services.dht as unknown as { contentFetching: { getMany: (k: Uint8Array, o: { signal: AbortSignal }) => AsyncIterable<{ name: string, value?: Uint8Array }> } }
  let ok = false
  try {
    for await (const ev of dht.contentFetching.getMany(receiptKey(cid), { signal: AbortSignal.timeout(5000) })) {
      evs.push(eventLine(ev, t0))
      if (ev.name === 'VALUE' && ev.value !== undefined && verifyReceiptBlock(ev.value, cid).ok) { ok = true; break }
    }
  } catch (err) { evs.push(`${Math.round(now() - t0)} threw ${String(err)}`) }
  const ms = now() - t0
  if (ms > 300) console.error(`slow get ${Math.round(ms)} ms (${live(i).connectedPeers().length} connections):\n  ${evs.join('\n  ')}`)
  return { ok, ms }
}

type Req = Record<string, unknown> & { id: number, cmd: string }
const handlers: Record<string, (m: Req) => Promise<Record<string, unknown>>> = {
  async start (m) {
    const count = m.count as number
    const seeds = (m.seeds as number | undefined) ?? 0
    for (let i = 0; i < count; i++) slots.push({ identity: generateIdentity(), up: false })
    // seeds first (they bootstrap to each other once all listen), then the rest, a few at a time
    const bootstrap = m.bootstrap as string[]
    for (let i = 0; i < count; i += 5) {
      await Promise.all(slots.slice(i, i + 5).map(async (_, k) => { await startSlot(i + k, i + k < seeds ? [] : bootstrap) }))
    }
    return { nodes: slots.map((s) => ({ peerId: s.identity.peerId, did: s.identity.did, addr: `${s.node?.multiaddrs()[0] ?? ''}` })) }
  },
  async link (m) {
    // seeds: dial each other
    for (const addr of m.addrs as string[]) {
      for (const s of slots) if (s.node !== undefined && !addr.endsWith(s.identity.peerId)) await s.node.dial(addr).catch(() => {})
    }
    return {}
  },
  async status () {
    return {
      nodes: slots.map((s) => s.node === undefined || !s.up
        ? { up: false }
        : {
            up: true,
            connections: s.node.connectedPeers().length,
            topicPeers: s.node.topicPeers(JOBS_ANNOUNCE_TOPIC).length,
            meshPeers: s.node.meshPeers(JOBS_ANNOUNCE_TOPIC).length,
            routing: (s.node.libp2p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
          })
    }
  },
  async publish (m) {
    const i = m.node as number
    const a = announcement((slots[i] as Slot).identity)
    const t = now()
    const r = await live(i).publishAnnouncement(a.bytes)
    return { announcementId: a.announcementId, t, recipients: r.recipients }
  },
  async report () {
    const out = received
    received = []
    const elu = performance.eventLoopUtilization(lastElu)
    lastElu = performance.eventLoopUtilization()
    const cpu = process.cpuUsage(lastCpu)
    lastCpu = process.cpuUsage()
    return { connectionsOpened, connectionsClosed, received: out, bytes, rss: process.memoryUsage().rss, up: slots.filter((s) => s.up).length, elu: Math.round(elu.utilization * 100) / 100, cpuMs: Math.round((cpu.user + cpu.system) / 1000) }
  },
  async put (m) {
    const i = m.node as number
    const r = receipt((slots[i] as Slot).identity)
    const t0 = now()
    const res = await live(i).putReceipt(r.bytes, { signal: AbortSignal.timeout(10_000) })
    return { cid: r.cid, ms: now() - t0, peers: res.peers }
  },
  async putTrace (m) {
    // diagnostics: the kad-dht events of one receipt put, with their times
    const i = m.node as number
    const r = receipt((slots[i] as Slot).identity)
    const t0 = now()
    const evs: string[] = []
    try {
      for await (const ev of live(i).libp2p.services.dht.put(receiptKey(r.cid), r.bytes, { signal: AbortSignal.timeout(15_000) })) {
        evs.push(eventLine(ev, t0))
      }
    } catch (err) { evs.push(`${Math.round(now() - t0)} threw ${String(err)}`) }
    return { events: evs }
  },
  async get (m) {
    const t0 = now()
    if (process.env.SCALE_DEBUG_SLOW_GET !== undefined) return await tracedGet(m.node as number, m.cid as string)
    const v = await live(m.node as number).getReceipt(m.cid as string, { signal: AbortSignal.timeout(5000) }).catch(() => undefined)
    return { ok: v !== undefined, ms: now() - t0 }
  },
  async kill (m) {
    await Promise.all((m.nodes as number[]).map(async (i) => {
      const s = slots[i] as Slot
      s.up = false
      await s.node?.stop()
      s.node = undefined
    }))
    return {}
  },
  async restart (m) {
    await Promise.all((m.nodes as number[]).map(async (i) => { await startSlot(i, m.bootstrap as string[]) }))
    return {}
  },
  async stop () {
    await Promise.all(slots.map(async (s) => { await s.node?.stop() }))
    setImmediate(() => process.exit(0))
    return {}
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line) as Req
  const h = handlers[m.cmd]
  if (h === undefined) { process.stdout.write(JSON.stringify({ id: m.id, error: `unknown command ${m.cmd}` }) + '\n'); return }
  h(m).then((r) => { process.stdout.write(JSON.stringify({ id: m.id, ...r }) + '\n') },
    (err: unknown) => { process.stdout.write(JSON.stringify({ id: m.id, error: err instanceof Error ? err.message : String(err) }) + '\n') })
})
process.stdout.write(JSON.stringify({ ready: true }) + '\n')
