/**
 * Settings of a running daemon: the store's settings (defaults: what the daemon started with), with
 * the resource caps read from and written to the policy's offer (a new policy version only when they change).
 */
import { policyToJson } from '../market/index.js'
import type { Daemon } from '../daemon/index.js'
import type { JsonObject, SettingsPatch } from '../../shared/api/index.js'
import type { SettingsBackend, SettingsBase } from './deps.js'
import { createStoreSettings } from './settings.js'

/** The caps in force: the policy's offer, else what the daemon offers. */
function withCaps (daemon: Daemon, v: SettingsBase): SettingsBase {
  const { policy } = daemon.policy()
  const offer = daemon.offer()
  return {
    ...v,
    caps: {
      cpu: policy.offer.cpuCores ?? offer.cpu,
      ramBytes: policy.offer.ramBytes ?? offer.ramBytes,
      diskBytes: policy.offer.diskBytes ?? offer.diskBytes ?? null,
      maxConcurrentJobs: policy.maxConcurrentJobs
    },
    restartRequired: ['region', 'listenAddrs', 'bootstrapPeers', 'dataDir']
  }
}

/** The caps are the policy's offer: a new version only when they change. */
function saveCaps (daemon: Daemon, caps: NonNullable<SettingsPatch['caps']>): void {
  const p = policyToJson(daemon.policy().policy) as JsonObject
  const before = JSON.stringify([p.offer, p.maxConcurrentJobs])
  const offer = (typeof p.offer === 'object' && p.offer !== null && !Array.isArray(p.offer) ? { ...p.offer } : {}) as JsonObject
  const put = (k: string, x: number | null | undefined): void => { if (x === null) delete offer[k]; else if (x !== undefined) offer[k] = x }
  put('cpuCores', caps.cpu)
  put('ramBytes', caps.ramBytes)
  put('diskBytes', caps.diskBytes)
  p.offer = offer
  if (caps.maxConcurrentJobs !== undefined && caps.maxConcurrentJobs !== null) p.maxConcurrentJobs = caps.maxConcurrentJobs
  if (JSON.stringify([p.offer, p.maxConcurrentJobs]) !== before) daemon.setPolicy(p, 'resource limits from Settings')
}

export function createDaemonSettings (daemon: Daemon): SettingsBackend {
  const base = createStoreSettings(daemon.store, {
    dataDir: daemon.dataDir,
    region: daemon.region ?? null,
    // what it was started with (0.0.0.0, port 0), not what that resolved to: saved, the resolved
    // addresses would pin the node to this run's interface addresses and port
    listenAddrs: daemon.listen(),
    bootstrapPeers: daemon.bootstrap().configured,
    caps: { cpu: null, ramBytes: null, diskBytes: null, maxConcurrentJobs: null },
    startAtLogin: false,
    startMinimized: false
  })
  return {
    get: () => withCaps(daemon, base.get()),
    update (patch) {
      const { caps, ...rest } = patch
      const v = base.update(rest)
      if (caps !== undefined) saveCaps(daemon, caps)
      return withCaps(daemon, v)
    }
  }
}
