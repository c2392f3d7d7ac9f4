/**
 * The preload/IPC layer with Electron stubbed at the boundary: a stub ipcRenderer/ipcMain pair that
 * routes invoke() to the registered handler like Electron does, in front of the REAL API service
 * over a real store (test/main/api/fixture.ts).
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createPreloadApi, type IpcRendererLike } from '../../../src/main/electron/preload-api.js'
import { registerApiIpc, type IpcMainLike, type InvokeEventLike, type WebContentsLike } from '../../../src/main/electron/ipc.js'
import { CALL_CHANNEL, EVENT_CHANNEL } from '../../../src/main/electron/channels.js'
import { makeTrustedUrl } from '../../../src/main/electron/security.js'
import type { ApiEvent } from '../../../src/shared/api/index.js'
import { createFixture, type Fixture } from '../api/fixture.js'

const INDEX = 'file:///opt/mesh/dist/renderer/index.html'

class StubWebContents implements WebContentsLike {
  sent: Array<[string, unknown[]]> = []
  destroyed = false
  listeners = new Map<string, Array<(e: unknown, ...a: unknown[]) => void>>()
  constructor (readonly id: number) {}
  send (channel: string, ...args: unknown[]): void {
    this.sent.push([channel, args])
    for (const l of this.listeners.get(channel) ?? []) l({}, ...args)
  }
  isDestroyed (): boolean { return this.destroyed }
}

class StubIpcMain implements IpcMainLike {
  handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => unknown>()
  handle (channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`)
    this.handlers.set(channel, listener)
  }
  removeHandler (channel: string): void { this.handlers.delete(channel) }
}

/** An ipcRenderer for window `wc` whose frame shows `url` (parent: non-null for a subframe). */
function rendererFor (ipcMain: StubIpcMain, wc: StubWebContents, url: string, parent: unknown = null): IpcRendererLike & { invoked: string[] } {
  const invoked: string[] = []
  return {
    invoked,
    async invoke (channel, ...args) {
      invoked.push(channel)
      const h = ipcMain.handlers.get(channel)
      if (h === undefined) throw new Error(`No handler registered for '${channel}'`)
      return await h({ sender: wc, senderFrame: { url, parent } }, ...args)
    },
    on (channel, listener) {
      const list = wc.listeners.get(channel) ?? []
      list.push(listener)
      wc.listeners.set(channel, list)
    },
    removeListener (channel, listener) {
      wc.listeners.set(channel, (wc.listeners.get(channel) ?? []).filter((l) => l !== listener))
    }
  }
}

let f: Fixture
let ipcMain: StubIpcMain
let ours: StubWebContents
let closed: StubWebContents
let rejected: string[]
let bridge: { dispose(): void }
before(async () => {
  f = await createFixture()
  ipcMain = new StubIpcMain()
  ours = new StubWebContents(1)
  closed = new StubWebContents(2)
  closed.destroyed = true
  rejected = []
  bridge = registerApiIpc({ ipcMain, api: f.api, isTrustedUrl: makeTrustedUrl(INDEX), windows: () => [ours, closed], onRejected: (r) => rejected.push(r) })
})
after(() => {
  bridge.dispose()
  f.close()
})

test('preload → main: a valid call reaches the real API service', async () => {
  const api = createPreloadApi(rendererFor(ipcMain, ours, `${INDEX}#/jobs`))
  assert.ok(Object.isFrozen(api))
  const status = await api.call('node.status', {}) as { did: string }
  assert.equal(status.did, f.executor.did)
  const job = await api.call('jobs.get', { announcementId: f.completedIds[0] }) as { timeline: unknown[] }
  assert.equal(job.timeline.length, 5)
})

test('preload validates before anything crosses IPC', async () => {
  const r = rendererFor(ipcMain, ours, INDEX)
  const api = createPreloadApi(r)
  await assert.rejects(api.call('fs.readFile', { path: '/etc/passwd' }), { name: 'BridgeError', code: 'BadRequest', message: /unknown API method/ })
  await assert.rejects(api.call('jobs.get', { announcementId: 42 }), { name: 'BridgeError', code: 'BadRequest', message: /announcementId must be a non-empty string/ })
  assert.deepEqual(r.invoked, [])
  await assert.rejects(api.call('jobs.get', { announcementId: 'missing' }), { name: 'BridgeError', code: 'NotFound' })
  assert.deepEqual(r.invoked, [CALL_CHANNEL])
})

test('main checks the sender and re-validates arguments', async () => {
  const h = ipcMain.handlers.get(CALL_CHANNEL)
  assert.ok(h !== undefined)
  const call = async (ev: InvokeEventLike, method: unknown, args: unknown): Promise<{ ok: boolean, error?: { code: string, message: string } }> =>
    await h(ev, method, args) as { ok: boolean, error?: { code: string, message: string } }
  // Untrusted page in our window (e.g. after a navigation that slipped through).
  assert.equal((await call({ sender: ours, senderFrame: { url: 'https://evil.example/', parent: null } }, 'node.status', {})).error?.code, 'Forbidden')
  // A subframe of our page.
  assert.equal((await call({ sender: ours, senderFrame: { url: INDEX, parent: {} } }, 'node.status', {})).error?.code, 'Forbidden')
  // A webContents that is not one of our windows.
  assert.equal((await call({ sender: new StubWebContents(99), senderFrame: { url: INDEX, parent: null } }, 'node.status', {})).error?.code, 'Forbidden')
  assert.equal((await call({ sender: ours, senderFrame: null }, 'node.status', {})).error?.code, 'Forbidden')
  assert.equal(rejected.length, 4)
  // A compromised preload sending garbage straight to the channel.
  const bad = await call({ sender: ours, senderFrame: { url: INDEX, parent: null } }, 'node.setAutoBid', { enabled: 'yes', extra: 1 })
  assert.equal(bad.error?.code, 'BadRequest')
  assert.match(bad.error?.message ?? '', /unknown argument "extra"/)
  assert.equal(f.runtime.autoBid, true)
  const good = await call({ sender: ours, senderFrame: { url: `${INDEX}#/overview`, parent: null } }, 'node.setAutoBid', { enabled: false })
  assert.equal(good.ok, true)
  assert.equal(f.runtime.autoBid, false)
})

test('live events reach our open windows only, and only valid events reach the page', () => {
  const api = createPreloadApi(rendererFor(ipcMain, ours, INDEX))
  const got: ApiEvent[] = []
  const off = api.onEvent((e) => got.push(e))
  f.events.emit('job:log', { announcementId: 'x', stream: 'stdout', text: 'hi', at: 1 })
  assert.deepEqual(got.map((e) => e.type), ['job:log'])
  assert.equal(closed.sent.length, 0)
  assert.equal(ours.sent[0]?.[0], EVENT_CHANNEL)
  ours.send(EVENT_CHANNEL, { type: 'shell:exec', payload: 'rm -rf /' })
  ours.send(EVENT_CHANNEL, 'not an event')
  assert.equal(got.length, 1)
  off()
  f.events.emit('policy:saved', { version: 9 })
  assert.equal(got.length, 1)
  assert.throws(() => api.onEvent('nope' as unknown as (e: ApiEvent) => void), { name: 'BridgeError' })
})

test('dispose removes the handler and the event subscription', async () => {
  const m = new StubIpcMain()
  const wc = new StubWebContents(5)
  const b = registerApiIpc({ ipcMain: m, api: f.api, isTrustedUrl: makeTrustedUrl(INDEX), windows: () => [wc] })
  b.dispose()
  assert.equal(m.handlers.size, 0)
  f.events.emit('policy:saved', { version: 10 })
  assert.equal(wc.sent.length, 0)
})
