/**
 * Policy JSON (on disk, in the store, from the API or a form) ↔ `Policy` (validated, defaults filled
 * in, token amounts as bigint). Every problem is reported with its JSON path and the field's label.
 * Driven entirely by the descriptors in fields.ts.
 */
import { FIELD_ORDER, FIELDS, isObj, nestsDeeperThan, type PolicyField } from './fields.js'
import type { Policy, PolicyError, PolicyJson, PolicyValidation } from './types.js'

/** Largest policy file or API body we read (a real policy is a few hundred bytes). */
export const MAX_POLICY_BYTES = 256 * 1024
/** Deepest nesting a policy may have (objects and arrays; the schema needs 3). */
export const MAX_POLICY_DEPTH = 8
/** Keys a policy file may carry besides the fields (ignored). */
const ANNOTATIONS = new Set(['$schema', 'comment'])

function defaults (): Policy {
  const p = {} as Record<keyof Policy, unknown>
  for (const k of FIELD_ORDER) p[k] = structuredClone(FIELDS[k].default)
  return p as unknown as Policy
}

/** The policy of a node nobody configured. */
export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze(defaults())

/** Validates a policy JSON value (already parsed). Every problem is reported with its path and label. */
export function validatePolicy (json: unknown): PolicyValidation {
  if (!isObj(json)) return { ok: false, errors: [{ path: '$', label: 'Policy', message: 'must be a JSON object' }] }
  if (nestsDeeperThan(json, MAX_POLICY_DEPTH)) return { ok: false, errors: [{ path: '$', label: 'Policy', message: `nests deeper than ${MAX_POLICY_DEPTH} levels` }] }
  const errors: PolicyError[] = []
  for (const k of Object.keys(json)) {
    if (!(k in FIELDS) && !ANNOTATIONS.has(k)) errors.push({ path: k, label: k, message: `unknown policy setting "${k}"` })
  }
  const p = defaults() as unknown as Record<keyof Policy, unknown>
  for (const key of FIELD_ORDER) {
    const raw = json[key]
    if (raw === undefined) continue
    const f = FIELDS[key] as PolicyField<typeof key>
    const value = f.parse(raw, (sub, message) => { errors.push({ path: `${key}${sub}`, label: f.label, message }) })
    if (value !== undefined || raw === null || raw === false) p[key] = value ?? structuredClone(f.default)
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy: p as unknown as Policy }
}

/** Like validatePolicy, but throws a PolicyValidationError listing every problem. */
export function parsePolicy (json: unknown): Policy {
  const r = validatePolicy(json)
  if (!r.ok) throw new PolicyValidationError(r.errors)
  return r.policy
}

export class PolicyValidationError extends Error {
  override name = 'PolicyValidationError'
  readonly code = 'InvalidPolicy'
  readonly errors: PolicyError[]
  constructor (errors: PolicyError[]) {
    // one line (a CLI error is one line): the whole policy's problems bare, a field's named by its label
    super(`invalid policy: ${errors.map((e) => e.path === '$' ? e.message : `${e.label} (${e.path}): ${e.message}`).join('; ')}`)
    this.errors = errors
  }
}

/** Policy → its JSON form (amounts above 2^53 as decimal strings), accepted back by validatePolicy. */
export function policyToJson (p: Policy): PolicyJson {
  const out: PolicyJson = {}
  for (const key of FIELD_ORDER) {
    const f = FIELDS[key] as PolicyField<typeof key>
    const j = f.toJson(p[key] as never)
    if (j !== undefined) out[key] = j
  }
  return out
}
