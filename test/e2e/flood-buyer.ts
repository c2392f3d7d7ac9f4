/**
 * Child process of flood.test.ts: a real buyer (originator) connected to the daemon at argv[2]
 * (PeerId argv[3]). Prints {"ready":true} once gossip works, submits one sha256 job when a line
 * arrives on stdin, and prints {"ok":…,"output":…,"bidMs":…} (announcement → first bid, as this
 * process saw it), then exits.
 */
import '../../src/main/polyfills.js'
import { readFileSync } from 'node:fs'
import { generateIdentity } from '../../src/shared/protocol/index.js'
import { createMeshNode, JOBS_ANNOUNCE_TOPIC } from '../../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator } from '../../src/main/originator/index.js'

const [addr, peerId] = process.argv.slice(2)
const identity = generateIdentity()
const blocks = new AccessBlockStore()
const node = await createMeshNode({ identity, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, heartbeatMs: 200, nat: false, blockStore: blocks, jobAnnouncements: false })
await node.start()
await node.dial(addr as string)
const deadline = Date.now() + 15_000
while (!node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(peerId as string)) {
  if (Date.now() > deadline) throw new Error('gossip did not form')
  await new Promise((resolve) => setTimeout(resolve, 50))
}
const originator = createOriginator({ node, identity, blocks, bidGraceMs: 0, receiptDhtTimeoutMs: 500 })
process.stdout.write(JSON.stringify({ ready: true, did: identity.did }) + '\n')
await new Promise((resolve) => process.stdin.once('data', resolve))
const sha = new Uint8Array(readFileSync(new URL('../../assets/jobs/sha256.wasm', import.meta.url)))
let announcedAt = 0
let firstBidAt = 0
try {
  const r = await originator.submit({ module: sha, input: new TextEncoder().encode('a real job in a flood\n'), maxFuel: 100_000_000, timeoutSeconds: 20, biddingWindowMs: 10_000, selection: 'first-valid-bid', description: 'legit' }, {
    onEvent: (e) => {
      if (e.type === 'job:announced') announcedAt = performance.now()
      if (e.type === 'bid:received' && firstBidAt === 0) firstBidAt = performance.now()
    }
  })
  process.stdout.write(JSON.stringify({ ok: true, announcementId: r.announcementId, output: new TextDecoder().decode(r.output), bidMs: Math.round(firstBidAt - announcedAt) }) + '\n')
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(err) }) + '\n')
}
originator.close()
await node.stop()
process.exit(0)
