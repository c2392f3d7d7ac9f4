/**
 * A mesh node in its own process for connection-monitor.test.ts: the test stops and continues it
 * (SIGSTOP/SIGCONT) to stand for a peer whose event loop is saturated. Prints its address, then
 * runs until killed.
 */
import '../../../src/main/polyfills.js'
import { generateIdentity } from '../../../src/shared/protocol/index.js'
import { createMeshNode } from '../../../src/main/mesh/index.js'

const node = await createMeshNode({ identity: generateIdentity(), listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false })
await node.start()
process.stdout.write(`${node.multiaddrs()[0] ?? ''}\n`)
process.on('SIGTERM', () => { void node.stop().finally(() => process.exit(0)) })
