/**
 * Verifiable earnings statement (`EarningsStatementV1`): what this executor earned in a period, one
 * row per paid job with its receipt CID, signed by the node's identity key — and the receipts
 * themselves bundled, so anyone can check the statement offline with
 * `mesh-executor receipt verify <file>` (docs/UI.md, "Earnings statement").
 *
 * Signed like a mesh message (shared/protocol): canonical DAG-CBOR of `{ "EarningsStatementV1": struct }`
 * with `signature` removed, Ed25519 by the key of `executor_did`. It is a local document, not a wire
 * message: no peer sends or expects it.
 */
import {
  dagCborCid, decodeCbor, encodeCanonical, formatTimestamp, isValidCid, openEnvelope, parseTimestamp,
  signedBytesOf, verifyForDid, verifyReceiptBlock, type CborMap, type CborValue
} from '../../shared/protocol/index.js'
import { base64FromBytes, bytesFromBase64, type StatementCheckView } from '../../shared/api/index.js'

export const STATEMENT_VARIANT = 'EarningsStatementV1'
/** `format` of the JSON file that carries a statement and its receipts. */
export const STATEMENT_FILE_FORMAT = 'mesh-executor.earnings-statement.v1'
/** Largest statement block we decode (50 000 rows fit). */
export const MAX_STATEMENT_BYTES = 32 * 1024 * 1024

export interface StatementRow {
  announcementId: string
  receiptCid: string
  originatorDid: string
  /** what the ledger booked (= the receipt's price) */
  price: bigint
  fuelUsed: bigint
  /** the receipt's finished_at (RFC 3339) */
  finishedAt: string
}

export interface StatementInput {
  executorDid: string
  periodStartMs: number
  periodEndMs: number
  createdAtMs: number
  rows: StatementRow[]
}

export interface StatementFile {
  format: typeof STATEMENT_FILE_FORMAT
  note: string
  statement_cid: string
  /** base64 of the signed statement block (canonical DAG-CBOR) */
  statement: string
  /** receipt CID → base64 of the receipt block */
  receipts: Record<string, string>
  /** a readable copy of the signed content (not itself signed: the verifier reads the block) */
  summary: {
    executor_did: string
    period_start: string
    period_end: string
    created_at: string
    unit: string
    jobs: number
    total: string
    rows: Array<{ announcement_id: string, receipt_cid: string, originator_did: string, price: string, fuel_used: string, finished_at: string }>
  }
}

const amount = (b: bigint): number | bigint => b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b

/** The statement's struct (without signature). */
function structOf (s: StatementInput): CborMap {
  const total = s.rows.reduce((t, r) => t + r.price, 0n)
  return {
    executor_did: s.executorDid,
    period_start: formatTimestamp(s.periodStartMs),
    period_end: formatTimestamp(s.periodEndMs),
    created_at: formatTimestamp(s.createdAtMs),
    unit: 'token',
    jobs: s.rows.length,
    total: amount(total),
    rows: s.rows.map((r) => ({
      announcement_id: r.announcementId,
      receipt_cid: r.receiptCid,
      originator_did: r.originatorDid,
      price: amount(r.price),
      fuel_used: amount(r.fuelUsed),
      finished_at: r.finishedAt
    }))
  } as unknown as CborMap
}

/** Signs a statement with `sign` (Ed25519 by the key of executorDid) and returns the block and its CID. */
export function signStatement (s: StatementInput, sign: (bytes: Uint8Array) => Uint8Array): { bytes: Uint8Array, cid: string } {
  const struct = structOf(s)
  const signature = sign(encodeCanonical({ [STATEMENT_VARIANT]: struct }))
  const bytes = encodeCanonical({ [STATEMENT_VARIANT]: { ...struct, signature } })
  return { bytes, cid: dagCborCid(bytes) }
}

/** The JSON file a seller hands to an accountant: the signed statement plus every receipt block. */
export function statementFile (s: StatementInput, sign: (bytes: Uint8Array) => Uint8Array, receipts: Map<string, Uint8Array>): StatementFile {
  const { bytes, cid } = signStatement(s, sign)
  const struct = structOf(s)
  const bundled: Record<string, string> = {}
  for (const r of s.rows) {
    const b = receipts.get(r.receiptCid)
    if (b !== undefined) bundled[r.receiptCid] = base64FromBytes(b)
  }
  return {
    format: STATEMENT_FILE_FORMAT,
    note: 'Earnings statement signed by the executor named in it. Check it offline: mesh-executor receipt verify <this file>. The summary below is a readable copy; the signed content is the statement block.',
    statement_cid: cid,
    statement: base64FromBytes(bytes),
    receipts: bundled,
    summary: {
      executor_did: s.executorDid,
      period_start: String(struct.period_start),
      period_end: String(struct.period_end),
      created_at: String(struct.created_at),
      unit: 'token',
      jobs: s.rows.length,
      total: s.rows.reduce((t, r) => t + r.price, 0n).toString(),
      rows: s.rows.map((r) => ({ announcement_id: r.announcementId, receipt_cid: r.receiptCid, originator_did: r.originatorDid, price: r.price.toString(), fuel_used: r.fuelUsed.toString(), finished_at: r.finishedAt }))
    }
  }
}

/** True when the text looks like a statement file (a JSON object with our `format`). */
export function isStatementFile (text: string): boolean {
  const t = text.trimStart()
  if (!t.startsWith('{')) return false
  try { return (JSON.parse(t) as { format?: unknown }).format === STATEMENT_FILE_FORMAT } catch { return false }
}

const fail = (reason: string, detail: string): StatementCheckView => ({ ok: false, reason, detail })
const isMap = (v: unknown): v is CborMap => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
const uint = (v: CborValue | undefined): bigint | undefined => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : typeof v === 'bigint' && v >= 0n ? v : undefined
const text = (v: CborValue | undefined): string | undefined => typeof v === 'string' ? v : undefined

export interface StatementCheckDetail {
  view: StatementCheckView
  /** the signed rows, when the statement block decoded */
  rows: Array<{ announcementId: string, receiptCid: string, price: string, fuelUsed: string, finishedAt: string, receipt: 'verified' | 'missing' | string }>
}

/**
 * Verifies a statement file offline: the statement block's canonical form, its CID, the executor's
 * signature, the totals, and every row's receipt from the bundle (the receipt verifies, is the
 * executor's, completed, for that job, with that price, fuel and finish time). Never throws.
 */
export function verifyStatementFile (fileText: string): StatementCheckDetail {
  const rowsOut: StatementCheckDetail['rows'] = []
  const done = (view: StatementCheckView): StatementCheckDetail => ({ view, rows: rowsOut })
  let file: Partial<StatementFile>
  try { file = JSON.parse(fileText) as Partial<StatementFile> } catch (err) { return done(fail('Malformed', `not JSON: ${(err as Error).message}`)) }
  if (file === null || typeof file !== 'object' || file.format !== STATEMENT_FILE_FORMAT) return done(fail('Malformed', `not an earnings statement file (format must be "${STATEMENT_FILE_FORMAT}")`))
  if (typeof file.statement !== 'string') return done(fail('Malformed', 'the file has no statement block'))
  let bytes: Uint8Array
  try { bytes = bytesFromBase64(file.statement) } catch { return done(fail('Malformed', 'the statement block is not base64')) }
  let struct: CborMap
  try {
    const [name, s] = openEnvelope(decodeCbor(bytes, { maxBytes: MAX_STATEMENT_BYTES, maxDepth: 8 }))
    if (name !== STATEMENT_VARIANT || !isMap(s)) return done(fail('Malformed', `the block is a ${name.slice(0, 60)}, not an ${STATEMENT_VARIANT}`))
    struct = s
  } catch (err) { return done(fail('Malformed', `the statement block does not decode: ${(err as Error).message}`)) }
  const canonical = encodeCanonical({ [STATEMENT_VARIANT]: struct })
  if (canonical.length !== bytes.length || canonical.some((b, i) => b !== bytes[i])) return done(fail('Malformed', 'the statement block is not in canonical DAG-CBOR form'))
  const cid = dagCborCid(bytes)
  if (file.statement_cid !== undefined && file.statement_cid !== cid) return done(fail('CidMismatch', `the statement block hashes to ${cid}, the file says ${String(file.statement_cid)}`))

  const executorDid = text(struct.executor_did)
  const periodStart = text(struct.period_start)
  const periodEnd = text(struct.period_end)
  const sig = struct.signature
  const total = uint(struct.total)
  const jobs = uint(struct.jobs)
  if (executorDid === undefined || periodStart === undefined || periodEnd === undefined || !(sig instanceof Uint8Array) || total === undefined || jobs === undefined || !Array.isArray(struct.rows)) {
    return done(fail('Malformed', 'the statement lacks executor_did, period_start, period_end, total, jobs, rows or signature'))
  }
  let ok: boolean
  try { ok = verifyForDid(executorDid, signedBytesOf(STATEMENT_VARIANT, struct), sig) } catch (err) { return done(fail('UnsupportedDid', (err as Error).message)) }
  if (!ok) return done(fail('BadSignature', `the statement's signature does not verify for ${executorDid}`))
  let startMs: number
  let endMs: number
  try { startMs = parseTimestamp(periodStart); endMs = parseTimestamp(periodEnd) } catch (err) { return done(fail('Malformed', `bad period: ${(err as Error).message}`)) }

  const receipts = file.receipts !== null && typeof file.receipts === 'object' ? file.receipts : {}
  let sum = 0n
  let verified = 0
  const problems: string[] = []
  const seen = new Set<string>()
  for (const [i, rv] of (struct.rows as CborValue[]).entries()) {
    if (!isMap(rv)) { problems.push(`row ${i + 1}: not a map`); continue }
    const id = text(rv.announcement_id)
    const rc = text(rv.receipt_cid)
    const price = uint(rv.price)
    const fuel = uint(rv.fuel_used)
    const fin = text(rv.finished_at)
    if (id === undefined || rc === undefined || price === undefined || fuel === undefined || fin === undefined || !isValidCid(rc)) { problems.push(`row ${i + 1}: malformed`); continue }
    sum += price
    const row = { announcementId: id, receiptCid: rc, price: price.toString(), fuelUsed: fuel.toString(), finishedAt: fin, receipt: 'missing' }
    rowsOut.push(row)
    if (seen.has(rc)) { row.receipt = 'listed twice'; problems.push(`row ${i + 1}: receipt ${rc} listed twice`); continue }
    seen.add(rc)
    const b64 = receipts[rc]
    if (typeof b64 !== 'string') { problems.push(`row ${i + 1} (${id}): receipt ${rc} is not in the file`); continue }
    let block: Uint8Array
    try { block = bytesFromBase64(b64) } catch { row.receipt = 'not base64'; problems.push(`row ${i + 1}: receipt block is not base64`); continue }
    const v = verifyReceiptBlock(block, rc)
    if (!v.ok) { row.receipt = `${v.reason}: ${v.detail}`; problems.push(`row ${i + 1} (${id}): receipt ${v.reason}: ${v.detail}`); continue }
    const rec = v.receipt
    const mismatch: string[] = []
    if (rec.executor_did !== executorDid) mismatch.push(`signed by ${rec.executor_did}, not the statement's executor`)
    if (rec.announcement_id !== id) mismatch.push(`is for job ${rec.announcement_id}`)
    if (rec.status !== 'CompletedSuccessfully') mismatch.push(`status ${rec.status}`)
    if (BigInt(rec.price ?? 0) !== price) mismatch.push(`price ${String(rec.price ?? 0)} ≠ ${price}`)
    if (BigInt(rec.fuel_used) !== fuel) mismatch.push(`fuel_used ${String(rec.fuel_used)} ≠ ${fuel}`)
    if (rec.finished_at !== fin) mismatch.push(`finished_at ${rec.finished_at} ≠ ${fin}`)
    if (mismatch.length > 0) { row.receipt = mismatch.join('; '); problems.push(`row ${i + 1} (${id}): the receipt ${mismatch.join('; ')}`); continue }
    row.receipt = 'verified'
    verified++
  }
  if (sum !== total) problems.push(`total ${total} ≠ the rows' sum ${sum}`)
  if (BigInt(rowsOut.length) !== jobs || (struct.rows as CborValue[]).length !== Number(jobs)) problems.push(`jobs ${jobs} ≠ ${(struct.rows as CborValue[]).length} rows`)
  if (endMs <= startMs) problems.push('the period ends before it starts')
  if (problems.length > 0) return done(fail('RowMismatch', problems.slice(0, 20).join('; ') + (problems.length > 20 ? `; and ${problems.length - 20} more` : '')))
  return done({ ok: true, executorDid, periodStart, periodEnd, rows: rowsOut.length, total: total.toString(), receiptsVerified: verified, statementCid: cid })
}
