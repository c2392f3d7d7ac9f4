/** `settings.*`: the node's settings with its identity and live reachability, updates and their validation against the machine. */
import { ApiError, checkSettingsPatch } from '../../../shared/api/index.js'
import type { ApiContext } from '../context.js'
import type { Handlers, MethodsOf } from './types.js'

export function settingsHandlers (ctx: ApiContext): Handlers<MethodsOf<'settings'>> {
  const { deps } = ctx
  return {
    'settings.get': () => ({ ...deps.identity, ...deps.settings.get(), reachability: ctx.reachability() }),
    'settings.update': (a) => {
      const { errors } = checkSettingsPatch(a.patch, deps.node.machine?.())
      if (errors.length > 0) throw new ApiError('BadRequest', `settings.update: ${errors.map((e) => `${e.label}: ${e.message}`).join('; ')}`)
      return { ...deps.identity, ...deps.settings.update(a.patch), reachability: ctx.reachability() }
    },
    'settings.validate': (a) => {
      const { errors } = checkSettingsPatch(a.patch, deps.node.machine?.())
      return { ok: errors.length === 0, errors }
    }
  }
}
