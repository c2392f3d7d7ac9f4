/** Builds and signs our CapabilityAdvertisementV1 (what the owner offers, caps applied). */
import {
  formatTimestamp, signMessage,
  type CapabilityAdvertisementV1, type Identity, type MessageOf, type Unsigned
} from '../../shared/protocol/index.js'
import { applyCaps, offerToResourceMap, type Hardware, type Offer, type ResourceCaps } from './offer.js'

/**
 * The execution model's runtime id (wire profile section 7: WASI preview1 command, fuel per the
 * profile). Every V1 executor advertises it; the daemon also lists its engine (`wasmtime-<version>`,
 * from `Sandbox.runtimeIds()`) and writes this id into receipts.
 */
export const WASM_RUNTIME_ID = 'wasi-p1-fuel-v1'

export interface CapabilityAdInput {
  identity: Identity
  hardware: Hardware
  caps?: ResourceCaps
  region?: string
  alias?: string
  runtimes?: readonly string[]
  features?: readonly string[]
  now?: number
}

export interface CapabilityAd {
  bytes: Uint8Array
  message: MessageOf<'CapabilityAdvertisementV1'>
  offer: Offer
}

export function buildCapabilityAd (input: CapabilityAdInput): CapabilityAd {
  const offer = applyCaps(input.hardware, input.caps)
  const unsigned: Unsigned<CapabilityAdvertisementV1> = {
    node_did: input.identity.did,
    peer_id: input.identity.peerId,
    supported_runtimes: [...(input.runtimes ?? [WASM_RUNTIME_ID])],
    available_resources: offerToResourceMap(offer),
    specialized_features: [...(input.features ?? [])],
    timestamp: formatTimestamp(input.now ?? Date.now())
  }
  if (input.region !== undefined) unsigned.region = input.region
  if (input.alias !== undefined) unsigned.alias = input.alias
  const { bytes, message } = signMessage('CapabilityAdvertisementV1', unsigned, input.identity)
  return { bytes, message, offer }
}
