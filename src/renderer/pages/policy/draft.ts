/**
 * The policy being edited: the draft (plain JSON, as validatePolicy and policy.save take it), the version
 * it started from, and the hooks every control registers — a sync that re-reads the draft into the
 * control, and for each field the slot its errors are shown in.
 */
import type { Json, JsonObject, OfferView } from '../../../shared/api/contract.js'
import type { Policy } from '../../../shared/policy/types.js'

export type Key = keyof Policy

export interface PolicyDraft {
  draft: JsonObject
  saved: JsonObject
  /** What this machine has and offers now (limits and hints of the offer fields), if the node reports it. */
  readonly machine: OfferView | null
  /** Each control's sync: re-reads the draft into it. */
  readonly syncs: Array<() => void>
  /** Where each field's errors are shown. */
  readonly slots: Map<Key, HTMLElement>
  /** Called after every edit: 'form' when a control changed the draft, 'json' when the draft was replaced. */
  changed: (from: 'form' | 'json') => void
}

export function createDraft (saved: JsonObject, machine: OfferView | null): PolicyDraft {
  return { draft: structuredClone(saved), saved, machine, syncs: [], slots: new Map(), changed: () => {} }
}

export const isObj = (v: Json | undefined): v is JsonObject => v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v)
export const obj = (v: Json | undefined): JsonObject => isObj(v) ? v : {}
export const numOrStr = (s: string): Json => { const n = Number(s); return Number.isSafeInteger(n) ? n : s }

/** Sets a top-level field (undefined: leaves it out). */
export function setKey (f: PolicyDraft, k: string, v: Json | undefined): void {
  if (v === undefined) delete f.draft[k]; else f.draft[k] = v
}
/** Sets one part of a composite field (undefined: leaves the part out). */
export function setSub (f: PolicyDraft, k: string, sub: string, v: Json | undefined): void {
  const o = { ...obj(f.draft[k]) }
  if (v === undefined) delete o[sub]; else o[sub] = v
  f.draft[k] = o
}
/** Re-reads the draft into every control. */
export function syncAll (f: PolicyDraft): void {
  f.syncs.forEach((s) => { s() })
}
