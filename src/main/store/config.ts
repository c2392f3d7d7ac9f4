/** The store's settings, identity reference and policy versions. */
import { StoreError } from './errors.js'
import { limits, num, toPolicy } from './sql.js'
import type { ConfigStore, JsonValue } from './types.js'
import type { Sql } from './sql.js'

export function createConfigStore (sql: Sql): ConfigStore {
  const { one, all, run, tx, clock } = sql
  return {
    getSetting (key) {
      const r = one('SELECT value_json FROM settings WHERE key = ?', key)
      return r === undefined ? undefined : JSON.parse(String(r.value_json)) as JsonValue
    },
    setSetting (key, value) {
      const json = JSON.stringify(value)
      if (json === undefined) throw new StoreError('BadValue', `setting ${key}: value is not JSON`)
      tx(() => run('INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at', key, json, clock()))
    },
    allSettings () {
      const out: Record<string, JsonValue> = {}
      for (const r of all('SELECT key, value_json FROM settings ORDER BY key')) out[String(r.key)] = JSON.parse(String(r.value_json)) as JsonValue
      return out
    },
    setIdentityRef (ref) {
      tx(() => run('INSERT OR REPLACE INTO identity_ref (id, key_path, did, peer_id, updated_at) VALUES (1, ?, ?, ?, ?)', ref.keyPath, ref.did, ref.peerId, clock()))
    },
    getIdentityRef () {
      const r = one('SELECT * FROM identity_ref WHERE id = 1')
      return r === undefined ? undefined : { keyPath: String(r.key_path), did: String(r.did), peerId: String(r.peer_id), updatedAt: num(r.updated_at) }
    },
    savePolicy (policy, note) {
      const json = JSON.stringify(policy)
      if (json === undefined) throw new StoreError('BadValue', 'policy is not JSON')
      return tx(() => {
        run('INSERT INTO policies (policy_json, note, created_at) VALUES (?, ?, ?)', json, note ?? null, clock())
        return num(one('SELECT last_insert_rowid() AS v')?.v)
      })
    },
    currentPolicy () {
      const r = one('SELECT * FROM policies ORDER BY version DESC LIMIT 1')
      return r === undefined ? undefined : toPolicy(r)
    },
    getPolicyVersion (version) {
      const r = one('SELECT * FROM policies WHERE version = ?', version)
      return r === undefined ? undefined : toPolicy(r)
    },
    policyHistory (o) {
      const [limit, offset] = limits(o)
      return all('SELECT * FROM policies ORDER BY version DESC LIMIT ? OFFSET ?', limit, offset).map(toPolicy)
    },
  }
}
