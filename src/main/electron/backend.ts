/**
 * What the desktop shell needs from the executor daemon. The daemon side (lead) provides
 * `src/main/desktop-backend.ts` exporting `createDesktopBackend(opts): Promise<DesktopBackend>`;
 * `node scripts/build-renderer.mjs --electron` bundles it to dist/main/desktop-backend.js, which
 * main.ts loads at runtime.
 */
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

export function assertBackendModule (mod: unknown): CreateDesktopBackend {
  const f = (mod as { createDesktopBackend?: unknown } | null)?.createDesktopBackend
  if (typeof f !== 'function') throw new DesktopError('NoBackend', 'dist/main/desktop-backend.js does not export createDesktopBackend(opts)')
  return f as CreateDesktopBackend
}
