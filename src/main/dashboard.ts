/**
 * The dashboard of a headless daemon (`mesh-executor start --ui-port N`): the same access token across
 * restarts (`<dataDir>/ui-token`), and its address recorded in `<dataDir>/ui.json` for
 * `mesh-executor dashboard`.
 */
import type { Daemon } from './daemon/index.js'
import type { DaemonHost } from './api/daemon-adapter.js'
import { startDaemonUi, type DaemonUi } from './ui-server/daemon-ui.js'
import { loadOrCreateUiToken, removeUiState, writeUiState } from './ui-server/access.js'

/** `host` (createDaemonHost) lets the API take node.setMachineState and node.shutdown. */
export async function startDashboard (daemon: Daemon, port: number, opts: { host?: DaemonHost } = {}): Promise<DaemonUi> {
  const token = await loadOrCreateUiToken(daemon.dataDir)
  const ui = await startDaemonUi(daemon, { port, token, ...(opts.host !== undefined ? { host: opts.host } : {}) })
  await writeUiState(daemon.dataDir, { origin: ui.server.origin, port: ui.server.port, pid: process.pid, startedAt: Date.now() })
  return {
    ...ui,
    async close () {
      await removeUiState(daemon.dataDir).catch((err: unknown) => { daemon.log.warn({ sub: 'ui', err }, 'removing ui.json failed') })
      await ui.close()
    }
  }
}
