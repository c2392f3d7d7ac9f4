/**
 * Child process of bench/executor.ts: joins the daemon given as argv[2] and publishes valid,
 * pre-signed JobAnnouncementV1 messages at argv[3] per second for argv[4] seconds, straight into
 * gossipsub. argv[6] (optional): sign them as that many originators that are never online (default:
 * this node's own identity). Prints {"offered":N,"seconds":S} when done.
 */
import '../../src/main/polyfills.js'
import { formatTimestamp, generateIdentity, rawCid, signMessage } from '../../src/shared/protocol/index.js'
import { createMeshNode } from '../../src/main/mesh/index.js'
import { jobsTopic } from '../../src/main/mesh/topics.js'

const [addr, rateArg, secondsArg, peerId, originatorsArg] = process.argv.slice(2)
const RATE = Number(rateArg)
const total = RATE * Number(secondsArg)
const id = generateIdentity()
const node = await createMeshNode({ identity: id, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, heartbeatMs: 200 })
await node.start()
await node.dial(addr as string)
const deadline = Date.now() + 15_000
while (!node.meshPeers(jobsTopic()).includes(peerId as string)) {
  if (Date.now() > deadline) throw new Error('mesh did not form')
  await new Promise((resolve) => setTimeout(resolve, 50))
}
const signers = originatorsArg === undefined ? [id] : Array.from({ length: Number(originatorsArg) }, () => generateIdentity())
const msgs = Array.from({ length: total }, (_, n) => {
  const signer = signers[n % signers.length] as typeof id
  return signMessage('JobAnnouncementV1', {
    announcement_id: `flood-${n}-${Math.random().toString(36).slice(2)}`, originator_did: signer.did, timestamp: formatTimestamp(Date.now()),
    job_params: { wasm_cid: rawCid(new Uint8Array([n & 255])), description: 'flood', resources_required: { CPU: '1c' }, max_fuel: 1_000_000, timeout_seconds: 30, is_interactive: false, qos_profile: 'BestEffort' }
  }, signer).bytes
})
process.stdout.write(JSON.stringify({ ready: true }) + '\n')
await new Promise((resolve) => process.stdin.once('data', resolve))
process.stdin.pause()
const pubsub = node.libp2p.services.pubsub
const topic = jobsTopic()
let failed = 0
let noRecipients = 0
let lastError = ''
const t0 = performance.now()
for (let i = 0; i < total;) {
  const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1)
  for (; i < due; i++) pubsub.publish(topic, msgs[i] as Uint8Array).then((r) => { if (r.recipients.length === 0) noRecipients++ }, (err: unknown) => { failed++; lastError = String(err) })
  await new Promise((resolve) => setTimeout(resolve, 5))
}
const seconds = (performance.now() - t0) / 1000
await new Promise((resolve) => setTimeout(resolve, 100))
process.stdout.write(JSON.stringify({ offered: total, seconds, failed, noRecipients, lastError }) + '\n')
// keep the connection (and whatever is still queued on it) until the receiver has drained it
process.stdin.resume()
await new Promise((resolve) => process.stdin.once('data', resolve))
await node.stop()
process.exit(0)
