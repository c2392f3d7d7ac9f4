/**
 * The desktop shell, composed from injected Electron modules (main.ts passes the real ones):
 * single-instance lock, tray with state icons and menu, dashboard window (hardened), IPC bridge,
 * login item, notifications, powerMonitor → backend, quit after draining running jobs.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as Electron from 'electron'
import type { ApiEvent, NodeStatus } from '../../shared/api/index.js'
import type { DesktopBackend } from './backend.js'
import { registerApiIpc, type CallableApi } from './ipc.js'
import { watchPower } from './power.js'
import { hardenSession, hardenWebContents, makeTrustedUrl, secureWebPreferences } from './security.js'
import { trayIconFile, trayMenuTemplate, trayTooltip } from './tray.js'

export interface ElectronModules {
  app: Electron.App
  BrowserWindow: typeof Electron.BrowserWindow
  Tray: typeof Electron.Tray
  Menu: typeof Electron.Menu
  nativeImage: typeof Electron.nativeImage
  Notification: typeof Electron.Notification
  ipcMain: Electron.IpcMain
  powerMonitor: Electron.PowerMonitor
  session: typeof Electron.session
}

export interface DesktopPaths {
  rendererIndex: string
  preload: string
  iconsDir: string
}

export interface DesktopOptions {
  paths: DesktopPaths
  /** CLI flag --minimized overrides the setting. */
  forceMinimized?: boolean
  log?: (msg: string) => void
}

export async function runDesktop (e: ElectronModules, createBackend: () => Promise<DesktopBackend>, opts: DesktopOptions): Promise<void> {
  const { app } = e
  const log = opts.log ?? ((m: string) => { console.error(`[desktop] ${m}`) })
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }
  await app.whenReady()

  const indexUrl = pathToFileURL(opts.paths.rendererIndex).href
  const isTrusted = makeTrustedUrl(indexUrl)
  const rendererDirUrl = pathToFileURL(join(opts.paths.rendererIndex, '..')).href + '/'
  hardenSession(e.session.defaultSession, (url) => url.startsWith(rendererDirUrl))
  app.on('web-contents-created', (_ev, contents) => { hardenWebContents(contents, isTrusted, (what) => { log(`blocked ${what}`) }) })

  const backend = await createBackend()
  const icon = (name: string): Electron.NativeImage => e.nativeImage.createFromPath(join(opts.paths.iconsDir, name))

  let win: Electron.BrowserWindow | undefined
  let quitting = false
  let drained = false

  const openDashboard = (): void => {
    if (win !== undefined && !win.isDestroyed()) {
      if (win.isMinimized()) win.restore()
      win.show()
      win.focus()
      return
    }
    win = new e.BrowserWindow({
      width: 1180,
      height: 820,
      minWidth: 360,
      minHeight: 420,
      show: false,
      title: 'Mesh Executor',
      icon: join(opts.paths.iconsDir, 'app-256.png'),
      autoHideMenuBar: true,
      webPreferences: secureWebPreferences(opts.paths.preload)
    })
    const w = win
    w.once('ready-to-show', () => { w.show() })
    w.on('close', (ev) => { if (!quitting) { ev.preventDefault(); w.hide() } })
    w.loadFile(opts.paths.rendererIndex, { hash: '/overview' }).catch((err: unknown) => { log(`cannot load dashboard: ${String(err)}`) })
  }

  const applyLoginItem = async (): Promise<void> => {
    const s = await backend.api.invoke('settings.get', {})
    app.setLoginItemSettings({ openAtLogin: s.startAtLogin, args: s.startMinimized ? ['--minimized'] : [] })
  }
  // Apply login-item changes made from the Settings page.
  const api: CallableApi = {
    call: async (method, args) => {
      const r = await backend.api.call(method, args)
      if (method === 'settings.update') await applyLoginItem().catch((err: unknown) => { log(`login item: ${String(err)}`) })
      return r
    },
    onEvent: (l) => backend.api.onEvent(l)
  }
  const ipc = registerApiIpc({
    ipcMain: e.ipcMain,
    api,
    isTrustedUrl: isTrusted,
    windows: () => e.BrowserWindow.getAllWindows().map((b) => b.webContents),
    onRejected: (r) => { log(r) }
  })

  const tray = new e.Tray(icon(trayIconFile('idle')))
  const quitDraining = (): void => {
    if (quitting) return
    quitting = true
    void refreshTray()
    backend.drain().catch((err: unknown) => { log(`drain failed: ${String(err)}`) }).finally(() => {
      drained = true
      app.quit()
    })
  }
  const refreshTray = async (given?: NodeStatus): Promise<void> => {
    const s = given ?? backend.api.status()
    const shown = quitting ? { ...s, draining: true } : s
    tray.setImage(icon(trayIconFile(s.state)))
    tray.setToolTip(trayTooltip(shown))
    tray.setContextMenu(e.Menu.buildFromTemplate(trayMenuTemplate(shown, {
      setAutoBid: (on) => { void backend.api.invoke('node.setAutoBid', { enabled: on }) },
      pauseUntil: (until) => { void backend.api.invoke('node.pause', { untilMs: until }) },
      resume: () => { void backend.api.invoke('node.pause', { untilMs: null }) },
      openDashboard,
      quitDraining
    }, Date.now())))
  }
  tray.on('click', openDashboard)

  const notify = (title: string, body: string): void => {
    if (e.Notification.isSupported()) new e.Notification({ title, body, silent: true }).show()
  }
  const offEvents = backend.api.onEvent((ev: ApiEvent) => {
    if (ev.type === 'status:changed') {
      void refreshTray(ev.payload)
      if (ev.payload.error !== null) notify('Mesh Executor error', ev.payload.error)
    } else if (ev.type === 'job:updated') {
      void refreshTray()
      if (ev.payload.state === 'Completed') notify('Job completed', `${ev.payload.announcementId} finished; its receipt is signed and stored.`)
      else if (ev.payload.state === 'Failed') notify('Job failed', `${ev.payload.announcementId}: ${ev.payload.failureReason ?? 'failed'}`)
    }
  })
  const stopPower = watchPower(e.powerMonitor, (s) => { backend.setMachineState(s) })

  app.on('second-instance', openDashboard)
  app.on('activate', openDashboard)
  app.on('window-all-closed', () => { /* keep running in the tray */ })
  app.on('before-quit', (ev) => {
    if (!drained) {
      ev.preventDefault()
      quitDraining()
      return
    }
    offEvents()
    stopPower()
    ipc.dispose()
    tray.destroy()
  })

  await refreshTray()
  await applyLoginItem().catch((err: unknown) => { log(`login item: ${String(err)}`) })
  const settings = await backend.api.invoke('settings.get', {})
  const minimized = opts.forceMinimized === true || settings.startMinimized || process.argv.includes('--minimized')
  if (!minimized) openDashboard()
}
