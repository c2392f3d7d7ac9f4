/**
 * The dashboard window (app.ts wires it): one hardened BrowserWindow that shows the daemon's
 * dashboard while it runs and a static status page otherwise; closing it hides it (the app keeps
 * running in the tray) unless the app is quitting.
 */
import { join } from 'node:path'
import type * as Electron from 'electron'
import type { ElectronModules } from './app.js'
import type { DaemonSupervisor } from './daemon-process.js'
import { secureWebPreferences } from './security.js'
import { daemonProblem, daemonStatusPage } from './shell-view.js'

export interface DashboardWindow {
  /** Shows the window, focused (creates it when there is none). */
  open(): void
  /** Shows the daemon's dashboard when it runs, else the status page (only when it changed). */
  showPage(): void
}

export interface WindowOptions {
  iconsDir: string
  sup: DaemonSupervisor
  log: (msg: string) => void
  /** The app is quitting: closing the window closes it. */
  quitting: () => boolean
  /** The window was closed by the user, and hidden. */
  onHide: () => void
}

export function createDashboardWindow (e: Pick<ElectronModules, 'BrowserWindow'>, o: WindowOptions): DashboardWindow {
  let win: Electron.BrowserWindow | undefined
  let shownPage: string | undefined

  const showPage = (): void => {
    if (win === undefined || win.isDestroyed()) return
    const s = o.sup.state()
    const url = s.phase === 'running' ? s.endpoint.url : daemonStatusPage(s, Date.now())
    const key = s.phase === 'running' ? url : `${s.phase}:${daemonProblem(s, 0) ?? ''}`
    if (key === shownPage) return
    shownPage = key
    win.loadURL(url).catch((err: unknown) => { o.log(`cannot load the dashboard: ${String(err)}`) })
  }

  const open = (): void => {
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
      icon: join(o.iconsDir, 'app-256.png'),
      autoHideMenuBar: true,
      webPreferences: secureWebPreferences()
    })
    const w = win
    w.once('ready-to-show', () => { w.show() })
    w.on('close', (ev) => { if (!o.quitting()) { ev.preventDefault(); w.hide(); o.onHide() } })
    showPage()
  }

  return { open, showPage }
}
