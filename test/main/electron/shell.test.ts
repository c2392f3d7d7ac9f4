/** Tray menu and icons, the shell's view of the daemon's states, window hardening, session lockdown and power sampling, with Electron stubbed at the boundary. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { MenuItemConstructorOptions } from 'electron'
import { trayMenuTemplate, trayIconFile, tomorrowMorning, HOUR_MS, type TrayActions } from '../../../src/main/electron/tray.js'
import { hardenWebContents, hardenSession, makeOriginChecks, secureWebPreferences, DASHBOARD_PARTITION, type PreventableLike } from '../../../src/main/electron/security.js'
import { watchPower } from '../../../src/main/electron/power.js'
import { daemonStatusPage, statusPageUrl, trayView, type ShellActions } from '../../../src/main/electron/shell-view.js'
import { desktopDaemonCommand } from '../../../src/main/electron/daemon-command.js'
import type { SupervisorState } from '../../../src/main/electron/daemon-process.js'
import { NODE_STATES, unknownReachability, type NodeStatus, type RunningJobView } from '../../../src/shared/api/index.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const ORIGIN = 'http://127.0.0.1:41234'

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
  const running = trayMenuTemplate(status({ state: 'running', running: [{ announcementId: 'a', originatorDid: 'd', description: null, state: 'Running', price: '1', fuelUsed: '0', maxFuel: '1', fuelFraction: 0, startedAt: 0, timeoutSeconds: 1 } as RunningJobView] }), actions, now)
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

test('windows: isolation, sandbox, no node, no preload, in-memory session; navigation only within the daemon origin, window.open blocked', () => {
  const prefs = secureWebPreferences()
  assert.equal(prefs.contextIsolation, true)
  assert.equal(prefs.sandbox, true)
  assert.equal(prefs.nodeIntegration, false)
  assert.equal(prefs.webviewTag, false)
  assert.equal(prefs.webSecurity, true)
  assert.equal(prefs.preload, undefined)
  assert.equal(prefs.partition, DASHBOARD_PARTITION)
  assert.ok(!DASHBOARD_PARTITION.startsWith('persist:'))

  let origin: string | undefined = ORIGIN
  const checks = makeOriginChecks(() => origin)
  const handlers = new Map<string, (e: PreventableLike, url: string) => void>()
  let openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined
  const blocked: string[] = []
  hardenWebContents({
    on: (ev: string, l: (e: PreventableLike, url: string) => void) => { handlers.set(ev, l) },
    setWindowOpenHandler: (h) => { openHandler = h }
  }, checks.page, (w) => blocked.push(w))
  const nav = (ev: string, url: string): boolean => {
    let prevented = false
    handlers.get(ev)?.({ preventDefault: () => { prevented = true } }, url)
    return prevented
  }
  assert.equal(nav('will-navigate', 'https://evil.example/'), true)
  assert.equal(nav('will-navigate', 'file:///etc/passwd'), true)
  assert.equal(nav('will-redirect', 'http://127.0.0.1:1/'), true, 'another port is another origin')
  assert.equal(nav('will-navigate', 'http://localhost:41234/'), true, 'same port, other host name')
  assert.equal(nav('will-navigate', 'https://127.0.0.1:41234/'), true)
  assert.equal(nav('will-redirect', `${ORIGIN}/`), false, 'the ?token= → / redirect')
  assert.equal(nav('will-navigate', `${ORIGIN}/#/jobs`), false)
  assert.equal(nav('will-attach-webview', ''), true)
  assert.deepEqual(openHandler?.({ url: `${ORIGIN}/` }), { action: 'deny' })
  assert.equal(blocked.length, 7)
  // after a restart the daemon listens on another port: the old origin is no longer trusted
  origin = 'http://127.0.0.1:50000'
  assert.equal(nav('will-navigate', `${ORIGIN}/`), true)
  assert.equal(nav('will-navigate', 'http://127.0.0.1:50000/'), false)
  origin = undefined
  assert.equal(nav('will-navigate', 'http://127.0.0.1:50000/'), true, 'no daemon, no trusted origin')
})

test('session: permissions denied (clipboard write only), requests only to the daemon origin and its event stream', () => {
  let perm: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | null = null
  let check: ((wc: unknown, p: string) => boolean) | null = null
  let onReq: ((d: { url: string }, cb: (r: { cancel?: boolean }) => void) => void) | null = null
  hardenSession({
    setPermissionRequestHandler: (h) => { perm = h },
    setPermissionCheckHandler: (h) => { check = h },
    webRequest: { onBeforeRequest: (l) => { onReq = l } }
  }, makeOriginChecks(() => ORIGIN).request)
  const ask = (p: string): boolean => { let g = true; perm?.(null, p, (x) => { g = x }); return g }
  assert.equal(ask('geolocation'), false)
  assert.equal(ask('media'), false)
  assert.equal(ask('notifications'), false)
  assert.equal(ask('clipboard-sanitized-write'), true)
  const checkFn = check as unknown as ((wc: unknown, p: string) => boolean) | null
  assert.equal(checkFn?.(null, 'notifications'), false)
  const cancel = (url: string): boolean | undefined => { let c: boolean | undefined; onReq?.({ url }, (r) => { c = r.cancel }); return c }
  assert.equal(cancel('https://fonts.googleapis.com/css'), true)
  assert.equal(cancel('ws://127.0.0.1:9/api/events'), true)
  assert.equal(cancel('http://127.0.0.1:9/api/node.status'), true)
  assert.equal(cancel('file:///etc/passwd'), true)
  assert.equal(cancel('not a url'), true)
  assert.equal(cancel(`${ORIGIN}/app.js`), false)
  assert.equal(cancel(`${ORIGIN}/api/node.status`), false)
  assert.equal(cancel('ws://127.0.0.1:41234/api/events'), false)
  assert.equal(cancel('data:text/html,hello'), false)
  assert.equal(cancel(`blob:${ORIGIN}/0b1c`), false)
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

const shellActions = (calls: string[] = []): ShellActions => ({
  setAutoBid: (on) => calls.push(`autobid:${on}`),
  pauseUntil: (t) => calls.push(`pause:${t}`),
  resume: () => calls.push('resume'),
  openDashboard: () => calls.push('open'),
  quitDraining: () => calls.push('quit'),
  restartNode: () => calls.push('restart')
})
const running: SupervisorState = { phase: 'running', pid: 1, endpoint: { origin: ORIGIN, port: 41234, token: 'x'.repeat(43), url: `${ORIGIN}/?token=${'x'.repeat(43)}` }, ready: { event: 'ready', did: 'd', peerId: 'p', multiaddrs: [], dataDir: '/d', ui: `${ORIGIN}/?token=${'x'.repeat(43)}` }, since: 0 }

test('tray follows NodeStatus while the daemon runs: one icon and tooltip per node state', () => {
  for (const state of NODE_STATES) {
    const v = trayView({ daemon: running, status: status({ state, error: state === 'error' ? 'sandbox: host binary missing' : null }), quitting: false }, shellActions(), 0)
    assert.equal(v.icon, `tray-${state}.png`)
    assert.match(v.tooltip, /^Mesh Executor — /)
    assert.ok(v.menu.some((m) => m.id === 'autobid'), state)
  }
  const err = trayView({ daemon: running, status: status({ state: 'error', error: 'sandbox: host binary missing' }), quitting: false }, shellActions(), 0)
  assert.match(err.tooltip, /sandbox: host binary missing/)
  const q = trayView({ daemon: running, status: status({ state: 'running' }), quitting: true }, shellActions(), 0)
  assert.match(q.tooltip, /draining before quit/)
  assert.equal(q.menu.find((m) => m.id === 'quit')?.enabled, false)
})

test("tray shows the daemon's own troubles: starting, crashed (reason, countdown, restart now), cannot start (try again)", () => {
  const calls: string[] = []
  const a = shellActions(calls)
  const starting = trayView({ daemon: { phase: 'starting', pid: 5, attempt: 1 }, status: undefined, quitting: false }, a, 0)
  assert.equal(starting.icon, 'tray-idle.png')
  assert.match(starting.tooltip, /starting the node/)
  assert.ok(!starting.menu.some((m) => m.id === 'autobid'), 'no node actions without a node')

  const crashed = trayView({ daemon: { phase: 'crashed', reason: 'out of memory (killed by SIGKILL)', code: null, signal: 'SIGKILL', restartAt: 4000, restartInMs: 4000, attempt: 3 }, status: undefined, quitting: false }, a, 1000)
  assert.equal(crashed.icon, 'tray-error.png')
  assert.match(crashed.tooltip, /the node stopped: out of memory \(killed by SIGKILL\); restarting in 3 s/)
  const restart = crashed.menu.find((m) => m.id === 'restart')
  assert.equal(restart?.label, 'Restart now')
  ;(restart?.click as unknown as () => void)()

  const failed = trayView({ daemon: { phase: 'failed', reason: 'data directory /x is in use by another mesh-executor (exit code 2)', code: 2 }, status: undefined, quitting: false }, a, 0)
  assert.equal(failed.icon, 'tray-error.png')
  assert.match(failed.tooltip, /cannot start: data directory \/x is in use/)
  const retry = failed.menu.find((m) => m.id === 'restart')
  assert.equal(retry?.label, 'Try again')
  ;(retry?.click as unknown as () => void)()
  ;(failed.menu.find((m) => m.id === 'quit')?.click as unknown as () => void)()
  assert.deepEqual(calls, ['restart', 'restart', 'quit'])
})

test('the window status page is static, escaped and says what happens next', () => {
  const url = statusPageUrl('<b>x</b>', 'a & "b"')
  assert.ok(url.startsWith('data:text/html;charset=utf-8,'))
  const html = decodeURIComponent(url.slice(url.indexOf(',') + 1))
  assert.match(html, /&lt;b&gt;x&lt;\/b&gt;/)
  assert.match(html, /a &amp; &quot;b&quot;/)
  assert.doesNotMatch(html, /<script/i)
  assert.match(html, /default-src 'none'/)
  const crashed = decodeURIComponent(daemonStatusPage({ phase: 'crashed', reason: 'boom (exit code 1)', code: 1, signal: null, restartAt: 2000, restartInMs: 2000, attempt: 2 }, 0))
  assert.match(crashed, /boom \(exit code 1\)/)
  assert.match(crashed, /Restarting in 2 s/)
  assert.match(decodeURIComponent(daemonStatusPage({ phase: 'failed', reason: 'bad data dir', code: 2 }, 0)), /Try again/)
})

test('desktop daemon command: Electron binary as Node on dist/main/bin.js, userData data dir, sandbox host from resources, parent pid', () => {
  const root = '/opt/Mesh Executor/resources/app'
  const files = new Set([join(root, 'dist/main/bin.js'), '/opt/Mesh Executor/resources/sandbox-host/mesh-sandbox-host'])
  const cmd = desktopDaemonCommand({
    execPath: '/opt/Mesh Executor/mesh-executor', appRoot: root, dataDir: '/home/u/.config/Mesh Executor/executor',
    resourcesPath: '/opt/Mesh Executor/resources', parentPid: 4242, graceSeconds: 60, env: { PATH: '/usr/bin' }, platform: 'linux',
    exists: (p) => files.has(p)
  })
  assert.equal(cmd.file, '/opt/Mesh Executor/mesh-executor')
  assert.deepEqual(cmd.args, [join(root, 'dist/main/bin.js'), 'start', '--json', '--ui-port', '0', '--data-dir', '/home/u/.config/Mesh Executor/executor', '--grace', '60'])
  assert.equal(cmd.env?.ELECTRON_RUN_AS_NODE, '1')
  assert.equal(cmd.env?.MESH_SANDBOX_HOST, '/opt/Mesh Executor/resources/sandbox-host/mesh-sandbox-host')
  assert.equal(cmd.env?.MESH_EXECUTOR_PARENT_PID, '4242')
  assert.equal(cmd.env?.PATH, '/usr/bin')
  // a checkout: no compiled CLI yet, no packaged host, a developer's node
  const dev = desktopDaemonCommand({ execPath: '/x/electron', appRoot: '/src/mesh', dataDir: '/d', parentPid: 1, graceSeconds: 5, env: { MESH_EXECUTOR_DAEMON_NODE: '/usr/bin/node', ELECTRON_RUN_AS_NODE: '1' }, exists: () => false })
  assert.equal(dev.file, '/usr/bin/node')
  assert.equal(dev.args[0], join('/src/mesh', 'bin/mesh-executor.js'))
  assert.equal(dev.env?.ELECTRON_RUN_AS_NODE, undefined)
  assert.equal(dev.env?.MESH_SANDBOX_HOST, undefined)
})

test('only main.ts imports Electron at run time; the supervision modules import nothing of Electron', () => {
  const dir = join(ROOT, 'src', 'main', 'electron')
  for (const name of readdirSync(dir)) {
    const text = readFileSync(join(dir, name), 'utf8')
    const runtime = /^import\s+(?!type\b)[^'"]*from\s+['"]electron['"]/m.test(text)
    assert.equal(runtime, name === 'main.ts', name)
    if (['daemon-process.ts', 'daemon-child.ts', 'daemon-restart.ts', 'daemon-stop.ts', 'api-client.ts', 'daemon-command.ts', 'power.ts'].includes(name)) assert.doesNotMatch(text, /['"]electron['"]/, name)
    // the shell never reaches the node's code (the daemon runs in its own process)
    assert.doesNotMatch(text, /from\s+['"]\.\.\/(daemon|mesh|store|sandbox|jobs|market|probe|api|ui-server|commands)\//, name)
  }
})
