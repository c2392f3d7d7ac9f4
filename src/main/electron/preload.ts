/**
 * Preload of every window (sandboxed, contextIsolation on): exposes exactly `window.meshApi`
 * ({ call, onEvent }) and nothing of Electron or Node. Bundled to CommonJS by
 * `node scripts/build-renderer.mjs --electron` (sandboxed preloads cannot load other files).
 */
import { contextBridge, ipcRenderer } from 'electron'
import { createPreloadApi } from './preload-api.js'

contextBridge.exposeInMainWorld('meshApi', createPreloadApi(ipcRenderer))
