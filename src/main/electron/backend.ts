/** What the desktop shell needs from the executor daemon (implemented by desktop-backend.ts). */
import type { ApiService } from '../api/index.js'
import type { PowerState } from './power.js'

export interface DesktopBackend {
  /** The API service (createApiService) over the running daemon. */
  api: ApiService
  /** powerMonitor samples, for the policy engine's idle/battery rules. */
  setMachineState(state: PowerState): void
  /** Stop bidding, let running jobs finish (or time out), stop the node. */
  drain(signal?: AbortSignal): Promise<void>
}

export interface DesktopBackendOptions {
  /** Data directory (Electron's userData/executor unless MESH_EXECUTOR_DATA_DIR is set). */
  dataDir: string
}

export type CreateDesktopBackend = (opts: DesktopBackendOptions) => Promise<DesktopBackend>

export class DesktopError extends Error {
  override name = 'DesktopError'
  constructor (readonly code: string, message: string) { super(message) }
}
