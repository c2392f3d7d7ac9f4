/** Listen addresses and bootstrap peers saved in the dashboard's Settings apply at the next start when no flag overrides them. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '../../../src/main/daemon/index.js'
import { openStore } from '../../../src/main/store/index.js'

async function freePort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as AddressInfo).port
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

test('saved listen addresses are used without --listen; a flag wins over them', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mesh-settings-'))
  try {
    const port = await freePort()
    const s = openStore(dataDir)
    s.setSetting('listenAddrs', [`/ip4/127.0.0.1/tcp/${port}`])
    s.close()
    let d = await startDaemon({ dataDir, lan: true, nat: false })
    assert.ok(d.node.multiaddrs().some((a) => a.startsWith(`/ip4/127.0.0.1/tcp/${port}/`)), d.node.multiaddrs().join(' '))
    await d.stop({ graceMs: 0 })
    d = await startDaemon({ dataDir, lan: true, nat: false, listen: ['/ip4/127.0.0.1/tcp/0'] })
    assert.ok(!d.node.multiaddrs().some((a) => a.includes(`/tcp/${port}/`)))
    await d.stop({ graceMs: 0 })
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
})
