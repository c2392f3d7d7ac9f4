/** The store's signed execution receipts. */
import { bytes, limits, toReceipt } from './sql.js'
import type { ReceiptStore } from './types.js'
import type { Sql } from './sql.js'

export function createReceiptStore (sql: Sql): ReceiptStore {
  const { one, all, durable, insertReceipt } = sql
  return {
    putReceipt: (r) => durable(() => insertReceipt(r)),
    getReceipt (cid) {
      const r = one('SELECT * FROM receipts WHERE cid = ?', cid)
      return r === undefined ? undefined : { ...toReceipt(r), bytes: bytes(r.raw) }
    },
    receiptsForJob: (id) => all('SELECT cid, announcement_id, status, failure_reason, fuel_used, price, created_at FROM receipts WHERE announcement_id = ? ORDER BY created_at', id).map(toReceipt),
    listReceipts (o) {
      const [limit, offset] = limits(o)
      return all('SELECT cid, announcement_id, status, failure_reason, fuel_used, price, created_at FROM receipts ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?', limit, offset).map(toReceipt)
    },
  }
}
