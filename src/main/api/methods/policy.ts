/** `policy.*`: the current policy and its history, validation, and saving a new version. */
import { ApiError, type PolicyValidationView } from '../../../shared/api/index.js'
import { policyView } from '../convert.js'
import type { ApiContext } from '../context.js'
import type { Handlers, MethodsOf } from './types.js'

/** "Most work per job (maxFuel): must be …; …" — named by the field's label, with its path. */
export const policyIssues = (errors: PolicyValidationView['errors']): string => errors.map((e) => `${e.label !== undefined && e.label !== e.path ? `${e.label} (${e.path})` : e.path}: ${e.message}`).join('; ')

export function policyHandlers ({ deps, store }: ApiContext): Handlers<MethodsOf<'policy'>> {
  return {
    'policy.get': () => {
      const cur = store.currentPolicy()
      return { current: cur === undefined ? null : policyView(cur), history: store.policyHistory({ limit: 20 }).map(policyView) }
    },
    'policy.validate': (a) => deps.policy.validate(a.policy),
    'policy.save': (a) => {
      const v = deps.policy.validate(a.policy)
      if (!v.ok) throw new ApiError('BadRequest', `policy.save: invalid policy: ${policyIssues(v.errors)}`)
      const version = deps.policy.save !== undefined ? deps.policy.save(a.policy, a.note) : store.savePolicy(a.policy, a.note)
      if (deps.policy.save === undefined) deps.policy.activate?.(version, a.policy)
      deps.events.emit('policy:saved', { version })
      const cur = store.currentPolicy()
      if (cur === undefined) throw new ApiError('Internal', 'policy was not stored')
      return policyView(cur)
    }
  }
}
