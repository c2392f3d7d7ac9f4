/**
 * Child process of bench/executor.ts: a real buyer (originator) connected to the daemon at argv[2]
 * (PeerId argv[3]). Prints {"ready":true} once gossip works; for each line on stdin submits one
 * sha256 job (first valid bid) and prints {"ok","bidMs","totalMs"} (announcement → first bid, and
 * → verified receipt, as this process saw them) or {"ok":false,"error"}.
 */
import '../../src/main/polyfills.js'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { generateIdentity } from '../../src/shared/protocol/index.js'
import { createMeshNode, JOBS_ANNOUNCE_TOPIC } from '../../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator } from '../../src/main/originator/index.js'

const [addr, peerId] = process.argv.slice(2)
const identity = generateIdentity()
const blocks = new AccessBlockStore()
const node = await createMeshNode({ identity, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false, blockStore: blocks, directRateLimit: { burst: 1000, perSecond: 1000 }, jobAnnouncements: false })
await node.start()
await node.dial(addr as string)
const deadline = Date.now() + 15_000
while (!node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(peerId as string)) {
  if (Date.now() > deadline) throw new Error('gossip did not form')
  await new Promise((resolve) => setTimeout(resolve, 50))
}
const originator = createOriginator({ node, identity, blocks, bidGraceMs: 0 })
const sha = new Uint8Array(readFileSync(new URL('../../assets/jobs/sha256.wasm', import.meta.url)))
process.stdout.write(JSON.stringify({ ready: true, did: identity.did }) + '\n')
let n = 0
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stop') { originator.close(); void node.stop().then(() => process.exit(0)); return }
  const i = n++
  let announcedAt = 0
  let firstBidAt = 0
  void originator.submit({ module: sha, input: new TextEncoder().encode(`a real job in a flood #${i}\n`), maxFuel: 100_000_000, timeoutSeconds: 20, biddingWindowMs: 10_000, selection: 'first-valid-bid', description: 'legit' }, {
    onEvent: (e) => {
      if (e.type === 'job:announced') announcedAt = performance.now()
      if (e.type === 'bid:received' && firstBidAt === 0) firstBidAt = performance.now()
    }
  }).then(() => {
    process.stdout.write(JSON.stringify({ ok: true, job: i, bidMs: Math.round(firstBidAt - announcedAt), totalMs: Math.round(performance.now() - announcedAt) }) + '\n')
  }, (err: unknown) => {
    process.stdout.write(JSON.stringify({ ok: false, job: i, error: String(err) }) + '\n')
  })
})
