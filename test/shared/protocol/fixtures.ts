/** Shared builders for protocol tests: a valid unsigned body for each variant. */
import {
  formatTimestamp, rawCid, type Identity, type Unsigned, type Variant, type VariantBodies
} from '../../../src/shared/protocol/index.js'

export function unsignedFor<V extends Variant> (variant: V, signer: Identity, other: Identity, now: number): Unsigned<VariantBodies[V]> {
  const ts = formatTimestamp(now)
  const wasm = rawCid(new Uint8Array([0, 97, 115, 109]))
  const bodies: { [K in Variant]: Unsigned<VariantBodies[K]> } = {
    CapabilityAdvertisementV1: { node_did: signer.did, peer_id: signer.peerId, region: 'us-east', supported_runtimes: ['wasi'], available_resources: { CPU: '2c', RAM: '1GiB' }, specialized_features: [], timestamp: ts },
    JobAnnouncementV1: { announcement_id: `a-${now}`, originator_did: signer.did, timestamp: ts, job_params: { wasm_cid: wasm, description: 'x', resources_required: { CPU: '1c' }, max_fuel: 1000, timeout_seconds: 10, is_interactive: false, qos_profile: 'BestEffort' } },
    JobBidV1: { announcement_id: 'a', executor_did: signer.did, executor_peer_id: signer.peerId, price: 3, timestamp: ts },
    AssignJobV1: { announcement_id: 'a', originator_did: signer.did, executor_did: other.did, timestamp: ts },
    JobStatusUpdateV1: { announcement_id: 'a', executor_did: signer.did, p2p_job_status: 'Accepted', timestamp: ts },
    ExecutionReceiptAvailableV1: { announcement_id: 'a', originator_did: other.did, executor_did: signer.did, receipt_cid: 'bafyreid7swxmlswbaq5scb3pnslgcgmiyj6osmsibfgtyuv67hwcm6dlbi', timestamp: ts },
    JobInteractiveInputV1: { originator_did: signer.did, executor_did: other.did, input_id: 'i0', announcement_id: 'a', sequence_number: 0, is_final: false, timestamp: ts, data: new Uint8Array([1]) },
    JobInteractiveOutputV1: { executor_did: signer.did, originator_did: other.did, output_id: 'o0', announcement_id: 'a', sequence_number: 0, is_final: true, timestamp: ts, data: new Uint8Array([2]) }
  }
  return bodies[variant] as Unsigned<VariantBodies[V]>
}
