/**
 * The validation pipeline every received message goes through, in this order (wire profile 2–5):
 *   decode (Malformed, TooLarge, UnknownVariant) → schema (Malformed) → DID/PeerId binding
 *   (UnsupportedDid, PeerMismatch) → signature (BadSignature) → freshness (Stale, FromFuture) → replay (Replay).
 * The clock, the freshness window and the replay memory are injectable.
 */
import { unreachable } from '../exhaustive.js'
import { decodeMessage, signedBytesOf } from './messages.js'
import { ProtocolError } from './errors.js'
import { peerIdFromDid, publicKeyFromDid, verifyForDid } from './identity.js'
import { ReplayCache } from './replay.js'
import { PEER_ID_FIELDS } from './schema.js'
import { parseTimestamp } from './time.js'
import type { MeshMessage, ReasonCode } from './types.js'
import { DEFAULT_MAX_BYTES } from './cbor.js'

export type ValidationResult =
  /** `replayKey`: the id remembered (or, with `deferReplay`, to remember via `commitReplay`) */
  | { ok: true, message: MeshMessage, replayKey?: string }
  | { ok: false, reason: ReasonCode, detail: string, variant?: string }

export interface ValidatorOptions {
  now?: () => number
  /** reject messages older than this (Stale). Default 5 minutes. */
  maxAgeMs?: number
  /** reject messages further in the future than this (FromFuture). Default 30 s. */
  maxFutureMs?: number
  /** replay memory; `false` disables the replay step. Default: a fresh ReplayCache. */
  replay?: ReplayCache | false
  /** size limit of one message. Default 1 MiB. */
  maxBytes?: number
  maxDepth?: number
}

export interface ValidationContext {
  /** PeerId of the authenticated connection the message came over (direct messages). */
  remotePeerId?: string
  /**
   * Check for a replay but do not remember the id yet: the caller calls `commitReplay(key)` once
   * the message was actually accepted (a direct message refused by its handler, e.g. an
   * out-of-sequence input, must stay acceptable when it is sent again in order).
   */
  deferReplay?: boolean
}

export interface Validator {
  validate: (bytes: Uint8Array, ctx?: ValidationContext) => ValidationResult
  /** Remembers a deferred replay key (see ValidationContext.deferReplay). */
  commitReplay: (key: string) => void
  readonly replay: ReplayCache | undefined
}

const DID_FIELDS = ['node_did', 'originator_did', 'executor_did'] as const

/** The id under which an accepted message is remembered for replay detection (undefined: not tracked). */
export function replayKey (m: MeshMessage): string | undefined {
  switch (m.variant) {
    case 'CapabilityAdvertisementV1': return `cap\0${m.body.node_did}\0${m.body.timestamp}`
    case 'JobAnnouncementV1': return `ann\0${m.body.announcement_id}`
    case 'JobBidV1': return `bid\0${m.body.announcement_id}\0${m.body.executor_did}`
    // An assignment repeat must reach the executor's state machine, which answers it {ok:true} once accepted (profile 6.3a).
    case 'AssignJobV1': return undefined
    case 'ExecutionReceiptAvailableV1': return `rav\0${m.body.receipt_cid}`
    case 'JobInteractiveInputV1': return `in\0${m.body.announcement_id}\0${m.body.sequence_number}`
    case 'JobInteractiveOutputV1': return `out\0${m.body.announcement_id}\0${m.body.sequence_number}`
    case 'JobStatusUpdateV1': return `st\0${Buffer.from(m.body.signature).toString('base64')}`
    // a variant added without a replay decision fails to compile (it would silently go unprotected)
    default: return unreachable(m, 'message variant')
  }
}

export function createValidator (opts: ValidatorOptions = {}): Validator {
  const now = opts.now ?? Date.now
  const maxAgeMs = opts.maxAgeMs ?? 5 * 60_000
  const maxFutureMs = opts.maxFutureMs ?? 30_000
  const replay = opts.replay === false ? undefined : (opts.replay ?? new ReplayCache({ ttlMs: maxAgeMs + maxFutureMs + 60_000, now }))
  const decodeOpts = { maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES, maxDepth: opts.maxDepth }

  function validate (bytes: Uint8Array, ctx: ValidationContext = {}): ValidationResult {
    const decoded = decodeMessage(bytes, decodeOpts)
    if (decoded.kind === 'unknown') return { ok: false, reason: 'UnknownVariant', detail: `unknown variant ${decoded.variant}`, variant: decoded.variant }
    if (decoded.kind === 'rejected') return { ok: false, reason: decoded.reason, detail: decoded.detail }
    const m = decoded.message
    const variant = m.variant
    const body = m.body as unknown as Record<string, unknown>
    try {
      // binding: every DID must be an Ed25519 did:key; peer fields and the connection must match the signer
      publicKeyFromDid(m.signer)
      for (const f of DID_FIELDS) {
        const v = body[f]
        if (typeof v === 'string' && v !== m.signer) publicKeyFromDid(v)
      }
      const peerField = PEER_ID_FIELDS[variant]
      if (peerField !== undefined || ctx.remotePeerId !== undefined) {
        const signerPeer = peerIdFromDid(m.signer)
        if (peerField !== undefined && body[peerField] !== signerPeer) {
          return { ok: false, reason: 'PeerMismatch', detail: `${variant}.${peerField} is not the PeerId of ${m.signer}`, variant }
        }
        if (ctx.remotePeerId !== undefined && ctx.remotePeerId !== signerPeer) {
          return { ok: false, reason: 'PeerMismatch', detail: `sent by peer ${ctx.remotePeerId} but signed by ${m.signer} (peer ${signerPeer})`, variant }
        }
      }
    } catch (err) {
      if (err instanceof ProtocolError) return { ok: false, reason: err.reason, detail: err.message, variant }
      throw err
    }
    const signature = body.signature as Uint8Array
    if (!verifyForDid(m.signer, decoded.signedBytes ?? signedBytesOf(variant, m.raw), signature)) {
      return { ok: false, reason: 'BadSignature', detail: `${variant} signature does not verify for ${m.signer}`, variant }
    }
    const ts = parseTimestamp(body.timestamp as string)
    const t = now()
    if (t - ts > maxAgeMs) return { ok: false, reason: 'Stale', detail: `${variant} timestamp ${String(body.timestamp)} is older than ${maxAgeMs / 1000} s`, variant }
    if (ts - t > maxFutureMs) return { ok: false, reason: 'FromFuture', detail: `${variant} timestamp ${String(body.timestamp)} is more than ${maxFutureMs / 1000} s in the future`, variant }
    const key = replay === undefined ? undefined : replayKey(m)
    if (replay !== undefined && key !== undefined) {
      if (ctx.deferReplay === true ? replay.has(key) : replay.seen(key)) return { ok: false, reason: 'Replay', detail: `${variant} already seen`, variant }
    }
    return key === undefined ? { ok: true, message: m } : { ok: true, message: m, replayKey: key }
  }

  return { validate, replay, commitReplay: (key) => { replay?.seen(key) } }
}
