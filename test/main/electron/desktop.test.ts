/**
 * runDesktop (app.ts) with Electron and the supervisor faked at the boundary: the tray, window,
 * notifications, power state, login item and the quit sequence follow the supervisor's events.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MenuItemConstructorOptions } from 'electron'
import type { ApiEvent, NodeStatus } from '../../../src/shared/api/index.js'
import { runDesktop, type ElectronModules } from '../../../src/main/electron/app.js'
import type { DaemonSupervisor, SupervisorEvents, SupervisorState } from '../../../src/main/electron/daemon-process.js'

type Fn = (...args: never[]) => unknown
const TOKEN = 'x'.repeat(43)
const ORIGIN = 'http://127.0.0.1:41234'
/** start-at-login the macOS/Windows way (Electron's login item): the Linux way writes a file (login-item.test.ts) */
const MAC = { platform: 'darwin' as const, env: {}, execPath: '/Applications/Mesh Executor.app/Contents/MacOS/Mesh Executor', home: '/Users/x' }
const running: SupervisorState = { phase: 'running', pid: 1, endpoint: { origin: ORIGIN, port: 41234, token: TOKEN, url: `${ORIGIN}/?token=${TOKEN}` }, ready: { event: 'ready', did: 'd', peerId: 'p', multiaddrs: [], dataDir: '/d', ui: `${ORIGIN}/?token=${TOKEN}` }, since: 0 }
const status = (over: Partial<NodeStatus> = {}): NodeStatus => ({ state: 'bidding', autoBid: true, pausedUntil: null, draining: false, error: null, running: [], ...over }) as unknown as NodeStatus
const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve)) }

/** A listener registry like Electron's objects have. */
class Listeners {
  readonly map = new Map<string, Fn[]>()
  on (ev: string, l: Fn): this { this.map.set(ev, [...(this.map.get(ev) ?? []), l]); return this }
  once (ev: string, l: Fn): this { return this.on(ev, l) }
  removeListener (ev: string, l: Fn): this { this.map.set(ev, (this.map.get(ev) ?? []).filter((x) => x !== l)); return this }
  /** Calls the listeners with a preventable event; true when one prevented it. */
  fire (ev: string, ...args: unknown[]): boolean {
    let prevented = false
    const e = { preventDefault: () => { prevented = true } }
    for (const l of this.map.get(ev) ?? []) (l as (...a: unknown[]) => unknown)(e, ...args)
    return prevented
  }
}

function fakeElectron (): {
  modules: ElectronModules
  app: Listeners & { quits: number, loginItems: unknown[], quit(): void }
  windows: FakeWindow[]
  trays: FakeTray[]
  notes: Array<{ title: string, body: string }>
  power: Listeners
  sessions: string[]
} {
  const notes: Array<{ title: string, body: string }> = []
  const windows: FakeWindow[] = []
  const trays: FakeTray[] = []
  const sessions: string[] = []
  const app = Object.assign(new Listeners(), {
    quits: 0,
    loginItems: [] as unknown[],
    requestSingleInstanceLock: () => true,
    whenReady: async () => {},
    setLoginItemSettings (s: unknown) { app.loginItems.push(s) },
    quit () { if (!app.fire('before-quit')) app.quits++ }
  })
  const power = Object.assign(new Listeners(), { getSystemIdleTime: () => 500, isOnBatteryPower: () => false })
  const session = (name: string): unknown => ({
    setPermissionRequestHandler: () => { sessions.push(name) },
    setPermissionCheckHandler: () => {},
    webRequest: { onBeforeRequest: () => {} }
  })
  class Notification {
    static isSupported (): boolean { return true }
    constructor (readonly o: { title: string, body: string }) {}
    show (): void { notes.push({ title: this.o.title, body: this.o.body }) }
  }
  class BrowserWindow extends FakeWindow { constructor (o: unknown) { super(o); windows.push(this) } }
  class Tray extends FakeTray { constructor (image: string) { super(image); trays.push(this) } }
  const modules = {
    app,
    BrowserWindow,
    Tray,
    Menu: { buildFromTemplate: (t: MenuItemConstructorOptions[]) => t },
    nativeImage: { createFromPath: (p: string) => p },
    Notification,
    powerMonitor: power,
    session: { fromPartition: (p: string) => session(p), defaultSession: session('default') }
  } as unknown as ElectronModules
  return { modules, app, windows, trays, notes, power, sessions }
}

class FakeWindow extends Listeners {
  urls: string[] = []
  visible = false
  constructor (readonly options: unknown) { super() }
  loadURL (url: string): Promise<void> { this.urls.push(url); return Promise.resolve() }
  isDestroyed (): boolean { return false }
  isMinimized (): boolean { return false }
  restore (): void {}
  show (): void { this.visible = true }
  focus (): void {}
  hide (): void { this.visible = false }
}

class FakeTray extends Listeners {
  tooltip = ''
  menu: MenuItemConstructorOptions[] = []
  destroyed = false
  constructor (public image: string) { super() }
  setImage (i: string): void { this.image = i }
  setToolTip (t: string): void { this.tooltip = t }
  setContextMenu (m: MenuItemConstructorOptions[]): void { this.menu = m }
  isDestroyed (): boolean { return this.destroyed }
  destroy (): void { this.destroyed = true }
  click (id: string): void { (this.menu.find((m) => m.id === id)?.click as unknown as () => void)() }
}

function fakeSupervisor (): { sup: DaemonSupervisor, calls: Array<[string, unknown?]>, setState(s: SupervisorState): void, emit<K extends keyof SupervisorEvents>(ev: K, p: SupervisorEvents[K]): void, listeners(): number } {
  const listeners = new Map<string, Set<(p: never) => void>>()
  let st: SupervisorState = { phase: 'idle' }
  const calls: Array<[string, unknown?]> = []
  const results: Record<string, unknown> = {
    'node.status': status(),
    'node.setAutoBid': status({ autoBid: false }),
    'node.setMachineState': { userIdleSeconds: 500, onBattery: false, expiresAt: 1 },
    'settings.get': { startAtLogin: true, startMinimized: false }
  }
  const emit = <K extends keyof SupervisorEvents>(ev: K, p: SupervisorEvents[K]): void => { for (const l of [...(listeners.get(ev) ?? [])]) (l as (x: SupervisorEvents[K]) => void)(p) }
  const sup: DaemonSupervisor = {
    start: () => { calls.push(['start']) },
    state: () => st,
    client: () => undefined,
    call: async (m, a) => { calls.push([m, a]); return results[m] as never },
    restartNow: () => { calls.push(['restartNow']) },
    stop: async (o) => { calls.push(['stop', o]); return { how: 'api', code: 0, signal: null } },
    on (ev, l) {
      const set = listeners.get(ev) ?? new Set()
      listeners.set(ev, set)
      set.add(l as (p: never) => void)
      return () => { set.delete(l as (p: never) => void) }
    },
    stderrTail: () => []
  }
  return { sup, calls, setState: (s) => { st = s; emit('state', s) }, emit, listeners: () => [...listeners.values()].reduce((n, s) => n + s.size, 0) }
}

test('runDesktop: tray, window, notifications, power state, login item and quit follow the supervisor (fake Electron)', async () => {
  const el = fakeElectron()
  const s = fakeSupervisor()
  const logs: string[] = []
  await runDesktop(el.modules, { iconsDir: '/icons', supervisor: s.sup, graceSeconds: 7, log: (m) => logs.push(m), loginItem: MAC })
  assert.deepEqual(el.sessions.sort(), ['default', 'mesh-dashboard'], 'both sessions hardened')
  assert.equal(el.app.map.get('web-contents-created')?.length, 1)
  assert.deepEqual(s.calls, [['start']])
  const tray = el.trays[0] as FakeTray
  assert.equal(el.trays.length, 1)
  assert.equal(tray.image, '/icons/tray-idle.png')
  assert.match(tray.tooltip, /starting the node/)
  assert.equal(el.windows.length, 0)

  // (re)start: status, power state, login item, then the window on the first start
  s.calls.length = 0
  s.setState(running)
  s.emit('ready', { endpoint: running.endpoint, ready: running.ready, pid: 1 })
  await flush()
  assert.deepEqual(s.calls, [['node.status', {}], ['node.setMachineState', { userIdleSeconds: 500, onBattery: false }], ['settings.get', {}], ['settings.get', {}]])
  assert.deepEqual(el.app.loginItems, [{ openAtLogin: true, args: [] }])
  assert.equal(tray.image, '/icons/tray-bidding.png')
  assert.equal(el.windows.length, 1)
  const win = el.windows[0] as FakeWindow
  assert.deepEqual(win.urls, [running.endpoint.url])
  win.fire('ready-to-show')
  assert.equal(win.visible, true)

  // live status and notifications
  const ev = (e: unknown): void => { s.emit('api-event', e as ApiEvent) }
  ev({ type: 'status:changed', payload: status({ state: 'error', error: 'sandbox: host missing' }) })
  ev({ type: 'status:changed', payload: status({ state: 'error', error: 'sandbox: host missing' }) })
  assert.equal(tray.image, '/icons/tray-error.png')
  ev({ type: 'job:updated', payload: { announcementId: 'a1', state: 'Completed', failureReason: null } })
  ev({ type: 'job:updated', payload: { announcementId: 'a2', state: 'Failed', failureReason: 'out of fuel' } })
  assert.deepEqual(el.notes.map((n) => n.title), ['Mesh Executor error', 'Job completed', 'Job failed'])
  assert.match(el.notes[2]?.body ?? '', /a2: out of fuel/)

  // tray actions go through the API and redraw with the answer
  s.calls.length = 0
  tray.click('autobid')
  await flush()
  assert.deepEqual(s.calls, [['node.setAutoBid', { enabled: false }]])
  assert.equal(tray.menu.find((m) => m.id === 'autobid')?.checked, false)

  // closing the window hides it (and checks the login item); a second launch shows it again
  assert.equal(win.fire('close'), true)
  assert.equal(win.visible, false)
  await flush()
  assert.deepEqual(s.calls.at(-1), ['settings.get', {}])
  assert.equal(el.app.loginItems.length, 1, 'unchanged settings: login item not set again')
  el.app.fire('second-instance')
  assert.equal(win.visible, true)
  assert.equal(el.windows.length, 1)

  // a crash: notification, error tray with a restart item, the status page in the window
  const crashed: SupervisorState = { phase: 'crashed', reason: 'boom (exit code 1)', code: 1, signal: null, restartAt: Date.now() + 2000, restartInMs: 2000, attempt: 1 }
  s.setState(crashed)
  s.emit('crash', { reason: crashed.reason, code: 1, signal: null, restartInMs: 2000, attempt: 1, uptimeMs: 5 })
  assert.equal(el.notes.at(-1)?.title, 'Mesh Executor: the node stopped')
  assert.equal(tray.image, '/icons/tray-error.png')
  assert.match(tray.tooltip, /the node stopped: boom/)
  assert.match(win.urls.at(-1) ?? '', /^data:text\/html/)
  tray.click('restart')
  assert.deepEqual(s.calls.at(-1), ['restartNow'])
  s.setState(running)
  assert.equal(win.urls.at(-1), running.endpoint.url, 'the dashboard again after the restart')
  assert.match(tray.tooltip, /starting the node/, 'no status yet from the new daemon')

  // quit: drained first (the quit is held), then the app quits and the shell lets go of everything
  s.calls.length = 0
  el.app.quit()
  assert.equal(el.app.quits, 0)
  assert.deepEqual(s.calls, [['stop', { graceSeconds: 7 }]])
  assert.match(tray.tooltip, /quitting/)
  await flush()
  assert.equal(el.app.quits, 1)
  assert.equal(tray.destroyed, true)
  assert.equal(s.listeners(), 0)
  assert.deepEqual([...el.power.map.values()].flat(), [], 'powerMonitor listeners removed')
  assert.equal(win.fire('close'), false, 'quitting: the window really closes')
  assert.ok(logs.some((l) => /daemon stopped \(api, exit 0\)/.test(l)), logs.join('\n'))
})

test('runDesktop: a daemon that cannot start opens the window with the reason; a second instance quits at once', async () => {
  const el = fakeElectron()
  const s = fakeSupervisor()
  await runDesktop(el.modules, { iconsDir: '/icons', supervisor: s.sup, graceSeconds: 1, log: () => {}, loginItem: MAC })
  const failed: SupervisorState = { phase: 'failed', reason: 'data directory in use (exit code 2)', code: 2 }
  s.setState(failed)
  s.emit('failed', { reason: failed.reason, code: 2 })
  assert.deepEqual(el.notes, [{ title: 'Mesh Executor cannot start', body: failed.reason }])
  assert.equal(el.windows.length, 1)
  assert.match(decodeURIComponent(el.windows[0]?.urls[0] ?? ''), /The node cannot start/)
  assert.match(el.trays[0]?.tooltip ?? '', /cannot start: data directory in use/)
  el.app.quit()
  await flush()
  assert.equal(el.app.quits, 1)

  const second = fakeElectron()
  let quit = 0
  Object.assign(second.modules.app, { requestSingleInstanceLock: () => false, quit: () => { quit++ } })
  const s2 = fakeSupervisor()
  await runDesktop(second.modules, { iconsDir: '/icons', supervisor: s2.sup, graceSeconds: 1, loginItem: MAC })
  assert.equal(quit, 1)
  assert.deepEqual(s2.calls, [], 'the daemon is not started')
  assert.equal(second.trays.length, 0)
})
