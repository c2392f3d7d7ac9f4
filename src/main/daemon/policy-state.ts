/**
 * The policy in force: the saved versions (a --policy file applied only when its content changed),
 * and the owner's runtime state (pause/snooze, auto-bid) kept apart from the versions and applied over them.
 */
import { createHash } from 'node:crypto'
import type { Store } from '../store/index.js'
import { DEFAULT_POLICY, parsePolicy, policyToJson, type Policy } from '../market/index.js'
import type { ActivePolicyInfo } from './types.js'

/**
 * What the owner toggles from the dashboard or the tray: a pause (snooze) and auto-bid on/off. Kept in
 * the store's settings (key `runtime`), applied over the policy in force, and never a policy version.
 * `pausedUntil: null` means "resumed" (over a policy's own pausedUntil); absent keys leave the policy's value.
 */
export interface RuntimeState { autoBid?: boolean, pausedUntil?: number | null }
const RUNTIME_SETTING = 'runtime'

/** The setting that remembers the last --policy content applied (so an unchanged file is not re-applied). */
const POLICY_FILE_SETTING = 'policyFile.lastApplied'

export interface Versioned { policy: Policy, version: number | undefined }

export interface PolicyState {
  /** The version in force (undefined: the built-in default). */
  current(): Versioned
  /** The version in force with the runtime state over it: what the auto-bidder applies. */
  effective(): Versioned
  info(): ActivePolicyInfo
  /** Validates and saves a new version (PolicyValidationError otherwise); true in `offerChanged` when the offer caps changed. */
  set(json: unknown, note?: string): { version: number, offerChanged: boolean }
  runtime(): RuntimeState
  setRuntime(patch: RuntimeState): void
}

function loadRuntimeState (store: Store): RuntimeState {
  const v = store.getSetting(RUNTIME_SETTING)
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return {}
  const out: RuntimeState = {}
  if (typeof v.autoBid === 'boolean') out.autoBid = v.autoBid
  if (v.pausedUntil === null || typeof v.pausedUntil === 'number') out.pausedUntil = v.pausedUntil
  return out
}

/** The policy with the owner's runtime state over it. */
export function withRuntimeState (p: Policy, r: RuntimeState): Policy {
  if (r.autoBid === undefined && r.pausedUntil === undefined) return p
  return { ...p, autoBid: r.autoBid ?? p.autoBid, pausedUntil: r.pausedUntil === undefined ? p.pausedUntil : r.pausedUntil ?? undefined }
}

/**
 * Applies a --policy file as a new version only when its (normalised) content differs from the
 * content last applied from a file; returns what it did. Validation errors throw PolicyValidationError.
 */
function applyPolicyFile (store: Store, json: unknown, file: string | undefined, at: number): { path: string, applied: boolean, appliedVersion: number } {
  const source = file ?? 'the policy given at start-up'
  const normalised = policyToJson(parsePolicy(json))
  const digest = createHash('sha256').update(JSON.stringify(normalised)).digest('hex')
  const last = store.getSetting(POLICY_FILE_SETTING)
  const lastRec = last !== null && typeof last === 'object' && !Array.isArray(last) ? last : undefined
  if (lastRec !== undefined && lastRec.digest === digest && typeof lastRec.version === 'number' && store.getPolicyVersion(lastRec.version) !== undefined) {
    return { path: source, applied: false, appliedVersion: lastRec.version }
  }
  const cur = store.currentPolicy()
  // the same content is already in force (e.g. first start after an upgrade): no new version
  const version = cur !== undefined && JSON.stringify(cur.policy) === JSON.stringify(normalised)
    ? cur.version
    : store.savePolicy(normalised, file !== undefined ? `from --policy ${file}` : 'given at start-up')
  store.setSetting(POLICY_FILE_SETTING, { digest, version, path: source, at })
  return { path: source, applied: version !== cur?.version, appliedVersion: version }
}

function loadPolicy (store: Store): Versioned {
  const row = store.currentPolicy()
  if (row === undefined) return { policy: DEFAULT_POLICY, version: undefined }
  return { policy: parsePolicy(row.policy), version: row.version }
}

/** Loads the policy state; `file` (a --policy file's JSON) becomes a version when its content changed. */
export function createPolicyState (store: Store, file: { json: unknown, source: string | undefined } | undefined, at: number): PolicyState {
  const fileResult = file !== undefined ? applyPolicyFile(store, file.json, file.source, at) : undefined
  let current = loadPolicy(store)
  // a --policy file that changed is the owner's new word: it also replaces earlier dashboard toggles
  if (fileResult?.applied === true) store.setSetting(RUNTIME_SETTING, {})
  let runtime = loadRuntimeState(store)
  return {
    current: () => current,
    effective: () => ({ policy: withRuntimeState(current.policy, runtime), version: current.version }),
    info: () => ({
      version: current.version,
      source: current.version === undefined ? 'built-in default' : store.getPolicyVersion(current.version)?.note ?? 'unknown',
      ...(fileResult !== undefined ? { file: fileResult } : {})
    }),
    set (json, note) {
      const policy = parsePolicy(json)
      const before = JSON.stringify(current.policy.offer)
      const version = store.savePolicy(policyToJson(policy), note)
      current = { policy, version }
      return { version, offerChanged: JSON.stringify(policy.offer) !== before }
    },
    runtime: () => ({ ...runtime }),
    setRuntime (patch) {
      runtime = { ...runtime, ...patch }
      store.setSetting(RUNTIME_SETTING, { ...runtime })
    }
  }
}

/** A list of strings the dashboard's Settings saved (listen addresses, bootstrap peers), if any. */
export function savedList (store: Store, key: string): string[] | undefined {
  const v = store.getSetting(key)
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? v as string[] : undefined
}
