/** `--ui-port`: the dashboard server over a REAL daemon, reached with the printed URL only. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '../../../src/main/daemon/index.js'
import { startDaemonUi } from '../../../src/main/ui-server/daemon-ui.js'

test('the printed URL logs the browser in; the API answers for the live daemon', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mesh-ui-headless-'))
  const daemon = await startDaemon({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], policy: { stopOnBattery: false } })
  try {
    const ui = await startDaemonUi(daemon, { port: 0 })
    try {
      assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/)
      const first = await fetch(ui.url, { redirect: 'manual' })
      assert.equal(first.status, 303)
      const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
      const page = await fetch(new URL('/', ui.url), { headers: { cookie } })
      assert.equal(page.status, 200)
      assert.match(await page.text(), /<script src="app.js" defer><\/script>/)
      const res = await fetch(new URL('/api/node.status', ui.url), { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' })
      const body = await res.json() as { ok: boolean, result: { did: string, online: boolean } }
      assert.equal(body.result.did, daemon.identity.did)
      assert.equal(body.result.online, true)
      assert.equal((await fetch(new URL('/api/node.status', ui.url), { method: 'POST', body: '{}' })).status, 401)
    } finally {
      await ui.close()
    }
  } finally {
    await daemon.stop({ graceMs: 1000 })
    await rm(dataDir, { recursive: true, force: true })
  }
})
