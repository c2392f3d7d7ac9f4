/** `node.*`: the status, auto-bid and pause (each answers the new status and emits it), the host's machine state, shutdown. */
import { ApiError } from '../../../shared/api/index.js'
import type { ApiContext } from '../context.js'
import type { NodeStatusSource } from '../status.js'
import type { Handlers, MethodsOf } from './types.js'

export function nodeHandlers ({ deps }: ApiContext, node: NodeStatusSource): Handlers<MethodsOf<'node'>> {
  return {
    'node.status': () => node.status(),
    'node.setAutoBid': async (a) => {
      await deps.node.setAutoBid(a.enabled)
      node.forgetRecent()
      const s = node.status()
      deps.events.emit('status:changed', s)
      return s
    },
    'node.pause': async (a) => {
      await deps.node.pauseUntil(a.untilMs)
      const s = node.status()
      deps.events.emit('status:changed', s)
      return s
    },
    'node.setMachineState': (a) => {
      if (deps.node.setMachineState === undefined) throw new ApiError('BadRequest', 'node.setMachineState: this node does not take its machine state from the API')
      return deps.node.setMachineState(a)
    },
    'node.shutdown': (a) => {
      if (deps.node.shutdown === undefined) throw new ApiError('BadRequest', 'node.shutdown: this node cannot be stopped through the API (run it with `mesh-executor start`)')
      const r = deps.node.shutdown(a.graceSeconds)
      deps.events.emit('status:changed', node.status())
      return r
    }
  }
}
