/** Gossip validation (profile 4.1): protocol checks mapped to Accept / Reject / Ignore. */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { MeshMessage, ReasonCode, Variant } from '../../shared/protocol/index.js'
import type { TopicKind } from './topics.js'

/** Reasons that are not the sender's fault (clock skew, duplicates, newer protocol): Ignore, no penalty. */
const IGNORED: ReadonlySet<string> = new Set<ReasonCode>(['Stale', 'FromFuture', 'Replay', 'UnknownVariant'])

export function gossipVerdict (reason: ReasonCode | string): TopicValidatorResult {
  return IGNORED.has(reason) ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
}

/** The only variant each topic kind carries. */
export const TOPIC_VARIANT: Record<TopicKind, Variant> = {
  capabilities: 'CapabilityAdvertisementV1',
  jobs: 'JobAnnouncementV1',
  receipts: 'ExecutionReceiptAvailableV1'
}

/** Time-bounded set of keys (cross-topic delivery dedupe). */
export class SeenCache {
  private readonly entries = new Map<string, number>()
  constructor (private readonly ttlMs: number, private readonly maxEntries: number, private readonly now: () => number = Date.now) {}

  /** True when `key` was already seen within the TTL; records it otherwise. */
  seen (key: string): boolean {
    const t = this.now()
    const exp = this.entries.get(key)
    if (exp !== undefined && exp > t) return true
    this.entries.delete(key)
    if (this.entries.size >= this.maxEntries) this.prune(t)
    this.entries.set(key, t + this.ttlMs)
    return false
  }

  private prune (t: number): void {
    for (const [k, exp] of this.entries) {
      if (exp <= t || this.entries.size >= this.maxEntries) this.entries.delete(k)
      else break
    }
  }
}

/** Keys under which a delivered gossip message is deduplicated across global and region topics. */
export function dedupeKeys (message: MeshMessage, contentKey: string): string[] {
  const keys = [`c:${contentKey}`]
  if (message.variant === 'JobAnnouncementV1') keys.push(`a:${message.signer}:${message.body.announcement_id}`)
  return keys
}
