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
 *
 * This module composes the parts and follows the supervisor; the window is app-window.ts, the tray
 * app-tray.ts, notifications app-notify.ts, power state and login item app-system.ts.
 */
import { homedir } from 'node:os'
import type * as Electron from 'electron'
import type { DaemonSupervisor } from './daemon-process.js'
import { createNotifier, type ShellNotifier } from './app-notify.js'
import { createSystemSync, type SystemSync } from './app-system.js'
import { processLoginTarget, type LoginItemTarget } from './login-item.js'
import { createShellTray, type ShellTray } from './app-tray.js'
import { createDashboardWindow, type DashboardWindow } from './app-window.js'
import { DASHBOARD_PARTITION, hardenSession, hardenWebContents, makeOriginChecks } from './security.js'

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
  /** What start-at-login starts, and where (default: this process, this platform, the home dir). */
  loginItem?: LoginItemTarget
  log?: (msg: string) => void
}

export async function runDesktop (e: ElectronModules, opts: DesktopOptions): Promise<void> {
  const { app } = e
  const sup = opts.supervisor
  const log = opts.log ?? ((m: string) => { console.error(`[desktop] ${m}`) })
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }
  await app.whenReady()
  hardenShell(e, sup, log)

  let quitting = false
  let drained = false
  const isQuitting = (): boolean => quitting
  const system = createSystemSync(e, sup, log, opts.loginItem ?? processLoginTarget(homedir()))
  const dashboard = createDashboardWindow(e, { iconsDir: opts.iconsDir, sup, log, quitting: isQuitting, onHide: () => { void system.syncLoginItem() } })
  const tray = createShellTray(e, { iconsDir: opts.iconsDir, sup, log, quitting: isQuitting, openDashboard: dashboard.open, quitDraining: () => { quitDraining() } })
  const offs = followDaemon(sup, { dashboard, tray, system, notifier: createNotifier(e, isQuitting), log, forceMinimized: opts.forceMinimized })
  system.start()

  /** Quit: drain the daemon first (tray "Quit", or any app quit), then quit for real. */
  const quitDraining = (): void => {
    if (quitting) return
    quitting = true
    tray.refresh()
    sup.stop({ graceSeconds: opts.graceSeconds })
      .then((r) => { log(`daemon stopped (${r.how}, exit ${String(r.code ?? r.signal)})`) }, (err: unknown) => { log(`stopping the daemon failed: ${String(err)}`) })
      .finally(() => {
        drained = true
        app.quit()
      })
  }

  app.on('second-instance', dashboard.open)
  app.on('activate', dashboard.open)
  app.on('window-all-closed', () => { /* keep running in the tray */ })
  app.on('before-quit', (ev) => {
    if (!drained) {
      ev.preventDefault()
      quitDraining()
      return
    }
    for (const off of offs) off()
    system.stop()
    tray.destroy()
  })

  tray.refresh()
  sup.start()
}

/** Every session and web contents only reach the daemon's current origin (security.ts). */
function hardenShell (e: ElectronModules, sup: DaemonSupervisor, log: (msg: string) => void): void {
  const origin = (): string | undefined => { const s = sup.state(); return s.phase === 'running' ? s.endpoint.origin : undefined }
  const checks = makeOriginChecks(origin)
  hardenSession(e.session.fromPartition(DASHBOARD_PARTITION), checks.request)
  hardenSession(e.session.defaultSession, checks.request)
  e.app.on('web-contents-created', (_ev, contents) => { hardenWebContents(contents, checks.page, (what) => { log(`blocked ${what}`) }) })
}

interface ShellParts {
  dashboard: DashboardWindow
  tray: ShellTray
  system: SystemSync
  notifier: ShellNotifier
  log: (msg: string) => void
  forceMinimized: boolean | undefined
}

/**
 * The shell follows the supervisor: tray and window on every state; on every (re)start the status,
 * power state and login item, and the window on the first start (unless started minimized);
 * live status and notifications. Returns the unsubscribers.
 */
function followDaemon (sup: DaemonSupervisor, p: ShellParts): Array<() => void> {
  const { dashboard, tray, system, notifier, log } = p
  let firstStart = true
  const onReady = async (): Promise<void> => {
    try {
      tray.setStatus(await sup.call('node.status', {}))
    } catch (err) { log(`status: ${String(err)}`) }
    tray.refresh()
    await system.pushPower()
    await system.syncLoginItem()
    if (firstStart) {
      firstStart = false
      if (!(await startMinimized(sup, p.forceMinimized))) dashboard.open()
    }
  }
  return [
    sup.on('state', (s) => {
      tray.follow(s)
      dashboard.showPage()
    }),
    sup.on('ready', () => { void onReady() }),
    sup.on('api-event', (ev) => {
      if (ev.type === 'status:changed') {
        tray.setStatus(ev.payload)
        tray.refresh()
      }
      notifier.apiEvent(ev)
    }),
    sup.on('crash', (c) => { notifier.crash(c) }),
    sup.on('failed', (f) => {
      notifier.failed(f)
      if (firstStart) { firstStart = false; dashboard.open() }
    })
  ]
}

/** --minimized (or forced by the caller), else the daemon's start-minimized setting. */
async function startMinimized (sup: DaemonSupervisor, forceMinimized: boolean | undefined): Promise<boolean> {
  if (forceMinimized === true || process.argv.includes('--minimized')) return true
  try { return (await sup.call('settings.get', {})).startMinimized } catch { return false /* open it */ }
}
