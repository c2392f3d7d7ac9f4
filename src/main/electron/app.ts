/**
 * The desktop shell, composed from injected Electron modules (main.ts passes the real ones). It is
 * a thin shell around the daemon process (daemon-process.ts supervises it; everything goes through
 * the daemon's local API):
 *
 * - single-instance lock; the login item (from the daemon's settings); notifications;
 * - a tray with an icon per node state (node.status + the /api/events stream), auto-bid and pause
 *   (node.setAutoBid, node.pause), and the daemon's own troubles (crashed and restarting, cannot start);
 * - the dashboard window: the renderer served by the daemon (its `ui` URL), hardened (security.ts);
 *   a static status page while the daemon serves none; it reloads the new URL after a restart;
 * - powerMonitor idle time and battery state → node.setMachineState;
 * - quit drains: node.shutdown, then wait for the daemon's exit (SIGTERM / SIGKILL fallbacks).
 */
import { join } from 'node:path'
import type * as Electron from 'electron'
import type { ApiEvent, NodeStatus } from '../../shared/api/index.js'
import type { DaemonSupervisor } from './daemon-process.js'
import { watchPower, type PowerState } from './power.js'
import { DASHBOARD_PARTITION, hardenSession, hardenWebContents, makeOriginChecks, secureWebPreferences } from './security.js'
import { daemonProblem, daemonStatusPage, trayView } from './shell-view.js'

export interface ElectronModules {
  app: Electron.App
  BrowserWindow: typeof Electron.BrowserWindow
  Tray: typeof Electron.Tray
  Menu: typeof Electron.Menu
  nativeImage: typeof Electron.nativeImage
  Notification: typeof Electron.Notification
  powerMonitor: Electron.PowerMonitor
  session: typeof Electron.session
}

export interface DesktopOptions {
  iconsDir: string
  /** The daemon supervisor (not started yet: the shell starts it once it holds the single-instance lock). */
  supervisor: DaemonSupervisor
  /** Grace for running jobs at quit (node.shutdown { graceSeconds }). */
  graceSeconds: number
  /** CLI flag --minimized overrides the setting. */
  forceMinimized?: boolean
  log?: (msg: string) => void
}

const LOGIN_ITEM_SYNC_MS = 30_000

export async function runDesktop (e: ElectronModules, opts: DesktopOptions): Promise<void> {
  const { app } = e
  const sup = opts.supervisor
  const log = opts.log ?? ((m: string) => { console.error(`[desktop] ${m}`) })
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }
  await app.whenReady()

  const origin = (): string | undefined => { const s = sup.state(); return s.phase === 'running' ? s.endpoint.origin : undefined }
  const checks = makeOriginChecks(origin)
  hardenSession(e.session.fromPartition(DASHBOARD_PARTITION), checks.request)
  hardenSession(e.session.defaultSession, checks.request)
  app.on('web-contents-created', (_ev, contents) => { hardenWebContents(contents, checks.page, (what) => { log(`blocked ${what}`) }) })

  const icon = (name: string): Electron.NativeImage => e.nativeImage.createFromPath(join(opts.iconsDir, name))
  const notify = (title: string, body: string): void => {
    if (e.Notification.isSupported()) new e.Notification({ title, body, silent: true }).show()
  }

  let win: Electron.BrowserWindow | undefined
  let shownPage: string | undefined
  let status: NodeStatus | undefined
  let lastError: string | null = null
  let quitting = false
  let drained = false
  let power: PowerState | undefined
  let loginItem: string | undefined
  let firstStart = true

  /** Shows the daemon's dashboard when it runs, else the status page (only when it changed). */
  const showPage = (): void => {
    if (win === undefined || win.isDestroyed()) return
    const s = sup.state()
    const url = s.phase === 'running' ? s.endpoint.url : daemonStatusPage(s, Date.now())
    const key = s.phase === 'running' ? url : `${s.phase}:${daemonProblem(s, 0) ?? ''}`
    if (key === shownPage) return
    shownPage = key
    win.loadURL(url).catch((err: unknown) => { log(`cannot load the dashboard: ${String(err)}`) })
  }

  const openDashboard = (): void => {
    if (win !== undefined && !win.isDestroyed()) {
      if (win.isMinimized()) win.restore()
      win.show()
      win.focus()
      return
    }
    shownPage = undefined
    win = new e.BrowserWindow({
      width: 1180,
      height: 820,
      minWidth: 360,
      minHeight: 420,
      show: false,
      title: 'Mesh Executor',
      icon: join(opts.iconsDir, 'app-256.png'),
      autoHideMenuBar: true,
      webPreferences: secureWebPreferences()
    })
    const w = win
    w.once('ready-to-show', () => { w.show() })
    w.on('close', (ev) => { if (!quitting) { ev.preventDefault(); w.hide(); void syncLoginItem() } })
    showPage()
  }

  const tray = new e.Tray(icon('tray-idle.png'))
  const actions = {
    setAutoBid: (on: boolean) => { sup.call('node.setAutoBid', { enabled: on }).then((s) => { status = s; refreshTray() }, (err: unknown) => { log(`auto-bid: ${String(err)}`) }) },
    pauseUntil: (until: number) => { sup.call('node.pause', { untilMs: until }).then((s) => { status = s; refreshTray() }, (err: unknown) => { log(`pause: ${String(err)}`) }) },
    resume: () => { sup.call('node.pause', { untilMs: null }).then((s) => { status = s; refreshTray() }, (err: unknown) => { log(`resume: ${String(err)}`) }) },
    restartNode: () => { sup.restartNow() },
    openDashboard,
    quitDraining: () => { quitDraining() }
  }
  const refreshTray = (): void => {
    if (tray.isDestroyed()) return
    const v = trayView({ daemon: sup.state(), status, quitting }, actions, Date.now())
    tray.setImage(icon(v.icon))
    tray.setToolTip(v.tooltip)
    tray.setContextMenu(e.Menu.buildFromTemplate(v.menu))
  }
  tray.on('click', openDashboard)

  const pushPower = async (): Promise<void> => {
    if (power === undefined || sup.state().phase !== 'running') return
    await sup.call('node.setMachineState', { userIdleSeconds: power.userIdleSeconds, onBattery: power.onBattery })
      .catch((err: unknown) => { log(`machine state: ${String(err)}`) })
  }
  const syncLoginItem = async (): Promise<void> => {
    if (sup.state().phase !== 'running') return
    try {
      const s = await sup.call('settings.get', {})
      const key = `${String(s.startAtLogin)}:${String(s.startMinimized)}`
      if (key === loginItem) return
      loginItem = key
      app.setLoginItemSettings({ openAtLogin: s.startAtLogin, args: s.startMinimized ? ['--minimized'] : [] })
    } catch (err) {
      log(`login item: ${String(err)}`)
    }
  }
  const loginTimer = setInterval(() => { void syncLoginItem() }, LOGIN_ITEM_SYNC_MS)
  // while the daemon is down and waiting to restart, the tray counts down
  let countdown: NodeJS.Timeout | undefined

  const offs = [
    sup.on('state', (s) => {
      if (s.phase !== 'running') status = undefined
      if (s.phase === 'crashed' && countdown === undefined) countdown = setInterval(refreshTray, 1000)
      if (s.phase !== 'crashed' && countdown !== undefined) { clearInterval(countdown); countdown = undefined }
      refreshTray()
      showPage()
    }),
    sup.on('ready', () => {
      void (async () => {
        try {
          status = await sup.call('node.status', {})
        } catch (err) { log(`status: ${String(err)}`) }
        refreshTray()
        await pushPower()
        await syncLoginItem()
        if (firstStart) {
          firstStart = false
          let minimized = opts.forceMinimized === true || process.argv.includes('--minimized')
          if (!minimized) {
            try { minimized = (await sup.call('settings.get', {})).startMinimized } catch { /* open it */ }
          }
          if (!minimized) openDashboard()
        }
      })()
    }),
    sup.on('api-event', (ev: ApiEvent) => {
      if (ev.type === 'status:changed') {
        status = ev.payload
        refreshTray()
        if (ev.payload.error !== null && ev.payload.error !== lastError) notify('Mesh Executor error', ev.payload.error)
        lastError = ev.payload.error
      } else if (ev.type === 'job:updated') {
        if (ev.payload.state === 'Completed') notify('Job completed', `${ev.payload.announcementId} finished; its receipt is signed and stored.`)
        else if (ev.payload.state === 'Failed') notify('Job failed', `${ev.payload.announcementId}: ${ev.payload.failureReason ?? 'failed'}`)
      }
    }),
    sup.on('crash', (c) => {
      if (!quitting) notify('Mesh Executor: the node stopped', `${c.reason}. Restarting in ${Math.ceil(c.restartInMs / 1000)} s.`)
    }),
    sup.on('failed', (f) => {
      notify('Mesh Executor cannot start', f.reason)
      if (firstStart) { firstStart = false; openDashboard() }
    })
  ]
  const stopPower = watchPower(e.powerMonitor, (s) => { power = s; void pushPower() })

  const quitDraining = (): void => {
    if (quitting) return
    quitting = true
    refreshTray()
    sup.stop({ graceSeconds: opts.graceSeconds })
      .then((r) => { log(`daemon stopped (${r.how}, exit ${String(r.code ?? r.signal)})`) }, (err: unknown) => { log(`stopping the daemon failed: ${String(err)}`) })
      .finally(() => {
        drained = true
        app.quit()
      })
  }

  app.on('second-instance', openDashboard)
  app.on('activate', openDashboard)
  app.on('window-all-closed', () => { /* keep running in the tray */ })
  app.on('before-quit', (ev) => {
    if (!drained) {
      ev.preventDefault()
      quitDraining()
      return
    }
    for (const off of offs) off()
    stopPower()
    clearInterval(loginTimer)
    if (countdown !== undefined) clearInterval(countdown)
    tray.destroy()
  })

  refreshTray()
  sup.start()
}
