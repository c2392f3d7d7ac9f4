/**
 * Electron main-process entry (`npm start`). The only module that imports Electron's runtime.
 * Loads the daemon composition from dist/main/desktop-backend.js (see backend.ts) and runs the shell.
 */
import { app, BrowserWindow, Tray, Menu, nativeImage, Notification, ipcMain, powerMonitor, session, dialog } from 'electron'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { runDesktop } from './app.js'
import { assertBackendModule } from './backend.js'

const here = fileURLToPath(new URL('.', import.meta.url)) // dist/main/electron/
const root = join(here, '..', '..', '..')
const dataDir = process.env.MESH_EXECUTOR_DATA_DIR ?? join(app.getPath('userData'), 'executor')

runDesktop(
  { app, BrowserWindow, Tray, Menu, nativeImage, Notification, ipcMain, powerMonitor, session },
  async () => {
    const mod: unknown = await import(new URL('../desktop-backend.js', import.meta.url).href)
    return await assertBackendModule(mod)({ dataDir })
  },
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
