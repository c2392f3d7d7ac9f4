import { fail, pass, shortDid, type RuleDef } from './rule.js'

export const originator: RuleDef<'originator'> = {
  id: 'originator',
  evaluate: ({ a, policy }) => {
    const orig = a.originator_did
    const allowed = policy.allowedOriginators
    if (policy.blockedOriginators.includes(orig)) return fail(`${shortDid(orig)} is blocked`)
    if (allowed.length > 0 && !allowed.includes(orig)) return fail(`${shortDid(orig)} not in allowed list (${allowed.length} entr${allowed.length === 1 ? 'y' : 'ies'})`)
    return pass(allowed.length > 0 ? `${shortDid(orig)} is in the allowed list` : `${shortDid(orig)} not blocked`)
  }
}
