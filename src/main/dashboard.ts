/** Serves the dashboard for a headless daemon (wired to the UI server in a later commit). */
import type { Daemon } from './daemon/index.js'
import { UsageError } from './cli.js'

export async function startDashboard (_daemon: Daemon, _port: number): Promise<string> {
  throw new UsageError('--ui-port: the dashboard is not part of this build yet')
}
