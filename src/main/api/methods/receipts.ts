/** `receipts.*`: our signed receipts, one receipt decoded (fields and raw block), and verification of a stored or pasted block. */
import { decodeCbor } from '../../../shared/protocol/index.js'
import { ApiError, base64FromBytes, bytesFromBase64, type JsonObject } from '../../../shared/api/index.js'
import { cborToJson, receiptSummary } from '../convert.js'
import type { ApiContext } from '../context.js'
import type { Handlers, MethodsOf } from './types.js'

/** The decoded receipt as JSON, or null when the block does not decode to a map. */
function decodedFields (bytes: Uint8Array): JsonObject | null {
  try {
    const decoded = cborToJson(decodeCbor(bytes))
    if (decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded)) return decoded
  } catch { /* not CBOR: no fields */ }
  return null
}

export function receiptsHandlers (ctx: ApiContext): Handlers<MethodsOf<'receipts'>> {
  const { store, q, verify } = ctx
  return {
    'receipts.list': (a) => store.listReceipts(a).map((r) => receiptSummary(r, q.description(r.announcementId))),
    'receipts.get': (a) => {
      const r = store.getReceipt(a.cid)
      if (r === undefined) throw new ApiError('NotFound', `no receipt ${a.cid}`)
      const fields = decodedFields(r.bytes)
      const { bytes, ...row } = r
      return { ...receiptSummary(row, q.description(r.announcementId)), fields, blockBase64: base64FromBytes(bytes), sizeBytes: bytes.length }
    },
    'receipts.verify': (a) => {
      const res = a.cid !== undefined ? verify(ctx.receiptBytes(a.cid), a.cid) : verify(bytesFromBase64(a.blockBase64 ?? ''))
      return res.ok
        ? { ok: true, cid: res.cid, executorDid: res.receipt.executor_did, status: res.receipt.status }
        : { ok: false, reason: res.reason, detail: res.detail }
    }
  }
}
