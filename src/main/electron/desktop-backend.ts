/**
 * The desktop shell's backend: starts the executor daemon in-process (same composition as
 * `mesh-executor start`) with the settings saved from the Settings page, binds the API to it, and
 * feeds powerMonitor's idle time to the policy's idle-only rule. No Electron imports here.
 */
import { openStore } from '../store/index.js'
import { startDaemon } from '../daemon/index.js'
import { createDaemonApi } from '../api/daemon-adapter.js'
import type { CreateDesktopBackend } from './backend.js'

function savedSettings (dataDir: string): { region?: string, listen?: string[], bootstrap?: string[] } {
  let store
  try { store = openStore(dataDir) } catch { return {} }
  try {
    const region = store.getSetting('region')
    const listen = store.getSetting('listenAddrs')
    const bootstrap = store.getSetting('bootstrapPeers')
    const strs = (v: unknown): string[] | undefined => Array.isArray(v) && v.every((x) => typeof x === 'string') ? v as string[] : undefined
    return {
      ...(typeof region === 'string' ? { region } : {}),
      ...(strs(listen) !== undefined ? { listen: strs(listen) } : {}),
      ...(strs(bootstrap) !== undefined ? { bootstrap: strs(bootstrap) } : {})
    }
  } finally {
    store.close()
  }
}

export const createDesktopBackend: CreateDesktopBackend = async ({ dataDir }) => {
  let idleSeconds: number | undefined
  let onBattery: boolean | undefined
  const saved = savedSettings(dataDir)
  const daemon = await startDaemon({
    dataDir,
    ...saved,
    listen: saved.listen ?? ['/ip4/0.0.0.0/tcp/0'],
    userIdleSeconds: () => idleSeconds,
    onBattery: () => onBattery
  })
  const bound = createDaemonApi(daemon)
  return {
    api: bound.api,
    // The daemon's machine sampler reads powerMonitor's idle time and battery state through the
    // callbacks above (the policy's idle-only and stop-on-battery rules).
    setMachineState: (s) => { idleSeconds = s.userIdleSeconds; onBattery = s.onBattery },
    drain: async () => {
      try { await daemon.stop({ graceMs: 60_000 }) } finally { bound.dispose() }
    }
  }
}
