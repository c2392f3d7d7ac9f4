/** `logs.*`: the node's own log file, newest first, filtered (see ../logs.ts). */
import type { ApiContext } from '../context.js'
import { tailLogs } from '../logs.js'
import type { Handlers, MethodsOf } from './types.js'

export function logsHandlers ({ deps }: ApiContext): Handlers<MethodsOf<'logs'>> {
  return {
    'logs.tail': async (a) => await tailLogs(deps.node.logDir?.(), a)
  }
}
