import type { Json, ReceiptDetailView, VerifyView } from '../../shared/api/contract.js'
import { base64FromBytes, formatAmount, shortId } from '../../shared/api/format.js'
import { h, clear, table, badge, time, copyButton, type Child } from '../dom.js'
import { errorMessage, type PageFactory } from '../page.js'

function verifyResult (out: HTMLElement, r: VerifyView): void {
  clear(out)
  out.append(r.ok
    ? h('p', { class: 'ok', 'data-testid': 'verify-ok' }, `✓ Valid: signed by ${shortId(r.executorDid, 12)}, content matches ${shortId(r.cid, 12)} (${r.status})`)
    : h('p', { class: 'error', 'data-testid': 'verify-failed', role: 'alert' }, `✗ ${r.reason}: ${r.detail}`))
}

function jsonTree (v: Json): Child {
  if (v === null || typeof v !== 'object') return h('span', { class: 'mono break' }, String(v))
  if (Array.isArray(v)) return h('ol', {}, v.map((x) => h('li', {}, jsonTree(x))))
  if ('$bytes' in v && typeof v.$bytes === 'string' && Object.keys(v).length === 1) return h('span', { class: 'mono break' }, `bytes (base64) ${v.$bytes}`)
  return h('dl', { class: 'kv' }, Object.entries(v).map(([k, x]) => [h('dt', {}, k), h('dd', {}, jsonTree(x))]))
}

export const receiptsPage: PageFactory = async (ctx) => {
  if (ctx.params[0] !== undefined) return await receiptDetail(ctx.params[0], ctx)
  const { api } = ctx
  const list = await api.call('receipts.list', { limit: 200 })
  const fileIn = h('input', { type: 'file', id: 'verify-file', 'data-testid': 'verify-file' })
  const out = h('div', { 'aria-live': 'polite' })
  fileIn.addEventListener('change', () => {
    const f = fileIn.files?.[0]
    if (f === undefined) return
    f.arrayBuffer().then(async (buf) => {
      verifyResult(out, await api.call('receipts.verify', { blockBase64: base64FromBytes(new Uint8Array(buf)) }))
    }).catch((err: unknown) => { clear(out); out.append(h('p', { class: 'error' }, errorMessage(err))) })
  })
  const el = h('div', { class: 'grid' },
    h('section', { class: 'card wide' }, h('h2', {}, 'Receipts'),
      table(['Receipt CID', 'Job', 'Status', 'Fuel used', 'Price', 'Created'], list.map((r) => [
        h('a', { href: `#/receipts/${r.cid}`, class: 'mono', title: r.cid }, shortId(r.cid, 12)),
        h('a', { href: `#/jobs/${encodeURIComponent(r.announcementId)}` }, r.announcementId),
        badge(r.status, r.status === 'CompletedSuccessfully' ? 'ok' : 'error'),
        formatAmount(r.fuelUsed), formatAmount(r.price), time(r.createdAt)
      ]), { testid: 'receipts-table', empty: 'No receipts yet.' })),
    h('section', { class: 'card wide' }, h('h2', {}, 'Verify a receipt block file'),
      h('label', { for: 'verify-file' }, 'Receipt block (.cbor) '), fileIn, out))
  return { title: 'Receipts', el }
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
    h('h2', {}, 'Receipt'),
    h('dl', { class: 'kv' },
      h('dt', {}, 'CID'), h('dd', { class: 'mono break', 'data-testid': 'receipt-cid' }, r.cid, ' ', copyButton(r.cid, 'Copy receipt CID')),
      h('dt', {}, 'Job'), h('dd', {}, h('a', { href: `#/jobs/${encodeURIComponent(r.announcementId)}` }, r.announcementId)),
      h('dt', {}, 'Status'), h('dd', {}, r.status, r.failureReason !== null ? ` (${r.failureReason})` : ''),
      h('dt', {}, 'Block size'), h('dd', {}, `${r.sizeBytes} bytes`)),
    h('div', { class: 'buttons' }, verifyBtn, exportBtn),
    out,
    h('h3', {}, 'Every field (as signed)'),
    h('div', { class: 'fields', 'data-testid': 'receipt-fields' }, body === null || body === undefined ? h('p', { class: 'error' }, 'The block does not decode.') : jsonTree(body)))
  return { title: 'Receipt', el }
}
