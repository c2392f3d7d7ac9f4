import type { JobAnnouncementV1, MeshJobParams } from '../../../src/shared/protocol/index.js'
import type { Offer } from '../../../src/main/probe/offer.js'
import type { DecisionContext, DecisionSources } from '../../../src/main/market/index.js'

/** Wed 2026-11-25 10:00:00 UTC */
export const T = Date.UTC(2026, 10, 25, 10, 0, 0)
export const ORIG = 'did:key:z6MkOriginator'
export const RUNTIME = 'wasi-p1-fuel-v1'

export const OFFER: Offer = { cpu: 2, ramBytes: 4 * 1024 ** 3, diskBytes: 100 * 1024 ** 3, gpus: { GPU_NVIDIA_RTX_4090: 1 } }

export function announcement (over: Partial<Omit<JobAnnouncementV1, 'job_params'>> = {}, params: Partial<MeshJobParams> = {}): JobAnnouncementV1 {
  return {
    announcement_id: 'ann-1',
    originator_did: ORIG,
    timestamp: new Date(T - 5000).toISOString(),
    signature: new Uint8Array(64),
    ...over,
    job_params: {
      wasm_cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
      description: 'test job',
      resources_required: { CPU: '1c', RAM: '512MiB' },
      max_fuel: 3_000_000,
      timeout_seconds: 60,
      is_interactive: false,
      qos_profile: 'BestEffort',
      execution_policy: { max_price: 100, rep_weight: 500, price_weight: 500 },
      ...params
    }
  }
}

export function context (over: Partial<DecisionContext> = {}): DecisionContext {
  return { now: T, offer: OFFER, runtimes: [RUNTIME], activeJobs: 0, ourRegion: 'eu-west', ...over }
}

/** Decision sources for the simulator: the same fixed facts as context(). */
export function sources (over: Partial<DecisionSources> = {}): DecisionSources {
  return {
    offer: () => OFFER,
    runtimes: () => [RUNTIME],
    activeJobs: () => 0,
    region: () => 'eu-west',
    originatorRecord: () => undefined,
    alreadyBid: () => false,
    ...over
  }
}
