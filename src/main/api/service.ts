/**
 * The API implemented once over the main-side services. Both transports (Electron IPC and the local
 * HTTP/WebSocket server) call `service.call(method, untrustedArgs)`: the arguments are validated
 * with the shared validators, then dispatched to the method's handler (./methods: one table per
 * method group). Results are JSON-safe views (see shared/api/contract.ts).
 */
import { ApiError, validateCall, type ApiResult } from '../../shared/api/index.js'
import { createApiContext } from './context.js'
import type { ApiDeps, ApiService } from './deps.js'
import { createHandlers } from './methods/index.js'
import { createNodeStatus } from './status.js'

export type {
  ApiDeps, ApiService, ApiStore, MarketRateSource, NodeControl, NodeRuntime, PolicyEngine, SettingsBackend, SettingsBase
} from './deps.js'
export { computeNodeState } from './status.js'

export function createApiService (deps: ApiDeps): ApiService {
  const ctx = createApiContext(deps)
  const node = createNodeStatus(ctx)
  const handlers = createHandlers(ctx, node)

  async function call (method: unknown, raw: unknown): Promise<unknown> {
    const { method: m, args } = validateCall(method, raw)
    const h = handlers[m] as (a: unknown) => unknown
    try {
      return await h(args)
    } catch (err) {
      if (err instanceof ApiError) throw err
      if (err instanceof Error && (err.name === 'StoreError' || err.name === 'UnknownJob')) throw new ApiError('BadRequest', `${m}: ${err.message}`)
      throw new ApiError('Internal', `${m} failed: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  return {
    call,
    invoke: async (method, args) => await call(method, args) as ApiResult<typeof method>,
    onEvent: (listener) => deps.events.subscribe(listener),
    status: node.status
  }
}
