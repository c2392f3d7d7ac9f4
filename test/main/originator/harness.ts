/** Test harness: an originator node on 127.0.0.1 and test executors connected to it with a formed gossip mesh. */
import type { Identity } from '../../../src/shared/protocol/index.js'
import { JOBS_ANNOUNCE_TOPIC, jobsTopic } from '../../../src/main/mesh/index.js'
import type { MeshNode } from '../../../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator } from '../../../src/main/originator/index.js'
import type { Originator, OriginatorOptions } from '../../../src/main/originator/index.js'
import { spawn } from '../mesh/helpers.js'
import { startTestExecutor } from './test-executor.js'
import type { TestExecutor, TestExecutorOptions } from './test-executor.js'

export interface OriginatorPeer { node: MeshNode, id: Identity, originator: Originator }

export async function startOriginator (opts: Partial<OriginatorOptions> = {}): Promise<OriginatorPeer> {
  const blocks = new AccessBlockStore()
  const { node, id } = await spawn({ blockStore: blocks, directRateLimit: { burst: 10_000, perSecond: 10_000 } })
  const originator = createOriginator({ node, identity: id, blocks, ...opts })
  return { node, id, originator }
}

/** Bounded polling, for gossip mesh formation only. */
export async function until (cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Starts executors, connects them to the originator and waits until announcements reach them. */
export async function startExecutors (o: OriginatorPeer, list: Array<Omit<TestExecutorOptions, 'sandbox'>>, sandbox: TestExecutorOptions['sandbox']): Promise<TestExecutor[]> {
  const execs = await Promise.all(list.map(async (x) => await startTestExecutor({ ...x, sandbox })))
  for (const e of execs) {
    const addr = o.node.multiaddrs()[0]
    if (addr === undefined) throw new Error('originator has no address')
    await e.node.dial(addr)
  }
  await until(() => execs.every((e) =>
    o.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(e.node.peerId) &&
    e.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(o.node.peerId)), 'gossip subscriptions')
  const regional = list.map((x, i) => [x.region, execs[i]] as const).filter(([r]) => r !== undefined)
  await until(() => regional.every(([r, e]) => e !== undefined && o.node.topicPeers(jobsTopic(r as string)).includes(e.node.peerId)), 'region subscriptions')
  return execs
}

export async function stopExecutors (execs: TestExecutor[]): Promise<void> {
  await Promise.all(execs.map(async (e) => { await e.stop() }))
}
