/** The dashboard of a headless daemon (`mesh-executor start --ui-port N`). */
import type { Daemon } from './daemon/index.js'
import { startDaemonUi, type DaemonUi } from './ui-server/daemon-ui.js'

export async function startDashboard (daemon: Daemon, port: number): Promise<DaemonUi> {
  return await startDaemonUi(daemon, { port })
}
