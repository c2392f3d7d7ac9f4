/**
 * Electron main-process entry (`npm start`, the packaged app). The only module that imports
 * Electron's runtime. Bundled by `node scripts/build-renderer.mjs --electron` to
 * dist/main/electron/main.js; its import graph holds the shell only (no libp2p, SQLite or sandbox:
 * package-check asserts it). The node itself runs in a separate process: this very binary with
 * ELECTRON_RUN_AS_NODE=1 running dist/main/bin.js `start` (daemon-command.ts).
 */
import { app, BrowserWindow, Tray, Menu, nativeImage, Notification, powerMonitor, session, dialog } from 'electron'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { runDesktop } from './app.js'
import { desktopDaemonCommand } from './daemon-command.js'
import { createDaemonSupervisor } from './daemon-process.js'

const GRACE_SECONDS = 60
const here = fileURLToPath(new URL('.', import.meta.url)) // dist/main/electron/
const root = join(here, '..', '..', '..')
// the data dir of earlier versions (the node ran in-process then): same identity, store and earnings
const dataDir = process.env.MESH_EXECUTOR_DATA_DIR ?? join(app.getPath('userData'), 'executor')
const log = (m: string): void => { console.error(`[desktop] ${m}`) }

const supervisor = createDaemonSupervisor({
  command: () => desktopDaemonCommand({
    execPath: process.execPath,
    appRoot: root,
    dataDir,
    resourcesPath: process.resourcesPath,
    parentPid: process.pid,
    graceSeconds: GRACE_SECONDS,
    env: process.env
  }),
  graceSeconds: GRACE_SECONDS,
  log
})

runDesktop(
  { app, BrowserWindow, Tray, Menu, nativeImage, Notification, powerMonitor, session },
  {
    iconsDir: join(root, 'assets', 'icons'),
    supervisor,
    graceSeconds: GRACE_SECONDS,
    forceMinimized: process.argv.includes('--minimized'),
    log
  }
).catch((err: unknown) => {
  dialog.showErrorBox('Mesh Executor could not start', err instanceof Error ? err.message : String(err))
  void supervisor.stop({ graceSeconds: 0 }).finally(() => { app.exit(1) })
})
