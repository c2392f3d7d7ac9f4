/**
 * Types of the eight V1 mesh messages and of the execution receipt, exactly as
 * `mesh-wire-profile-v1.md` (sections 2, 3, 6) fixes them. Field names are the
 * RFC's snake_case names because they are the CBOR map keys on the wire.
 */

import type { CID } from 'multiformats/cid'

/** A CBOR data item as this codec models it (DAG-CBOR subset, no floats). */
export type CborValue =
  | null
  | boolean
  | number // integers only (safe range)
  | bigint // integers outside the safe range
  | string
  | Uint8Array
  | CborValue[]
  | CborMap
  | CID

/** A CBOR map with text keys. Created with a null prototype by the decoder. */
export interface CborMap { [key: string]: CborValue }

export const VARIANTS = [
  'CapabilityAdvertisementV1',
  'JobAnnouncementV1',
  'JobBidV1',
  'AssignJobV1',
  'JobStatusUpdateV1',
  'ExecutionReceiptAvailableV1',
  'JobInteractiveInputV1',
  'JobInteractiveOutputV1'
] as const
export type Variant = (typeof VARIANTS)[number]

/** Name under which the full execution receipt is signed and stored. */
export const RECEIPT_VARIANT = 'ExecutionReceiptV1'

/** Rejection reason codes (profile section 8), including the section 7 failure codes. */
export const REJECTION_REASONS = [
  'Malformed', 'UnsupportedDid', 'BadSignature', 'PeerMismatch', 'Stale', 'FromFuture', 'Replay',
  'TooLarge', 'RateLimited', 'UnknownVariant', 'UnknownJob', 'NotAssignedToYou', 'NotYourJob',
  'WrongState', 'PolicyRejected'
] as const
/** Execution failure codes (profile section 7). */
export const FAILURE_REASONS = [
  'FuelExhausted', 'Timeout', 'MemoryLimit', 'OutputLimit', 'Trap', 'InvalidModule', 'CidMismatch',
  'FetchFailed', 'Cancelled', 'InternalError'
] as const
export type FailureReason = (typeof FAILURE_REASONS)[number]
export type ReasonCode = (typeof REJECTION_REASONS)[number] | FailureReason

export const QOS_PROFILES = ['BestEffort', 'LowLatency', 'CostOptimized', 'GuaranteedCompletion'] as const
export type QosProfile = (typeof QOS_PROFILES)[number]

export const P2P_JOB_STATUSES = [
  'Accepted', 'FetchingInputs', 'Running', 'AwaitingInput', 'Completed', 'Failed', 'Cancelled'
] as const
export type P2PJobStatus = (typeof P2P_JOB_STATUSES)[number]

export const RECEIPT_STATUSES = ['CompletedSuccessfully', 'Failed', 'Cancelled'] as const
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number]

/** Resource name → quantity string, e.g. {"CPU": "4c", "RAM": "8GiB"} (profile 6.1). */
export type ResourceMap = Record<string, string>

/** Every message and receipt struct may carry unknown keys; they are kept and signed. */
export interface Signed {
  signature: Uint8Array
}

export interface ExecutionPolicy {
  region_filter?: string
  max_price?: number | bigint
  /** 0–100 */
  min_reputation?: number
  /** per-mille 0–1000 */
  rep_weight: number
  /** per-mille 0–1000 */
  price_weight: number
}

export interface MeshJobParams {
  wasm_cid: string
  input_data_cid?: string
  description: string
  resources_required: ResourceMap
  max_fuel: number | bigint
  timeout_seconds: number
  is_interactive: boolean
  qos_profile: QosProfile
  deadline?: string
  execution_policy?: ExecutionPolicy
}

export interface CapabilityAdvertisementV1 extends Signed {
  node_did: string
  peer_id: string
  alias?: string
  region?: string
  supported_runtimes: string[]
  available_resources: ResourceMap
  specialized_features: string[]
  timestamp: string
  attestation_cid?: string
}

export interface JobAnnouncementV1 extends Signed {
  announcement_id: string
  originator_did: string
  job_params: MeshJobParams
  timestamp: string
  /** ISO 8601 duration, default PT30S */
  bidding_duration?: string
}

export interface JobBidV1 extends Signed {
  announcement_id: string
  executor_did: string
  executor_peer_id: string
  price?: number | bigint
  region?: string
  timestamp: string
}

export interface AssignJobV1 extends Signed {
  announcement_id: string
  originator_did: string
  executor_did: string
  timestamp: string
}

export interface JobStatusUpdateV1 extends Signed {
  announcement_id: string
  executor_did: string
  p2p_job_status: P2PJobStatus
  details?: string
  timestamp: string
}

export interface ExecutionReceiptAvailableV1 extends Signed {
  announcement_id: string
  originator_did: string
  executor_did: string
  receipt_cid: string
  timestamp: string
}

export interface JobInteractiveInputV1 extends Signed {
  originator_did: string
  executor_did: string
  input_id: string
  announcement_id: string
  sequence_number: number
  is_final: boolean
  timestamp: string
  data: Uint8Array
}

export interface JobInteractiveOutputV1 extends Signed {
  executor_did: string
  originator_did: string
  output_id: string
  announcement_id: string
  sequence_number: number
  is_final: boolean
  timestamp: string
  data: Uint8Array
}

export interface ResourceUsage {
  wall_ms: number
  peak_memory_bytes: number
  output_bytes: number
}

export interface ExecutionReceiptV1 extends Signed {
  announcement_id: string
  originator_did: string
  executor_did: string
  wasm_cid: string
  input_data_cid?: string
  output_cid?: string
  status: ReceiptStatus
  failure_reason?: FailureReason
  fuel_used: number | bigint
  resource_usage: ResourceUsage
  price?: number | bigint
  runtime: string
  started_at: string
  finished_at: string
}

export interface VariantBodies {
  CapabilityAdvertisementV1: CapabilityAdvertisementV1
  JobAnnouncementV1: JobAnnouncementV1
  JobBidV1: JobBidV1
  AssignJobV1: AssignJobV1
  JobStatusUpdateV1: JobStatusUpdateV1
  ExecutionReceiptAvailableV1: ExecutionReceiptAvailableV1
  JobInteractiveInputV1: JobInteractiveInputV1
  JobInteractiveOutputV1: JobInteractiveOutputV1
}

/** A body to sign: the struct without its signature (unknown extra keys allowed). */
export type Unsigned<T extends Signed> = Omit<T, 'signature'>

/** A decoded, schema-checked message. `raw` is the received struct map (all keys, unknown ones too). */
export type MeshMessage = {
  [V in Variant]: { variant: V, body: VariantBodies[V], raw: CborMap, signer: string }
}[Variant]

export type MessageOf<V extends Variant> = Extract<MeshMessage, { variant: V }>
