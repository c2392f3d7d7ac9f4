/**
 * Child process of flood.test.ts: joins the daemon at argv[2] (PeerId argv[3]) and publishes argv[4]
 * signed JobAnnouncementV1 messages from argv[5] originators that are never online, at about
 * argv[6] per second, straight into gossipsub. Prints {"ready":true} once the mesh formed, waits for
 * a line on stdin, floods, prints {"done":N}, and keeps its connection until stdin closes.
 */
import '../../src/main/polyfills.js'
import { randomUUID } from 'node:crypto'
import { formatTimestamp, generateIdentity, rawCid, signMessage } from '../../src/shared/protocol/index.js'
import { createMeshNode, jobsTopic } from '../../src/main/mesh/index.js'

const [addr, peerId, totalArg, originatorsArg, rateArg] = process.argv.slice(2)
const total = Number(totalArg)
const originators = Array.from({ length: Number(originatorsArg) }, () => generateIdentity())
const rate = Number(rateArg)
const node = await createMeshNode({ identity: generateIdentity(), listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, heartbeatMs: 200, nat: false })
await node.start()
await node.dial(addr as string)
const deadline = Date.now() + 15_000
while (!node.meshPeers(jobsTopic()).includes(peerId as string)) {
  if (Date.now() > deadline) throw new Error('mesh did not form')
  await new Promise((resolve) => setTimeout(resolve, 50))
}
const msgs = Array.from({ length: total }, (_, n) => {
  const id = originators[n % originators.length] as (typeof originators)[number]
  return signMessage('JobAnnouncementV1', {
    announcement_id: `flood-${randomUUID()}`, originator_did: id.did, timestamp: formatTimestamp(Date.now()),
    job_params: { wasm_cid: rawCid(new Uint8Array([n & 255])), description: 'flood', resources_required: { CPU: '1c' }, max_fuel: 1_000_000, timeout_seconds: 30, is_interactive: false, qos_profile: 'BestEffort' }
  }, id).bytes
})
process.stdout.write(JSON.stringify({ ready: true }) + '\n')
await new Promise((resolve) => process.stdin.once('data', resolve))
const pubsub = node.libp2p.services.pubsub
const t0 = performance.now()
for (let i = 0; i < total;) {
  const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1)
  for (; i < due; i++) pubsub.publish(jobsTopic(), msgs[i] as Uint8Array).catch(() => {})
  await new Promise((resolve) => setTimeout(resolve, 10))
}
process.stdout.write(JSON.stringify({ done: total }) + '\n')
process.stdin.resume()
await new Promise((resolve) => process.stdin.once('end', resolve))
await node.stop()
process.exit(0)
