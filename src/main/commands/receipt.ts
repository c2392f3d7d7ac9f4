/**
 * `mesh-executor receipt verify <CID|FILE> [--data-dir DIR] [--json]`: verifies an execution receipt
 * offline (wire profile 6.4) and prints every field — or, when FILE is an earnings statement exported
 * from the dashboard (`EarningsStatementV1`, src/main/export/statement.ts), checks the executor's
 * signature over it and every row against its bundled receipt.
 *
 * FILE: a file holding the raw receipt block (the canonical signed envelope). CID: looked up in the
 * data dir — the executor's receipts (its SQLite store, opened read-only so a running daemon is no
 * obstacle) and the receipts `submit` saved in <data-dir>/receipts/ (the originator's data dir,
 * default ~/.mesh-executor/originator, is searched too when --data-dir is not given).
 * Exit codes: 0 valid, 6 invalid, 2 usage, 1 not found / other error.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { isValidCid, verifyReceiptBlock } from '../../shared/protocol/index.js'
import type { CborMap, CborValue } from '../../shared/protocol/index.js'
import { decodeCbor } from '../../shared/protocol/index.js'
import { isStatementFile, verifyStatementFile } from '../export/statement.js'
import { parseFlags, type CliIo } from './io.js'

export type ReceiptIo = CliIo

export const RECEIPT_USAGE = `usage: mesh-executor receipt verify <CID|FILE> [--data-dir DIR] [--json]

  FILE           a file holding the raw receipt block, or an earnings statement (.json) exported
                 from the dashboard: its signature and every row's bundled receipt are checked
  CID            a receipt CID (bafyrei…) looked up in the data dir (executor store, saved receipts)
  --data-dir DIR where to look (default ~/.mesh-executor and ~/.mesh-executor/originator,
                 or the same under $MESH_EXECUTOR_DATA_DIR)
  --json         one JSON object on stdout

exit codes: 0 valid, 6 invalid, 2 usage, 1 not found or other error
`

/** Finds a receipt block by CID in a data dir: saved receipts, then the executor's store. */
export async function findReceipt (dataDir: string, cid: string): Promise<Uint8Array | undefined> {
  const saved = join(dataDir, 'receipts', cid)
  if (existsSync(saved)) return new Uint8Array(await readFile(saved))
  const dbPath = join(dataDir, 'executor.db')
  if (!existsSync(dbPath)) return undefined
  const db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 5000 })
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'receipts'").get() !== undefined
    if (!hasTable) return undefined
    const row = db.prepare('SELECT raw FROM receipts WHERE cid = ?').get(cid) as { raw: Buffer } | undefined
    return row === undefined ? undefined : new Uint8Array(row.raw)
  } finally {
    db.close()
  }
}

function show (v: CborValue): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex')
  if (typeof v === 'bigint') return v.toString()
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !('/' in v && Object.keys(v).length === 1)) {
    return Object.entries(v as CborMap).map(([k, x]) => `${k}=${show(x)}`).join(', ')
  }
  return typeof v === 'string' ? v : JSON.stringify(v)
}

function toJson (v: CborValue): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex')
  if (typeof v === 'bigint') return v.toString()
  if (Array.isArray(v)) return v.map(toJson)
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v as CborMap)) o[k] = toJson(x)
    return o
  }
  return v
}

/** Verifies an earnings statement file; exit 0 valid, 6 invalid. */
function statement (text: string, source: string, jsonMode: boolean, io: ReceiptIo): number {
  const { view, rows } = verifyStatementFile(text)
  if (jsonMode) {
    io.stdout.write(JSON.stringify({ valid: view.ok, ...view, source, rows }) + '\n')
    return view.ok ? 0 : 6
  }
  if (!view.ok) {
    io.stdout.write(`earnings statement INVALID: ${view.reason}: ${view.detail}\n  source ${source}\n`)
    return 6
  }
  const lines = [
    'earnings statement VALID (signature by executor_did verifies; every row matches its signed receipt)',
    `  executor           ${view.executorDid}`,
    `  period             ${view.periodStart} – ${view.periodEnd}`,
    `  jobs               ${view.rows}`,
    `  total              ${view.total} tokens`,
    `  receipts verified  ${view.receiptsVerified} of ${view.rows}`,
    `  statement cid      ${view.statementCid}`,
    `  source             ${source}`
  ]
  for (const r of rows) lines.push(`  ${r.finishedAt}  ${r.price.padStart(8)} tokens  ${r.announcementId}  ${r.receiptCid}`)
  io.stdout.write(lines.join('\n') + '\n')
  return 0
}

export async function runReceipt (argv: string[], io: ReceiptIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  let positionals: string[]
  try {
    const r = parseFlags(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } })
    values = r.values as Record<string, string | boolean | undefined>
    positionals = r.positionals
  } catch (err) {
    io.stderr.write(`mesh-executor receipt: ${(err as Error).message}\n${RECEIPT_USAGE}`)
    return 2
  }
  if (values.help === true) { io.stdout.write(RECEIPT_USAGE); return 0 }
  const [sub, target, ...extra] = positionals
  if (sub !== 'verify' || target === undefined || extra.length > 0) {
    io.stderr.write(`mesh-executor receipt: ${sub !== 'verify' ? `unknown subcommand ${JSON.stringify(sub ?? '')}` : target === undefined ? 'a CID or FILE is required' : `unexpected argument ${JSON.stringify(extra[0])}`}\n${RECEIPT_USAGE}`)
    return 2
  }
  const jsonMode = values.json === true
  let bytes: Uint8Array | undefined
  let expectedCid: string | undefined
  let source: string
  if (existsSync(target)) {
    try { bytes = new Uint8Array(await readFile(resolve(target))) } catch (err) {
      io.stderr.write(`mesh-executor receipt: cannot read ${target}: ${(err as Error).message}\n`)
      return 1
    }
    source = resolve(target)
    // a receipt block is CBOR (a one-key map: 0xa1); a statement file is JSON ('{' after any whitespace)
    const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09)
    const text = first === 0x7b ? Buffer.from(bytes).toString('utf8') : ''
    if (isStatementFile(text)) return statement(text, source, jsonMode, io)
  } else if (isValidCid(target)) {
    expectedCid = target
    const base = io.env.MESH_EXECUTOR_DATA_DIR ?? join(homedir(), '.mesh-executor')
    const dirs = typeof values['data-dir'] === 'string' ? [resolve(values['data-dir'])] : [base, join(base, 'originator')]
    source = dirs.join(', ')
    for (const d of dirs) {
      try {
        bytes = await findReceipt(d, target)
      } catch (err) {
        io.stderr.write(`mesh-executor receipt: cannot read the store in ${d}: ${(err as Error).message}\n`)
        return 1
      }
      if (bytes !== undefined) { source = d; break }
    }
    if (bytes === undefined) {
      io.stderr.write(`mesh-executor receipt: receipt ${target} not found in ${source}\n`)
      return 1
    }
  } else {
    io.stderr.write(`mesh-executor receipt: ${JSON.stringify(target)} is neither a file nor a valid CID\n`)
    return 2
  }

  const v = verifyReceiptBlock(bytes, expectedCid)
  if (!v.ok) {
    if (jsonMode) io.stdout.write(JSON.stringify({ valid: false, reason: v.reason, detail: v.detail, source }) + '\n')
    else io.stdout.write(`receipt INVALID: ${v.reason}: ${v.detail}\n  source ${source}\n`)
    return 6
  }
  // print every field of the struct as signed, unknown keys included
  const env = decodeCbor(bytes) as CborMap
  const struct = (env.ExecutionReceiptV1 ?? {}) as CborMap
  if (jsonMode) {
    io.stdout.write(JSON.stringify({ valid: true, cid: v.cid, source, signer: v.receipt.executor_did, receipt: toJson(struct) }) + '\n')
  } else {
    const lines = [`receipt VALID (signature by executor_did verifies; block hashes to its CID)`, `  cid                ${v.cid}`, `  source             ${source}`]
    for (const k of Object.keys(struct).sort()) {
      const val = struct[k]
      if (val === undefined) continue
      lines.push(`  ${k.padEnd(18)} ${show(val)}`)
    }
    io.stdout.write(lines.join('\n') + '\n')
  }
  return 0
}
