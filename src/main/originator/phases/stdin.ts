/** Interactive jobs: stdin chunks go out as JobInteractiveInputV1 once the job runs; an empty final chunk closes stdin. */
import { randomUUID } from 'node:crypto'
import { formatTimestamp, signMessage } from '../../../shared/protocol/index.js'
import { createChunkPacer, INTERACTIVE_MIN_INTERVAL_MS } from '../../mesh/index.js'
import { errText } from '../check.js'
import type { OriginatorContext, Submission } from '../context.js'
import type { Pending } from '../pending.js'
import type { CandidateBid } from '../select.js'

const STDIN_CHUNK = 64 * 1024

/** Starts pumping the caller's stdin (or just the closing chunk) to the assignee; returns the iterator to close at the end. */
export function startStdin (sub: Submission, chosen: CandidateBid): AsyncIterator<Uint8Array> | undefined {
  const { ctx, p, signal, opts } = sub
  if (!p.interactive) return undefined
  const iter = opts.stdin?.[Symbol.asyncIterator]()
  void pumpStdin(ctx, p, chosen, iter, signal).catch((err: unknown) => {
    if (!signal.aborted) sub.emit({ type: 'stdin:failed', announcementId: p.id, error: errText(err) })
  })
  return iter
}

async function pumpStdin (ctx: OriginatorContext, p: Pending, executor: CandidateBid, iter: AsyncIterator<Uint8Array> | undefined, signal: AbortSignal): Promise<void> {
  const { identity, node } = ctx
  for (;;) {
    if (p.running || p.receiptCid !== undefined) break
    await p.notifier.wait(60_000, signal)
  }
  if (p.receiptCid !== undefined) return
  let seq = 0
  const send = async (data: Uint8Array, isFinal: boolean): Promise<void> => {
    const msg = signMessage('JobInteractiveInputV1', {
      originator_did: identity.did, executor_did: executor.executorDid, input_id: randomUUID(), announcement_id: p.id,
      sequence_number: seq, is_final: isFinal, timestamp: formatTimestamp(ctx.now()), data
    }, identity)
    const answer = await node.sendDirect(executor.executorPeerId, msg.bytes, { signal })
    if (!answer.ok) throw new Error(`executor refused input ${seq}: ${answer.error}: ${answer.message}`)
    p.emit({ type: 'stdin:sent', announcementId: p.id, sequence: seq, bytes: data.byteLength, isFinal })
    seq++
  }
  if (iter !== undefined) {
    // chunks read while one is on its way are coalesced into the next message (≤ 50 messages/s);
    // the source is read no faster than it is sent
    const pacer = createChunkPacer({ maxBytes: STDIN_CHUNK, minIntervalMs: INTERACTIVE_MIN_INTERVAL_MS, send: async (d) => { await send(d, false) } })
    for (;;) {
      await pacer.ready()
      const r = await iter.next()
      if (r.done === true || signal.aborted || p.receiptCid !== undefined) break
      pacer.push(r.value)
    }
    await pacer.drain()
  }
  if (!signal.aborted && p.receiptCid === undefined) await send(new Uint8Array(0), true)
}
