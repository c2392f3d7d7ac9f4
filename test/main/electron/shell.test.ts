/** Tray menu, window hardening, session lockdown and power sampling, with Electron stubbed at the boundary. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { MenuItemConstructorOptions } from 'electron'
import { trayMenuTemplate, trayIconFile, tomorrowMorning, HOUR_MS, type TrayActions } from '../../../src/main/electron/tray.js'
import { hardenWebContents, hardenSession, makeTrustedUrl, secureWebPreferences, type PreventableLike } from '../../../src/main/electron/security.js'
import { watchPower } from '../../../src/main/electron/power.js'
import { NODE_STATES, unknownReachability, type NodeStatus } from '../../../src/shared/api/index.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const INDEX = 'file:///opt/mesh/dist/renderer/index.html'

function status (over: Partial<NodeStatus> = {}): NodeStatus {
  return { did: 'did:key:z6Mk', peerId: '12D3', state: 'bidding', online: true, peers: 2, autoBid: true, pausedUntil: null, draining: false, error: null, listenAddrs: [], region: null, running: [], warnings: [], policy: { version: null, source: 'built-in default' }, version: '0.1.0', now: 0, reachability: unknownReachability(), ...over }
}

function recorder (): { actions: TrayActions, calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    actions: {
      setAutoBid: (on) => calls.push(`autobid:${on}`),
      pauseUntil: (t) => calls.push(`pause:${t}`),
      resume: () => calls.push('resume'),
      openDashboard: () => calls.push('open'),
      quitDraining: () => calls.push('quit')
    }
  }
}
const item = (menu: MenuItemConstructorOptions[], id: string): MenuItemConstructorOptions => {
  const m = menu.find((x) => x.id === id)
  assert.ok(m !== undefined, id)
  return m
}
const click = (m: MenuItemConstructorOptions): void => {
  (m.click as unknown as () => void)()
}

test('tray menu: auto-bid, pause 1 h / until tomorrow / resume, open dashboard, quit draining', () => {
  const now = new Date(2026, 10, 25, 21, 30).getTime()
  const { actions, calls } = recorder()
  const menu = trayMenuTemplate(status(), actions, now)
  assert.equal(item(menu, 'autobid').checked, true)
  assert.equal(item(menu, 'resume').enabled, false)
  for (const id of ['autobid', 'pause-1h', 'pause-tomorrow', 'open', 'quit']) click(item(menu, id))
  const tomorrow8 = new Date(2026, 10, 26, 8, 0).getTime()
  assert.deepEqual(calls, ['autobid:false', `pause:${now + HOUR_MS}`, `pause:${tomorrow8}`, 'open', 'quit'])
  assert.equal(tomorrowMorning(now), tomorrow8)

  const paused = trayMenuTemplate(status({ state: 'paused', pausedUntil: now + 1000 }), actions, now)
  assert.equal(item(paused, 'resume').enabled, true)
  const running = trayMenuTemplate(status({ state: 'running', running: [{ announcementId: 'a', originatorDid: 'd', state: 'Running', price: '1', fuelUsed: '0', maxFuel: '1', fuelFraction: 0, startedAt: 0, timeoutSeconds: 1 }] }), actions, now)
  assert.match(String(item(running, 'quit').label), /finish 1 running job first/)
  const draining = trayMenuTemplate(status({ draining: true }), actions, now)
  assert.equal(item(draining, 'quit').enabled, false)
  assert.equal(item(draining, 'autobid').enabled, false)
})

test('a tray icon exists for every node state', () => {
  for (const s of NODE_STATES) {
    const p = join(ROOT, 'assets', 'icons', trayIconFile(s))
    assert.ok(existsSync(p), p)
    assert.deepEqual([...readFileSync(p).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  }
})

test('windows: isolation, sandbox, no node; navigation and window.open blocked', () => {
  const prefs = secureWebPreferences('/x/preload.cjs')
  assert.equal(prefs.contextIsolation, true)
  assert.equal(prefs.sandbox, true)
  assert.equal(prefs.nodeIntegration, false)
  assert.equal(prefs.webviewTag, false)
  assert.equal(prefs.webSecurity, true)

  const handlers = new Map<string, (e: PreventableLike, url: string) => void>()
  let openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined
  const blocked: string[] = []
  hardenWebContents({
    on: (ev: string, l: (e: PreventableLike, url: string) => void) => { handlers.set(ev, l) },
    setWindowOpenHandler: (h) => { openHandler = h }
  }, makeTrustedUrl(INDEX), (w) => blocked.push(w))
  const nav = (ev: string, url: string): boolean => {
    let prevented = false
    handlers.get(ev)?.({ preventDefault: () => { prevented = true } }, url)
    return prevented
  }
  assert.equal(nav('will-navigate', 'https://evil.example/'), true)
  assert.equal(nav('will-navigate', 'file:///etc/passwd'), true)
  assert.equal(nav('will-redirect', 'http://127.0.0.1:1/'), true)
  assert.equal(nav('will-navigate', `${INDEX}#/jobs`), false)
  assert.equal(nav('will-attach-webview', ''), true)
  assert.deepEqual(openHandler?.({ url: 'https://evil.example/' }), { action: 'deny' })
  assert.equal(blocked.length, 5)
})

test('session: permissions denied (clipboard write only), network requests cancelled', () => {
  let perm: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | null = null
  let check: ((wc: unknown, p: string) => boolean) | null = null
  let onReq: ((d: { url: string }, cb: (r: { cancel?: boolean }) => void) => void) | null = null
  hardenSession({
    setPermissionRequestHandler: (h) => { perm = h },
    setPermissionCheckHandler: (h) => { check = h },
    webRequest: { onBeforeRequest: (l) => { onReq = l } }
  }, (url) => url.startsWith('file:///opt/mesh/dist/renderer/'))
  const ask = (p: string): boolean => { let g = true; perm?.(null, p, (x) => { g = x }); return g }
  assert.equal(ask('geolocation'), false)
  assert.equal(ask('media'), false)
  assert.equal(ask('clipboard-sanitized-write'), true)
  const checkFn = check as unknown as ((wc: unknown, p: string) => boolean) | null
  assert.equal(checkFn?.(null, 'notifications'), false)
  const cancel = (url: string): boolean | undefined => { let c: boolean | undefined; onReq?.({ url }, (r) => { c = r.cancel }); return c }
  assert.equal(cancel('https://fonts.googleapis.com/css'), true)
  assert.equal(cancel('ws://127.0.0.1:9/api/events'), true)
  assert.equal(cancel('file:///etc/passwd'), true)
  assert.equal(cancel('file:///opt/mesh/dist/renderer/app.js'), false)
})

test('powerMonitor idle time and battery state are fed to the callback', () => {
  const listeners = new Map<string, () => void>()
  let idle = 12
  let battery = false
  const pm = {
    getSystemIdleTime: () => idle,
    isOnBatteryPower: () => battery,
    on: (e: string, l: () => void) => { listeners.set(e, l) },
    removeListener: (e: string) => { listeners.delete(e) }
  }
  let tick: (() => void) | undefined
  let cancelled = false
  const got: Array<{ userIdleSeconds: number, onBattery: boolean }> = []
  const stop = watchPower(pm, (s) => got.push(s), { intervalMs: 1000, every: (fn) => { tick = fn; return () => { cancelled = true } } })
  assert.deepEqual(got, [{ userIdleSeconds: 12, onBattery: false }])
  battery = true
  listeners.get('on-battery')?.()
  idle = 400
  tick?.()
  assert.deepEqual(got.slice(1), [{ userIdleSeconds: 12, onBattery: true }, { userIdleSeconds: 400, onBattery: true }])
  stop()
  assert.equal(cancelled, true)
  assert.equal(listeners.size, 0)
})

test('electron is imported only under src/main/electron', () => {
  const offenders: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      if (statSync(p).isDirectory()) { if (p !== join(ROOT, 'src', 'main', 'electron')) walk(p) } else if (/\.(ts|mts|js)$/.test(name)) {
        if (/from\s+['"]electron['"]|require\(['"]electron['"]\)/.test(readFileSync(p, 'utf8'))) offenders.push(p)
      }
    }
  }
  walk(join(ROOT, 'src'))
  assert.deepEqual(offenders, [])
})
