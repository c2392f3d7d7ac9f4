/**
 * `export.*` and `statement.verify`: a period's earnings or receipts as CSV / JSON files, the signed
 * earnings statement (EarningsStatementV1), and its offline check.
 */
import { verifyReceiptBlock } from '../../../shared/protocol/index.js'
import { ApiError, MAX_EXPORT_ROWS, TOKEN_UNIT, type ApiArgs, type ExportFileView } from '../../../shared/api/index.js'
import { isoDay, statementFile, toCsv, verifyStatementFile, type StatementRow } from '../../export/index.js'
import type { ApiContext } from '../context.js'
import type { Handlers, MethodsOf } from './types.js'

const period = (a: { fromMs: number, toMs: number }): string => `${isoDay(a.fromMs)}_to_${isoDay(a.toMs - 1)}`
const iso = (ms: number | null): string => ms === null ? '' : new Date(ms).toISOString()

interface TableExport<R> {
  name: string
  kind: string
  rows: R[]
  csv: { header: string[], row: (r: R) => Array<string | number | bigint | null | undefined> }
  json: (r: R) => Record<string, unknown>
  /** extra top-level JSON fields (after the period and unit) */
  extra?: (list: R[]) => Record<string, unknown>
}

/** A period's rows as CSV or JSON, capped at MAX_EXPORT_ROWS (the file says when it was cut). */
function exportTable<R> ({ deps }: ApiContext, a: { fromMs: number, toMs: number, format: 'csv' | 'json' }, t: TableExport<R>): ExportFileView {
  const truncated = t.rows.length > MAX_EXPORT_ROWS
  const list = t.rows.slice(0, MAX_EXPORT_ROWS)
  const filename = `${t.name}_${period(a)}.${a.format}`
  if (a.format === 'csv') {
    return { filename, mime: 'text/csv', rows: list.length, truncated, content: toCsv(t.csv.header, list.map(t.csv.row)) }
  }
  const body = {
    kind: t.kind,
    executor_did: deps.identity.did,
    period: { from: iso(a.fromMs), to: iso(a.toMs) },
    unit: TOKEN_UNIT,
    ...t.extra?.(list),
    truncated,
    rows: list.map(t.json)
  }
  return { filename, mime: 'application/json', rows: list.length, truncated, content: JSON.stringify(body, null, 2) + '\n' }
}

function exportEarnings (ctx: ApiContext, a: ApiArgs<'export.earnings'>): ExportFileView {
  return exportTable(ctx, a, {
    name: 'earnings',
    kind: 'mesh-executor.earnings.v1',
    rows: ctx.q.earningsBetween(a.fromMs, a.toMs, MAX_EXPORT_ROWS + 1),
    csv: {
      header: ['earned_at', 'announcement_id', 'description', 'originator_did', 'region', 'amount', 'unit', 'fuel_used', 'receipt_cid'],
      row: (r) => [iso(r.earnedAt), r.announcementId, r.description, r.originatorDid, r.region, r.amount, TOKEN_UNIT, r.fuelUsed, r.receiptCid]
    },
    json: (r) => ({ earned_at: iso(r.earnedAt), announcement_id: r.announcementId, description: r.description, originator_did: r.originatorDid, region: r.region, amount: r.amount.toString(), fuel_used: r.fuelUsed?.toString() ?? null, receipt_cid: r.receiptCid }),
    extra: (list) => ({ total: list.reduce((s, r) => s + r.amount, 0n).toString(), jobs: list.length })
  })
}

function exportReceipts (ctx: ApiContext, a: ApiArgs<'export.receipts'>): ExportFileView {
  return exportTable(ctx, a, {
    name: 'receipts',
    kind: 'mesh-executor.receipts.v1',
    rows: ctx.q.receiptsBetween(a.fromMs, a.toMs, MAX_EXPORT_ROWS + 1),
    csv: {
      header: ['created_at', 'receipt_cid', 'announcement_id', 'description', 'status', 'failure_reason', 'fuel_used', 'price', 'earned', 'unit'],
      row: (r) => [iso(r.createdAt), r.cid, r.announcementId, r.description, r.status, r.failureReason, r.fuelUsed, r.price, r.earned, TOKEN_UNIT]
    },
    json: (r) => ({ created_at: iso(r.createdAt), receipt_cid: r.cid, announcement_id: r.announcementId, description: r.description, status: r.status, failure_reason: r.failureReason, fuel_used: r.fuelUsed.toString(), price: r.price?.toString() ?? null, earned: r.earned?.toString() ?? null })
  })
}

function exportStatement ({ deps, q, now }: ApiContext, a: ApiArgs<'export.statement'>): ExportFileView {
  const sign = deps.sign
  if (sign === undefined) throw new ApiError('BadRequest', 'export.statement: this node cannot sign statements')
  const rows = q.earningsBetween(a.fromMs, a.toMs, MAX_EXPORT_ROWS + 1)
  if (rows.length > MAX_EXPORT_ROWS) throw new ApiError('BadRequest', `export.statement: more than ${MAX_EXPORT_ROWS} paid jobs in the period; sign it in parts`)
  const out: StatementRow[] = []
  const blocks = new Map<string, Uint8Array>()
  let skipped = 0
  for (const r of rows) {
    if (r.receiptCid === null || r.amount === 0n) { skipped++; continue }
    const block = q.receiptBlock(r.receiptCid)
    const v = block === undefined ? undefined : verifyReceiptBlock(block, r.receiptCid)
    if (block === undefined || v === undefined || !v.ok || v.receipt.status !== 'CompletedSuccessfully' || v.receipt.executor_did !== deps.identity.did) { skipped++; continue }
    out.push({ announcementId: r.announcementId, receiptCid: r.receiptCid, originatorDid: v.receipt.originator_did, price: BigInt(v.receipt.price ?? 0), fuelUsed: BigInt(v.receipt.fuel_used), finishedAt: v.receipt.finished_at })
    blocks.set(r.receiptCid, block)
  }
  const file = statementFile({ executorDid: deps.identity.did, periodStartMs: a.fromMs, periodEndMs: a.toMs, createdAtMs: now(), rows: out }, sign, blocks)
  return {
    filename: `earnings-statement_${period(a)}.json`,
    mime: 'application/json',
    rows: out.length,
    truncated: false,
    content: JSON.stringify({ ...file, ...(skipped > 0 ? { left_out: `${skipped} ledger row(s) without a verifiable receipt or earning nothing are not in the statement` } : {}) }, null, 2) + '\n'
  }
}

export function exportHandlers (ctx: ApiContext): Handlers<MethodsOf<'export' | 'statement'>> {
  return {
    'export.earnings': (a) => exportEarnings(ctx, a),
    'export.receipts': (a) => exportReceipts(ctx, a),
    'export.statement': (a) => exportStatement(ctx, a),
    'statement.verify': (a) => verifyStatementFile(a.text).view
  }
}
