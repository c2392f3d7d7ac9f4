/**
 * The Electron tray (app.ts wires it): draws shell-view.ts's trayView from the supervisor's state
 * and the daemon's last NodeStatus, runs the menu's node actions through the daemon's API, and
 * counts down once a second while a crashed daemon waits to restart.
 */
import { join } from 'node:path'
import type * as Electron from 'electron'
import type { NodeStatus } from '../../shared/api/index.js'
import type { ElectronModules } from './app.js'
import type { DaemonSupervisor, SupervisorState } from './daemon-process.js'
import { trayView, type ShellActions } from './shell-view.js'

export interface ShellTray {
  /** Redraws the icon, tooltip and menu. */
  refresh(): void
  /** The running daemon's last status (does not redraw). */
  setStatus(s: NodeStatus): void
  /** A new supervisor state: forgets the status unless running, starts or stops the countdown, redraws. */
  follow(s: SupervisorState): void
  destroy(): void
}

export interface TrayOptions {
  iconsDir: string
  sup: DaemonSupervisor
  log: (msg: string) => void
  quitting: () => boolean
  openDashboard: () => void
  quitDraining: () => void
}

export function createShellTray (e: Pick<ElectronModules, 'Tray' | 'Menu' | 'nativeImage'>, o: TrayOptions): ShellTray {
  const { sup } = o
  const icon = (name: string): Electron.NativeImage => e.nativeImage.createFromPath(join(o.iconsDir, name))
  const tray = new e.Tray(icon('tray-idle.png'))
  let status: NodeStatus | undefined
  // while the daemon is down and waiting to restart, the tray counts down
  let countdown: NodeJS.Timeout | undefined

  /** A node action's new status is drawn at once. */
  const apply = (what: string, p: Promise<NodeStatus>): void => {
    p.then((s) => { status = s; refresh() }, (err: unknown) => { o.log(`${what}: ${String(err)}`) })
  }
  const actions: ShellActions = {
    setAutoBid: (on: boolean) => { apply('auto-bid', sup.call('node.setAutoBid', { enabled: on })) },
    pauseUntil: (until: number) => { apply('pause', sup.call('node.pause', { untilMs: until })) },
    resume: () => { apply('resume', sup.call('node.pause', { untilMs: null })) },
    restartNode: () => { sup.restartNow() },
    openDashboard: o.openDashboard,
    quitDraining: () => { o.quitDraining() }
  }
  const refresh = (): void => {
    if (tray.isDestroyed()) return
    const v = trayView({ daemon: sup.state(), status, quitting: o.quitting() }, actions, Date.now())
    tray.setImage(icon(v.icon))
    tray.setToolTip(v.tooltip)
    tray.setContextMenu(e.Menu.buildFromTemplate(v.menu))
  }
  tray.on('click', o.openDashboard)

  return {
    refresh,
    setStatus: (s) => { status = s },
    follow (s) {
      if (s.phase !== 'running') status = undefined
      if (s.phase === 'crashed' && countdown === undefined) countdown = setInterval(refresh, 1000)
      if (s.phase !== 'crashed' && countdown !== undefined) { clearInterval(countdown); countdown = undefined }
      refresh()
    },
    destroy () {
      if (countdown !== undefined) clearInterval(countdown)
      tray.destroy()
    }
  }
}
