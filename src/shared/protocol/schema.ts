/**
 * Schema checks for the eight V1 structs and the receipt (wire profile sections 2, 6). A check
 * turns a decoded CBOR map into the typed body: required fields present with the right CBOR type
 * and a well-formed value, optional `null` treated as absent, unknown keys kept untouched.
 * Every failure is a ProtocolError('Malformed') naming the field.
 */
import { CID } from 'multiformats/cid'
import { ProtocolError } from './errors.js'
import { isDidSyntax } from './identity.js'
import { cidCodecOf, RAW_CODEC, DAG_CBOR_CODEC } from './cid.js'
import { parseResources } from './resources.js'
import { parseDuration, parseTimestamp } from './time.js'
import { isValidRegion } from './region.js'
import {
  FAILURE_REASONS, P2P_JOB_STATUSES, QOS_PROFILES, RECEIPT_STATUSES, RECEIPT_VARIANT,
  type CborMap, type CborValue, type Variant
} from './types.js'

type FieldType =
  | 'string' | 'id' | 'description' | 'did' | 'peerId' | 'uint' | 'count' | 'bool' | 'bytes' | 'signature'
  | 'timestamp' | 'duration' | 'rawCid' | 'dagCborCid' | 'anyCid' | 'region' | 'stringList' | 'resources'
  | 'jobParams' | 'executionPolicy' | 'resourceUsage' | 'p2pStatus' | 'receiptStatus' | 'failureReason' | 'qos'
  | 'permille' | 'percent'

/** [field name, type, required] */
type FieldSpec = readonly [string, FieldType, boolean]

const MAX_STRING = 4096
const MAX_ID = 256
const MAX_DESCRIPTION = 1024
const MAX_LIST = 256
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/
const utf8 = new TextEncoder()

export const SCHEMAS: Record<Variant | typeof RECEIPT_VARIANT, readonly FieldSpec[]> = {
  CapabilityAdvertisementV1: [
    ['node_did', 'did', true], ['peer_id', 'peerId', true], ['alias', 'string', false], ['region', 'region', false],
    ['supported_runtimes', 'stringList', true], ['available_resources', 'resources', true],
    ['specialized_features', 'stringList', true], ['timestamp', 'timestamp', true], ['attestation_cid', 'anyCid', false],
    ['signature', 'signature', true]
  ],
  JobAnnouncementV1: [
    ['announcement_id', 'id', true], ['originator_did', 'did', true], ['job_params', 'jobParams', true],
    ['timestamp', 'timestamp', true], ['bidding_duration', 'duration', false], ['signature', 'signature', true]
  ],
  JobBidV1: [
    ['announcement_id', 'id', true], ['executor_did', 'did', true], ['executor_peer_id', 'peerId', true],
    ['price', 'uint', false], ['region', 'region', false], ['timestamp', 'timestamp', true], ['signature', 'signature', true]
  ],
  AssignJobV1: [
    ['announcement_id', 'id', true], ['originator_did', 'did', true], ['executor_did', 'did', true],
    ['timestamp', 'timestamp', true], ['signature', 'signature', true]
  ],
  JobStatusUpdateV1: [
    ['announcement_id', 'id', true], ['executor_did', 'did', true], ['p2p_job_status', 'p2pStatus', true],
    ['details', 'string', false], ['timestamp', 'timestamp', true], ['signature', 'signature', true]
  ],
  ExecutionReceiptAvailableV1: [
    ['announcement_id', 'id', true], ['originator_did', 'did', true], ['executor_did', 'did', true],
    ['receipt_cid', 'dagCborCid', true], ['timestamp', 'timestamp', true], ['signature', 'signature', true]
  ],
  JobInteractiveInputV1: [
    ['originator_did', 'did', true], ['executor_did', 'did', true], ['input_id', 'id', true],
    ['announcement_id', 'id', true], ['sequence_number', 'count', true], ['is_final', 'bool', true],
    ['timestamp', 'timestamp', true], ['data', 'bytes', true], ['signature', 'signature', true]
  ],
  JobInteractiveOutputV1: [
    ['executor_did', 'did', true], ['originator_did', 'did', true], ['output_id', 'id', true],
    ['announcement_id', 'id', true], ['sequence_number', 'count', true], ['is_final', 'bool', true],
    ['timestamp', 'timestamp', true], ['data', 'bytes', true], ['signature', 'signature', true]
  ],
  ExecutionReceiptV1: [
    ['announcement_id', 'id', true], ['originator_did', 'did', true], ['executor_did', 'did', true],
    ['wasm_cid', 'rawCid', true], ['input_data_cid', 'rawCid', false], ['output_cid', 'rawCid', false],
    ['status', 'receiptStatus', true], ['failure_reason', 'failureReason', false], ['fuel_used', 'uint', true],
    ['resource_usage', 'resourceUsage', true], ['price', 'uint', false], ['runtime', 'string', true],
    ['started_at', 'timestamp', true], ['finished_at', 'timestamp', true], ['signature', 'signature', true]
  ]
}

const JOB_PARAMS: readonly FieldSpec[] = [
  ['wasm_cid', 'rawCid', true], ['input_data_cid', 'rawCid', false], ['description', 'description', true],
  ['resources_required', 'resources', true], ['max_fuel', 'uint', true], ['timeout_seconds', 'count', true],
  ['is_interactive', 'bool', true], ['qos_profile', 'qos', true], ['deadline', 'timestamp', false],
  ['execution_policy', 'executionPolicy', false]
]

const EXECUTION_POLICY: readonly FieldSpec[] = [
  ['region_filter', 'region', false], ['max_price', 'uint', false], ['min_reputation', 'percent', false],
  ['rep_weight', 'permille', true], ['price_weight', 'permille', true]
]

const RESOURCE_USAGE: readonly FieldSpec[] = [
  ['wall_ms', 'count', true], ['peak_memory_bytes', 'count', true], ['output_bytes', 'count', true]
]

/** Fields whose value names a DID, per variant: [signer field, other DID fields...]. */
export const SIGNER_FIELD: Record<Variant | typeof RECEIPT_VARIANT, string> = {
  CapabilityAdvertisementV1: 'node_did',
  JobAnnouncementV1: 'originator_did',
  JobBidV1: 'executor_did',
  AssignJobV1: 'originator_did',
  JobStatusUpdateV1: 'executor_did',
  ExecutionReceiptAvailableV1: 'executor_did',
  JobInteractiveInputV1: 'originator_did',
  JobInteractiveOutputV1: 'executor_did',
  ExecutionReceiptV1: 'executor_did'
}

/** Fields that MUST equal the PeerId derived from the signer DID. */
export const PEER_ID_FIELDS: Partial<Record<Variant, string>> = {
  CapabilityAdvertisementV1: 'peer_id',
  JobBidV1: 'executor_peer_id'
}

function bad (path: string, want: string): never {
  throw new ProtocolError('Malformed', `field ${path}: ${want}`)
}

function isMap (v: CborValue | undefined): v is CborMap {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v) && CID.asCID(v) === null
}

function isUint (v: CborValue): boolean {
  return (typeof v === 'number' && v >= 0) || (typeof v === 'bigint' && v >= 0n)
}

function checkString (v: CborValue, path: string, maxBytes: number): string {
  if (typeof v !== 'string') bad(path, 'must be a text string')
  const s = v as string
  // UTF-8 length ≤ 3 × UTF-16 length, so only measure when it could exceed the limit
  if (s.length * 3 > maxBytes && utf8.encode(s).length > maxBytes) bad(path, `longer than ${maxBytes} bytes`)
  return s
}

function oneOf (v: CborValue, path: string, allowed: readonly string[]): void {
  if (typeof v !== 'string' || !allowed.includes(v)) bad(path, `must be one of ${allowed.join(', ')}`)
}

function checkField (v: CborValue, type: FieldType, path: string): CborValue {
  switch (type) {
    case 'string': return checkString(v, path, MAX_STRING)
    case 'id': {
      const s = checkString(v, path, MAX_ID)
      if (s.length === 0) bad(path, 'must not be empty')
      return s
    }
    case 'description': return checkString(v, path, MAX_DESCRIPTION)
    case 'did': {
      const s = checkString(v, path, 2048)
      if (!isDidSyntax(s)) bad(path, 'must be a DID (did:<method>:<id>)')
      return s
    }
    case 'peerId': {
      const s = checkString(v, path, 128)
      if (!PEER_ID.test(s)) bad(path, 'must be a base58 libp2p PeerId')
      return s
    }
    case 'uint': if (!isUint(v)) bad(path, 'must be an unsigned integer'); return v
    case 'count': if (typeof v !== 'number' || v < 0) bad(path, 'must be an unsigned integer below 2^53'); return v
    case 'percent': if (typeof v !== 'number' || v < 0 || v > 100) bad(path, 'must be an integer 0–100'); return v
    case 'permille': if (typeof v !== 'number' || v < 0 || v > 1000) bad(path, 'must be an integer 0–1000'); return v
    case 'bool': if (typeof v !== 'boolean') bad(path, 'must be a boolean'); return v
    case 'bytes': if (!(v instanceof Uint8Array)) bad(path, 'must be a byte string'); return v
    case 'signature': if (!(v instanceof Uint8Array)) bad(path, 'must be a byte string (64-byte Ed25519 signature)'); return v
    case 'timestamp': {
      const s = checkString(v, path, 64)
      try { parseTimestamp(s) } catch { bad(path, 'must be an RFC 3339 UTC timestamp ending in Z') }
      return s
    }
    case 'duration': {
      const s = checkString(v, path, 64)
      try { parseDuration(s) } catch { bad(path, 'must be an ISO 8601 duration like PT30S') }
      return s
    }
    case 'rawCid': {
      const s = checkString(v, path, 200)
      if (cidCodecOf(s) !== RAW_CODEC) bad(path, 'must be a CIDv1 raw sha2-256 base32 string (bafkrei…)')
      return s
    }
    case 'dagCborCid': {
      const s = checkString(v, path, 200)
      if (cidCodecOf(s) !== DAG_CBOR_CODEC) bad(path, 'must be a CIDv1 dag-cbor sha2-256 base32 string (bafyrei…)')
      return s
    }
    case 'anyCid': {
      const s = checkString(v, path, 200)
      try { CID.parse(s) } catch { bad(path, 'must be a CID string') }
      return s
    }
    case 'region': {
      if (typeof v !== 'string' || !isValidRegion(v)) bad(path, 'must be a region name: lowercase [a-z0-9-], 1–63 characters')
      return v
    }
    case 'stringList': {
      if (!Array.isArray(v)) bad(path, 'must be an array of strings')
      const arr = v as CborValue[]
      if (arr.length > MAX_LIST) bad(path, `more than ${MAX_LIST} entries`)
      arr.forEach((x, i) => checkString(x, `${path}[${i}]`, 256))
      return arr
    }
    case 'resources': {
      if (!isMap(v)) bad(path, 'must be a map of resource name to quantity string')
      const m = v as CborMap
      const keys = Object.keys(m)
      if (keys.length > MAX_LIST) bad(path, `more than ${MAX_LIST} entries`)
      for (const k of keys) if (typeof m[k] !== 'string') bad(`${path}.${k}`, 'must be a quantity string')
      try {
        parseResources(m as Record<string, string>)
      } catch (err) {
        bad(path, (err as Error).message)
      }
      return m
    }
    case 'jobParams': return checkStruct(v, JOB_PARAMS, path)
    case 'executionPolicy': return checkStruct(v, EXECUTION_POLICY, path)
    case 'resourceUsage': return checkStruct(v, RESOURCE_USAGE, path)
    case 'p2pStatus': oneOf(v, path, P2P_JOB_STATUSES); return v
    case 'receiptStatus': oneOf(v, path, RECEIPT_STATUSES); return v
    case 'failureReason': oneOf(v, path, FAILURE_REASONS); return v
    case 'qos': oneOf(v, path, QOS_PROFILES); return v
  }
}

/**
 * Checks a struct and returns the typed body: the input itself when nothing needs to change, else
 * a copy with every key of the input (unknown keys too) except optional fields that were `null`.
 * Treat bodies as read-only: `raw` (what the signature covers) may be the same object.
 */
export function checkStruct (v: CborValue | undefined, fields: readonly FieldSpec[], path: string): CborMap {
  if (!isMap(v)) bad(path, 'must be a map')
  const input = v as CborMap
  // copy only when something changes (an optional null to drop, a nested struct rebuilt): most
  // messages pass through without allocating a second map
  let out: CborMap | undefined
  for (const [name, type, required] of fields) {
    const value = input[name]
    if (value === undefined || value === null) {
      if (required) bad(`${path}.${name}`, 'is required')
      if (value === null) {
        out ??= { ...input }
        delete out[name]
      }
      continue
    }
    const checked = checkField(value, type, `${path}.${name}`)
    if (checked !== value) {
      out ??= { ...input }
      out[name] = checked
    }
  }
  return out ?? input
}

/** Checks one struct of a variant (or of the receipt) and applies cross-field rules. */
export function checkVariant (variant: Variant | typeof RECEIPT_VARIANT, struct: CborValue | undefined): CborMap {
  const body = checkStruct(struct, SCHEMAS[variant], variant)
  if (variant === RECEIPT_VARIANT) {
    const hasReason = body.failure_reason !== undefined
    if ((body.status === 'CompletedSuccessfully') === hasReason) {
      bad(`${variant}.failure_reason`, 'must be present exactly when status is not CompletedSuccessfully')
    }
  }
  return body
}
