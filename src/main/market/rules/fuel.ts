import { fail, pass, type RuleDef } from './rule.js'

export const fuel: RuleDef<'fuel'> = {
  id: 'fuel',
  evaluate: ({ policy, fuel: f }) => {
    if (policy.maxFuel === undefined) return pass(`job max_fuel ${f}, no limit`)
    return f > policy.maxFuel ? fail(`job max_fuel ${f} > our max ${policy.maxFuel}`) : pass(`job max_fuel ${f} ≤ our max ${policy.maxFuel}`)
  }
}
