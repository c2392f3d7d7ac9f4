/** Shared helpers of the mesh tests: real libp2p nodes on 127.0.0.1 and signed test messages. */
import { randomUUID } from 'node:crypto'
import {
  formatTimestamp, generateIdentity, signMessage, signReceipt, rawCid
} from '../../../src/shared/protocol/index.js'
import type { Identity } from '../../../src/shared/protocol/index.js'
import { createMeshNode } from '../../../src/main/mesh/index.js'
import type { MeshNode, MeshNodeOptions } from '../../../src/main/mesh/index.js'

export interface TestNode {
  node: MeshNode
  id: Identity
}

export async function startNode (opts: Partial<MeshNodeOptions> = {}): Promise<MeshNode> {
  return (await spawn(opts)).node
}

/** Creates and starts a LAN-mode node listening on 127.0.0.1. */
export async function spawn (opts: Partial<MeshNodeOptions> = {}): Promise<TestNode> {
  const id = opts.identity ?? generateIdentity()
  const node = await createMeshNode({
    identity: id,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    lan: true,
    heartbeatMs: 200,
    ...opts
  })
  await node.start()
  return { node, id }
}

export async function stopAll (nodes: MeshNode[]): Promise<void> {
  await Promise.all(nodes.map(async (n) => { await n.stop() }))
}

export async function connect (a: MeshNode, b: MeshNode): Promise<void> {
  const addr = b.multiaddrs()[0]
  if (addr === undefined) throw new Error('node has no address')
  await a.dial(addr)
}

/** Bounded polling (for mesh formation only). */
export async function until (cond: () => boolean, what: string, timeoutMs = 15_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, stepMs))
  }
}

export function capabilityAd (id: Identity, region?: string, extra: Record<string, unknown> = {}): Uint8Array {
  return signMessage('CapabilityAdvertisementV1', {
    node_did: id.did,
    peer_id: id.peerId,
    ...(region !== undefined ? { region } : {}),
    supported_runtimes: ['wasi-preview1'],
    available_resources: { CPU: '2c', RAM: '4GiB' },
    specialized_features: [],
    timestamp: formatTimestamp(Date.now()),
    ...extra
  }, id).bytes
}

export function announcement (id: Identity, announcementId = randomUUID()): Uint8Array {
  return signMessage('JobAnnouncementV1', {
    announcement_id: announcementId,
    originator_did: id.did,
    job_params: {
      wasm_cid: rawCid(new Uint8Array([0, 97, 115, 109])),
      description: 'test job',
      resources_required: { CPU: '1c' },
      max_fuel: 1_000_000,
      timeout_seconds: 30,
      is_interactive: false,
      qos_profile: 'BestEffort'
    },
    timestamp: formatTimestamp(Date.now())
  }, id).bytes
}

export function bid (id: Identity, announcementId = randomUUID(), price = 10): Uint8Array {
  return signMessage('JobBidV1', {
    announcement_id: announcementId,
    executor_did: id.did,
    executor_peer_id: id.peerId,
    price,
    timestamp: formatTimestamp(Date.now())
  }, id).bytes
}

export function receipt (executor: Identity, originator: Identity): { bytes: Uint8Array, cid: string } {
  const now = Date.now()
  const r = signReceipt({
    announcement_id: randomUUID(),
    originator_did: originator.did,
    executor_did: executor.did,
    wasm_cid: rawCid(new Uint8Array([0, 97, 115, 109])),
    output_cid: rawCid(new Uint8Array([104, 105])),
    status: 'CompletedSuccessfully',
    fuel_used: 1234,
    resource_usage: { wall_ms: 5, peak_memory_bytes: 65536, output_bytes: 2 },
    runtime: 'wasi-preview1',
    started_at: formatTimestamp(now - 10),
    finished_at: formatTimestamp(now)
  }, executor)
  return { bytes: r.bytes, cid: r.cid }
}

/** Flips one bit inside the 64-byte signature (the last byte string of the canonical map). */
export function corruptSignature (bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes)
  // the signature's 64 bytes sit somewhere in the map; find the 0x58 0x40 header
  for (let i = 0; i < out.length - 65; i++) {
    if (out[i] === 0x58 && out[i + 1] === 0x40) {
      out[i + 2] = (out[i + 2] ?? 0) ^ 0x01
      return out
    }
  }
  throw new Error('no signature found')
}

export function receiptAvailable (executor: Identity, originator: Identity, receiptCid: string): Uint8Array {
  return signMessage('ExecutionReceiptAvailableV1', {
    announcement_id: randomUUID(),
    originator_did: originator.did,
    executor_did: executor.did,
    receipt_cid: receiptCid,
    timestamp: formatTimestamp(Date.now())
  }, executor).bytes
}
