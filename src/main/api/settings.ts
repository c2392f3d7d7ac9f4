/**
 * A SettingsBackend over the store's key/value settings table. Keys: `region`, `listenAddrs`,
 * `bootstrapPeers`, `caps`, `startAtLogin`, `startMinimized`. Values missing from the store fall
 * back to `defaults` (what the daemon was started with).
 */
import type { JsonValue, Store } from '../store/index.js'
import type { ResourceCaps, SettingsPatch } from '../../shared/api/index.js'
import type { SettingsBackend, SettingsBase } from './deps.js'

export interface SettingsDefaults {
  dataDir: string
  region: string | null
  listenAddrs: string[]
  bootstrapPeers: string[]
  caps: ResourceCaps
  startAtLogin: boolean
  startMinimized: boolean
}

type Base = SettingsBase

const strList = (v: JsonValue | undefined): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined
const optNum = (v: JsonValue | undefined, d: number | null): number | null => (typeof v === 'number' ? v : v === null ? null : d)

export function createStoreSettings (store: Pick<Store, 'getSetting' | 'setSetting'>, defaults: SettingsDefaults,
  onChange?: (view: Base, patch: SettingsPatch) => void): SettingsBackend {
  const read = (): Base => {
    const region = store.getSetting('region')
    const caps = store.getSetting('caps')
    const c = caps !== null && typeof caps === 'object' && !Array.isArray(caps) ? caps : {}
    const login = store.getSetting('startAtLogin')
    const min = store.getSetting('startMinimized')
    return {
      dataDir: defaults.dataDir,
      region: typeof region === 'string' ? region : region === null ? null : defaults.region,
      listenAddrs: strList(store.getSetting('listenAddrs')) ?? defaults.listenAddrs,
      bootstrapPeers: strList(store.getSetting('bootstrapPeers')) ?? defaults.bootstrapPeers,
      caps: {
        cpu: optNum(c.cpu, defaults.caps.cpu),
        ramBytes: optNum(c.ramBytes, defaults.caps.ramBytes),
        diskBytes: optNum(c.diskBytes, defaults.caps.diskBytes),
        maxConcurrentJobs: optNum(c.maxConcurrentJobs, defaults.caps.maxConcurrentJobs)
      },
      startAtLogin: typeof login === 'boolean' ? login : defaults.startAtLogin,
      startMinimized: typeof min === 'boolean' ? min : defaults.startMinimized,
      restartRequired: ['listenAddrs', 'bootstrapPeers', 'dataDir']
    }
  }
  return {
    get: read,
    update (patch) {
      if (patch.region !== undefined) store.setSetting('region', patch.region)
      if (patch.listenAddrs !== undefined) store.setSetting('listenAddrs', patch.listenAddrs)
      if (patch.bootstrapPeers !== undefined) store.setSetting('bootstrapPeers', patch.bootstrapPeers)
      if (patch.caps !== undefined) {
        const cur = read().caps
        store.setSetting('caps', { ...cur, ...patch.caps })
      }
      if (patch.startAtLogin !== undefined) store.setSetting('startAtLogin', patch.startAtLogin)
      if (patch.startMinimized !== undefined) store.setSetting('startMinimized', patch.startMinimized)
      const view = read()
      onChange?.(view, patch)
      return view
    }
  }
}
