import type { ExportFileView, Json, ReceiptDetailView, StatementCheckView, VerifyView } from '../../shared/api/contract.js'
import { base64FromBytes, formatAmount, formatBytes, formatTokens, shortId } from '../../shared/api/format.js'
import { h, clear, table, badge, time, copyButton, field, type Child } from '../dom.js'
import { errorMessage, type PageFactory } from '../page.js'

function verifyResult (out: HTMLElement, r: VerifyView): void {
  clear(out)
  out.append(r.ok
    ? h('p', { class: 'ok', 'data-testid': 'verify-ok' }, `✓ Valid: signed by ${shortId(r.executorDid, 12)}, content matches ${shortId(r.cid, 12)} (${r.status})`)
    : h('p', { class: 'error', 'data-testid': 'verify-failed', role: 'alert' }, r.reason === 'Malformed' ? `✗ Not a valid receipt block: ${r.detail}` : `✗ ${r.reason}: ${r.detail}`))
}

/** The node checks a receipt block of up to 2 MiB as base64 and a statement of up to 4 MiB of text. */
const MAX_BLOCK_BYTES = Math.floor(2 * 1024 * 1024 / 4) * 3
const MAX_STATEMENT_BYTES = 4 * 1024 * 1024

/** Why a chosen file cannot be a receipt block or a statement this page checks, before reading it. */
function fileProblem (f: File): string | undefined {
  const what = 'choose a receipt block (.cbor) or an earnings statement (.json)'
  if (f.size === 0) return `${f.name} is empty: ${what}.`
  if (f.size > MAX_STATEMENT_BYTES) return `${f.name} is ${formatBytes(f.size)}, larger than any receipt block or statement checked here: ${what} (a statement over 4 MiB: mesh-executor receipt verify FILE).`
  return undefined
}

function statementResult (out: HTMLElement, r: StatementCheckView): void {
  clear(out)
  out.append(r.ok
    ? h('p', { class: 'ok', 'data-testid': 'statement-ok' }, `✓ Valid earnings statement: ${r.rows} paid job${r.rows === 1 ? '' : 's'}, ${formatTokens(r.total)}, ${new Date(r.periodStart).toLocaleDateString()} – ${new Date(Date.parse(r.periodEnd) - 1).toLocaleDateString()}, signed by ${shortId(r.executorDid, 12)}; all ${r.receiptsVerified} receipts verified.`)
    : h('p', { class: 'error', 'data-testid': 'statement-failed', role: 'alert' }, `✗ ${r.reason}: ${r.detail}`))
}

function jsonTree (v: Json): Child {
  if (v === null || typeof v !== 'object') return h('span', { class: 'mono break' }, String(v))
  if (Array.isArray(v)) return h('ol', {}, v.map((x) => h('li', {}, jsonTree(x))))
  if ('$bytes' in v && typeof v.$bytes === 'string' && Object.keys(v).length === 1) return h('span', { class: 'mono break' }, `bytes (base64) ${v.$bytes}`)
  return h('dl', { class: 'kv' }, Object.entries(v).map(([k, x]) => [h('dt', {}, k), h('dd', {}, jsonTree(x))]))
}

/** Saves a file the API produced (CSV / JSON text) through a download link. */
export function saveFile (f: ExportFileView): void {
  const url = URL.createObjectURL(new Blob([f.content], { type: f.mime }))
  const a = h('a', { href: url, download: f.filename })
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

const day = (d: Date): string => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
/** Local midnight of a yyyy-mm-dd date input. */
const startOf = (s: string): number => { const [y, m, d] = s.split('-').map(Number); return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1).getTime() }

function exportCard (api: Parameters<PageFactory>[0]['api']): HTMLElement {
  const now = new Date()
  const from = h('input', { type: 'date', id: 'exp-from', 'data-testid': 'exp-from', value: day(new Date(now.getFullYear(), 0, 1)) })
  const to = h('input', { type: 'date', id: 'exp-to', 'data-testid': 'exp-to', value: day(now) })
  const preset = (label: string, a: Date, b: Date): HTMLElement => h('button', { type: 'button', class: 'small secondary', onclick: () => { from.value = day(a); to.value = day(b); check() } }, label)
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'export-result' })
  const problem = h('p', { class: 'error', role: 'alert', 'data-testid': 'export-error' })
  const buttons: HTMLButtonElement[] = []
  const period = (): { fromMs: number, toMs: number } | undefined => {
    if (from.value === '' || to.value === '') return undefined
    const f = startOf(from.value)
    const t = startOf(to.value) + 86_400_000
    return t > f ? { fromMs: f, toMs: t } : undefined
  }
  const check = (): void => {
    const p = period()
    problem.textContent = p === undefined ? 'Choose a period whose end ("To") is on or after its start ("From").' : ''
    for (const b of buttons) b.disabled = p === undefined
    from.setAttribute('aria-invalid', p === undefined ? 'true' : 'false')
    to.setAttribute('aria-invalid', p === undefined ? 'true' : 'false')
  }
  from.addEventListener('input', check)
  to.addEventListener('input', check)
  const run = (label: string, testid: string, call: (p: { fromMs: number, toMs: number }) => Promise<ExportFileView>): HTMLButtonElement => {
    const b = h('button', { type: 'button', 'data-testid': testid }, label)
    b.addEventListener('click', () => {
      const p = period()
      if (p === undefined) return
      b.disabled = true
      call(p).then((f) => {
        saveFile(f)
        clear(out)
        out.append(h('p', { class: 'ok' }, `Saved ${f.filename}: ${f.rows} row${f.rows === 1 ? '' : 's'}.`, f.truncated ? ' The period has more rows than one file holds: export a shorter period for the rest.' : ''))
      }, (err: unknown) => { clear(out); out.append(h('p', { class: 'error', role: 'alert' }, errorMessage(err))) }).finally(() => { b.disabled = false; check() })
    })
    buttons.push(b)
    return b
  }
  const y = now.getFullYear()
  const m = now.getMonth()
  return h('section', { class: 'card wide', 'aria-labelledby': 'h-export', 'data-testid': 'export' },
    h('h2', { id: 'h-export' }, 'Export earnings and receipts'),
    h('p', { class: 'hint' }, 'For your records and taxes: one row per job with what it earned and its receipt ID (CID), so anyone can check each entry against the signed receipt. The signed statement bundles every receipt and is signed by this node; check it with mesh-executor receipt verify FILE — no network needed.'),
    h('div', { class: 'form-grid' },
      h('div', {}, field('From', from), field('To (inclusive)', to)),
      h('div', { class: 'buttons' }, preset('This month', new Date(y, m, 1), now), preset('Last month', new Date(y, m - 1, 1), new Date(y, m, 0)), preset('This year', new Date(y, 0, 1), now), preset('Last year', new Date(y - 1, 0, 1), new Date(y - 1, 11, 31)))),
    problem,
    h('div', { class: 'buttons' },
      run('Earnings (CSV)', 'exp-earnings-csv', async (p) => await api.call('export.earnings', { ...p, format: 'csv' })),
      run('Earnings (JSON)', 'exp-earnings-json', async (p) => await api.call('export.earnings', { ...p, format: 'json' })),
      run('Receipts (CSV)', 'exp-receipts-csv', async (p) => await api.call('export.receipts', { ...p, format: 'csv' })),
      run('Receipts (JSON)', 'exp-receipts-json', async (p) => await api.call('export.receipts', { ...p, format: 'json' })),
      run('Signed earnings statement', 'exp-statement', async (p) => await api.call('export.statement', p))),
    out)
}

export const receiptsPage: PageFactory = async (ctx) => {
  if (ctx.params[0] !== undefined) return await receiptDetail(ctx.params[0], ctx)
  const { api } = ctx
  const list = await api.call('receipts.list', { limit: 200 })
  const fileIn = h('input', { type: 'file', id: 'verify-file', 'data-testid': 'verify-file', accept: '.cbor,.json,application/json,application/octet-stream' })
  const out = h('div', { 'aria-live': 'polite' })
  fileIn.addEventListener('change', () => {
    const f = fileIn.files?.[0]
    if (f === undefined) return
    const problem = fileProblem(f)
    if (problem !== undefined) { clear(out); out.append(h('p', { class: 'error', role: 'alert', 'data-testid': 'verify-failed' }, `✗ ${problem}`)); return }
    f.arrayBuffer().then(async (buf) => {
      const bytes = new Uint8Array(buf)
      const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09)
      if (first === 0x7b) statementResult(out, await api.call('statement.verify', { text: new TextDecoder().decode(bytes) }))
      else if (bytes.length > MAX_BLOCK_BYTES) verifyResult(out, { ok: false, reason: 'Malformed', detail: `${f.name} is ${formatBytes(bytes.length)}, and a receipt block is a few hundred bytes` })
      else verifyResult(out, await api.call('receipts.verify', { blockBase64: base64FromBytes(bytes) }))
    }).catch((err: unknown) => { clear(out); out.append(h('p', { class: 'error' }, errorMessage(err))) })
  })
  const el = h('div', { class: 'grid' },
    exportCard(api),
    h('section', { class: 'card wide' }, h('h2', {}, 'Receipts'),
      h('p', { class: 'hint' }, 'Every job ends with a receipt this node signs: what ran, how much work it took, the result and the price. Its ID (CID) is the hash of its content, so it cannot be changed unnoticed.'),
      table(['Receipt ID (CID)', 'Job', 'Result', 'Work (fuel)', 'Price', 'Created'], list.map((r) => [
        h('a', { href: `#/receipts/${r.cid}`, class: 'mono', title: r.cid }, shortId(r.cid, 12)),
        h('span', {}, r.description ?? '', h('br', {}), h('a', { href: `#/jobs/${encodeURIComponent(r.announcementId)}`, class: 'mono small' }, r.announcementId)),
        h('span', {}, badge(r.status === 'CompletedSuccessfully' ? 'completed' : r.status, r.status === 'CompletedSuccessfully' ? 'ok' : 'error'), r.failureReason !== null ? h('span', { class: 'error block small' }, r.failureReason) : null),
        formatAmount(r.fuelUsed), formatTokens(r.price), time(r.createdAt)
      ]), { testid: 'receipts-table', empty: 'No receipts yet: each job this node runs ends with one.' })),
    h('section', { class: 'card wide' }, h('h2', {}, 'Check a receipt or a statement'),
      h('p', { class: 'hint' }, 'A receipt block (.cbor, as exported from a receipt) or an earnings statement (.json, as exported above), from this node or any other.'),
      h('label', { for: 'verify-file' }, 'File '), fileIn, out))
  return { title: 'Earnings & receipts', el }
}

const receiptDetail = async (cid: string, { api }: Parameters<typeof receiptsPage>[0]): Promise<Awaited<ReturnType<typeof receiptsPage>>> => {
  const r: ReceiptDetailView = await api.call('receipts.get', { cid })
  const out = h('div', { 'aria-live': 'polite' })
  const verifyBtn = h('button', { type: 'button', 'data-testid': 'verify' }, 'Verify')
  verifyBtn.addEventListener('click', () => {
    verifyBtn.disabled = true
    api.call('receipts.verify', { cid }).then((v) => verifyResult(out, v), (err: unknown) => { clear(out); out.append(h('p', { class: 'error' }, errorMessage(err))) })
      .finally(() => { verifyBtn.disabled = false })
  })
  const exportBtn = h('button', {
    type: 'button',
    'data-testid': 'export',
    onclick: () => {
      const bin = atob(r.blockBase64)
      const bytes = new Uint8Array(bin.length)
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/vnd.ipld.dag-cbor' }))
      const a = h('a', { href: url, download: `${cid}.cbor` })
      document.body.appendChild(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(url), 10_000)
    }
  }, 'Export raw block')
  const fields = r.fields
  const body = fields !== null && typeof fields.ExecutionReceiptV1 === 'object' ? fields.ExecutionReceiptV1 : fields
  const el = h('section', { class: 'card wide' },
    h('p', {}, h('a', { href: '#/receipts' }, '← All receipts')),
    h('h2', {}, 'Receipt', r.description !== null ? ` — ${r.description}` : ''),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Receipt ID (CID)'), h('dd', { class: 'mono break', 'data-testid': 'receipt-cid' }, r.cid, ' ', copyButton(r.cid, 'Copy receipt CID')),
      h('dt', {}, 'Job'), h('dd', {}, h('a', { href: `#/jobs/${encodeURIComponent(r.announcementId)}` }, r.announcementId)),
      h('dt', {}, 'Result'), h('dd', {}, r.status, r.failureReason !== null ? ` (${r.failureReason})` : ''),
      h('dt', {}, 'Price'), h('dd', {}, formatTokens(r.price)),
      h('dt', {}, 'Block size'), h('dd', {}, `${r.sizeBytes} bytes`)),
    h('div', { class: 'buttons' }, verifyBtn, exportBtn),
    out,
    h('h3', {}, 'Every field (as signed)'),
    h('div', { class: 'fields', 'data-testid': 'receipt-fields' }, body === null || body === undefined ? h('p', { class: 'error' }, 'The block does not decode.') : jsonTree(body)))
  return { title: 'Receipt', el }
}
