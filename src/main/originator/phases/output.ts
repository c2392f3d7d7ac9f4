/** Phase 6, collect the output: the streamed chunks (interactive) or the output block from the executor, checked against the receipt. */
import type { ExecutionReceiptV1 } from '../../../shared/protocol/index.js'
import { errText } from '../check.js'
import type { Submission } from '../context.js'
import type { CandidateBid } from '../select.js'
import { checkOutput } from '../verify.js'
import type { Invalid } from './receipt.js'

export async function collectOutput (sub: Submission, chosen: CandidateBid, receipt: ExecutionReceiptV1, invalid: Invalid): Promise<Uint8Array> {
  const { ctx, p, signal } = sub
  let output: Uint8Array | undefined
  if (p.interactive) {
    const streamed = Buffer.concat(p.outChunks)
    if (checkOutput(receipt, streamed).ok) output = new Uint8Array(streamed)
  }
  if (output === undefined) {
    try {
      output = await ctx.node.fetchBlock(receipt.output_cid as string, { from: chosen.executorPeerId, providers: false, store: false, maxBytes: ctx.settings.maxOutputBytes, signal })
    } catch (err) {
      signal.throwIfAborted()
      invalid('output', `the output block ${receipt.output_cid as string} could not be fetched or does not match: ${errText(err)}`)
    }
  }
  const out = output as Uint8Array
  const oc = checkOutput(receipt, out)
  if (!oc.ok) invalid(oc.check, oc.detail)
  return out
}
