/** Every API method's handler, built from one table per method group (a method without a handler does not compile). */
import type { ApiMethod } from '../../../shared/api/index.js'
import type { ApiContext } from '../context.js'
import type { NodeStatusSource } from '../status.js'
import { earningsHandlers } from './earnings.js'
import { exportHandlers } from './export.js'
import { jobsHandlers } from './jobs.js'
import { logsHandlers } from './logs.js'
import { marketHandlers } from './market.js'
import { nodeHandlers } from './node.js'
import { policyHandlers } from './policy.js'
import { receiptsHandlers } from './receipts.js'
import { settingsHandlers } from './settings.js'
import type { Handlers } from './types.js'

export type { Handler, Handlers, MethodsOf } from './types.js'

export function createHandlers (ctx: ApiContext, node: NodeStatusSource): Handlers<ApiMethod> {
  return {
    ...nodeHandlers(ctx, node),
    ...earningsHandlers(ctx),
    ...jobsHandlers(ctx),
    ...marketHandlers(ctx),
    ...policyHandlers(ctx),
    ...receiptsHandlers(ctx),
    ...settingsHandlers(ctx),
    ...logsHandlers(ctx),
    ...exportHandlers(ctx)
  }
}
