/**
 * Interactive jobs: stdin chunks go out as JobInteractiveInputV1 once the job runs; an empty final chunk
 * closes stdin — also when the buyer gives up (Ctrl+C, the overall timeout) while the job runs: V1 has
 * no cancel message, and a program left waiting for input would hold the executor's slot until its
 * time limit and end Failed (Timeout). Closed, it sees the end of its input and ends by itself.
 */
import { randomUUID } from 'node:crypto'
import { formatTimestamp, signMessage } from '../../../shared/protocol/index.js'
import { createChunkPacer, INTERACTIVE_MIN_INTERVAL_MS } from '../../mesh/index.js'
import { errText } from '../check.js'
import type { OriginatorContext, Submission } from '../context.js'
import type { Pending } from '../pending.js'
import type { CandidateBid } from '../select.js'

const STDIN_CHUNK = 64 * 1024
/** How long a submission that was given up waits for the closing chunk to reach the executor. */
export const STDIN_CLOSE_MS = 2000

/**
 * Starts pumping the caller's stdin (or just the closing chunk) to the assignee. Returns the iterator to
 * close at the end and the pump, which ends once the closing chunk went (or could not go).
 */
export function startStdin (sub: Submission, chosen: CandidateBid): { iter: AsyncIterator<Uint8Array> | undefined, done: Promise<void> } | undefined {
  const { ctx, p, signal, opts } = sub
  if (!p.interactive) return undefined
  const iter = opts.stdin?.[Symbol.asyncIterator]()
  const done = pumpStdin(ctx, p, chosen, iter, signal).catch((err: unknown) => {
    if (!signal.aborted) sub.emit({ type: 'stdin:failed', announcementId: p.id, error: errText(err) })
  })
  return { iter, done }
}

async function pumpStdin (ctx: OriginatorContext, p: Pending, executor: CandidateBid, iter: AsyncIterator<Uint8Array> | undefined, signal: AbortSignal): Promise<void> {
  const { identity, node } = ctx
  for (;;) {
    if (p.running || p.receiptCid !== undefined) break
    await p.notifier.wait(60_000, signal)
  }
  if (p.receiptCid !== undefined) return
  let seq = 0
  const send = async (data: Uint8Array, isFinal: boolean, sig = signal): Promise<void> => {
    const msg = signMessage('JobInteractiveInputV1', {
      originator_did: identity.did, executor_did: executor.executorDid, input_id: randomUUID(), announcement_id: p.id,
      sequence_number: seq, is_final: isFinal, timestamp: formatTimestamp(ctx.now()), data
    }, identity)
    const answer = await node.sendDirect(executor.executorPeerId, msg.bytes, { signal: sig })
    if (!answer.ok) throw new Error(`executor refused input ${seq}: ${answer.error}: ${answer.message}`)
    p.emit({ type: 'stdin:sent', announcementId: p.id, sequence: seq, bytes: data.byteLength, isFinal })
    seq++
  }
  if (iter !== undefined) {
    // chunks read while one is on its way are coalesced into the next message (≤ 50 messages/s);
    // the source is read no faster than it is sent
    const pacer = createChunkPacer({ maxBytes: STDIN_CHUNK, minIntervalMs: INTERACTIVE_MIN_INTERVAL_MS, send: async (d) => { await send(d, false) } })
    // a source that yields nothing more (a terminal nobody types into) must not keep a given-up submission open
    const givenUp = new Promise<{ done: true, value: undefined }>((resolve) => {
      if (signal.aborted) resolve({ done: true, value: undefined })
      else signal.addEventListener('abort', () => { resolve({ done: true, value: undefined }) }, { once: true })
    })
    for (;;) {
      await Promise.race([pacer.ready(), givenUp])
      const r = await Promise.race([iter.next(), givenUp])
      if (r.done === true || signal.aborted || p.receiptCid !== undefined) break
      pacer.push(r.value)
    }
    if (!signal.aborted) await pacer.drain()
  }
  if (p.receiptCid !== undefined) return
  if (!signal.aborted) await send(new Uint8Array(0), true)
  // given up while the job runs: close its stdin anyway, briefly (a chunk aborted on its way may have
  // arrived, so this one may be ignored as a repeat: best effort)
  else if (p.running) await send(new Uint8Array(0), true, AbortSignal.timeout(STDIN_CLOSE_MS))
}
