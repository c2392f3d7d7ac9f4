/**
 * The dashboard of a headless daemon (`mesh-executor start --ui-port N`): the same access token across
 * restarts (`<dataDir>/ui-token`), and its address recorded in `<dataDir>/ui.json` for
 * `mesh-executor dashboard`.
 */
import type { Daemon } from './daemon/index.js'
import type { DaemonHost } from './api/daemon-adapter.js'
import { startDaemonUi, type DaemonUi } from './ui-server/daemon-ui.js'
import { loadOrCreateUiToken, removeUiState, writeUiState } from './ui-server/access.js'

/**
 * `host` (createDaemonHost) lets the API take node.setMachineState and node.shutdown. With a host and
 * $MESH_EXECUTOR_PARENT_PID set (the desktop shell sets it to its own pid), the daemon also stops
 * gracefully when that process is gone, so a crashed shell never leaves a daemon holding the data dir.
 */
export async function startDashboard (daemon: Daemon, port: number, opts: { host?: DaemonHost } = {}): Promise<DaemonUi> {
  const token = await loadOrCreateUiToken(daemon.dataDir)
  const ui = await startDaemonUi(daemon, { port, token, ...(opts.host !== undefined ? { host: opts.host } : {}) })
  await writeUiState(daemon.dataDir, { origin: ui.server.origin, port: ui.server.port, pid: process.pid, startedAt: Date.now() })
  const parent = Number(process.env.MESH_EXECUTOR_PARENT_PID)
  const host = opts.host
  const stopWatching = host !== undefined && Number.isSafeInteger(parent) && parent > 0
    ? watchParent(parent, () => { host.requestShutdown() })
    : () => {}
  return {
    ...ui,
    async close () {
      stopWatching()
      await removeUiState(daemon.dataDir).catch((err: unknown) => { daemon.log.warn({ sub: 'ui', err }, 'removing ui.json failed') })
      await ui.close()
    }
  }
}

/** Calls `onGone` once when process `pid` is no longer our parent or no longer exists (checked every `intervalMs`). */
export function watchParent (pid: number, onGone: () => void, intervalMs = 1000): () => void {
  const alive = (): boolean => {
    if (process.platform !== 'win32' && process.ppid !== pid) return false // re-parented: the parent died
    try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
  }
  const timer = setInterval(() => {
    if (alive()) return
    clearInterval(timer)
    onGone()
  }, intervalMs)
  timer.unref()
  return () => { clearInterval(timer) }
}
