/**
 * Electron main-process entry (`npm start`). The only module that imports Electron's runtime.
 * Bundled by `node scripts/build-renderer.mjs --electron` to dist/main/electron/main.js, next to
 * the sandbox's host.js/worker.js (which the sandbox forks relative to its own module URL).
 */
import { app, BrowserWindow, Tray, Menu, nativeImage, Notification, ipcMain, powerMonitor, session, dialog } from 'electron'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { runDesktop } from './app.js'
import { createDesktopBackend } from './desktop-backend.js'

const here = fileURLToPath(new URL('.', import.meta.url)) // dist/main/electron/
const root = join(here, '..', '..', '..')
const dataDir = process.env.MESH_EXECUTOR_DATA_DIR ?? join(app.getPath('userData'), 'executor')

runDesktop(
  { app, BrowserWindow, Tray, Menu, nativeImage, Notification, ipcMain, powerMonitor, session },
  async () => await createDesktopBackend({ dataDir }),
  {
    paths: {
      rendererIndex: join(root, 'dist', 'renderer', 'index.html'),
      preload: join(here, 'preload.cjs'),
      iconsDir: join(root, 'assets', 'icons')
    },
    forceMinimized: process.argv.includes('--minimized')
  }
).catch((err: unknown) => {
  dialog.showErrorBox('Mesh Executor could not start', err instanceof Error ? err.message : String(err))
  app.exit(1)
})
