import type { ApiEvent, JobDetailView, JobView, JobStateName } from '../../shared/api/contract.js'
import { JOB_STATES } from '../../shared/api/contract.js'
import { formatAmount, formatDuration, formatTokens, shortId } from '../../shared/api/format.js'
import { h, clear, table, badge, time } from '../dom.js'
import type { PageFactory } from '../page.js'

const stateKind = (s: string): string => s === 'Completed' ? 'ok' : s === 'Failed' ? 'error' : s === 'Cancelled' ? 'muted' : 'running'
const ACTIVE = new Set(['Assigned', 'Accepted', 'FetchingInputs', 'Running'])

/** The job's state with its failure reason in words, e.g. "Failed — FuelExhausted: used all fuel". */
export function stateCell (j: Pick<JobView, 'state' | 'failureReason' | 'details'>): HTMLElement {
  return h('span', {}, badge(j.state, stateKind(j.state)),
    j.failureReason !== null ? h('span', { class: 'error block small', 'data-testid': 'failure' }, j.details ?? j.failureReason) : null)
}

export const jobsPage: PageFactory = async (ctx) => {
  if (ctx.params[0] !== undefined) return await jobDetailPage(ctx)
  const { api } = ctx
  const list = h('div', {})
  const filter = h('select', { id: 'job-state-filter' }, h('option', { value: '' }, 'all states'), JOB_STATES.map((s) => h('option', { value: s }, s)))
  const el = h('section', { class: 'card wide' }, h('h2', {}, 'Jobs'),
    h('p', { class: 'hint' }, 'Jobs buyers assigned to this node. Price is what our bid asked; Earned is what the ledger booked once the job completed (failed jobs earn nothing). Work is counted in fuel: about one WebAssembly instruction per unit.'),
    h('div', { class: 'toolbar' }, h('label', { for: 'job-state-filter' }, 'State '), filter), list)
  const fuelCells = new Map<string, HTMLElement>()
  const durationCells = new Map<string, { el: HTMLElement, createdAt: number }>()
  let skew = 0
  const load = async (): Promise<void> => {
    const states = filter.value === '' ? undefined : [filter.value as JobStateName]
    const [jobs, st] = await Promise.all([api.call('jobs.list', states === undefined ? { limit: 200 } : { limit: 200, states }), api.call('node.status', {})])
    skew = st.now - Date.now()
    clear(list)
    fuelCells.clear()
    durationCells.clear()
    list.append(table(['Job', 'State', 'Price', 'Earned', 'Work done / budget (fuel)', 'Duration', 'Buyer', 'Updated'], jobs.map((j: JobView) => {
      const fuel = h('span', { class: 'mono', 'data-testid': `job-fuel-${j.announcementId}` }, `${formatAmount(j.fuelUsed)} / ${formatAmount(j.maxFuel)}`)
      fuelCells.set(j.announcementId, fuel)
      const dur = h('span', {}, formatDuration(j.durationMs))
      if (ACTIVE.has(j.state)) durationCells.set(j.announcementId, { el: dur, createdAt: j.createdAt })
      return [
        h('span', {}, j.description ?? h('span', { class: 'hint' }, 'no description'), h('br', {}), h('a', { href: `#/jobs/${encodeURIComponent(j.announcementId)}`, class: 'mono small' }, j.announcementId)),
        stateCell(j),
        formatTokens(j.price),
        h('span', { 'data-testid': `earned-${j.announcementId}` }, j.earned === null ? '—' : formatTokens(j.earned)),
        fuel,
        dur,
        h('span', { class: 'mono', title: j.originatorDid }, shortId(j.originatorDid, 8)),
        time(j.updatedAt)
      ]
    }), { testid: 'jobs-table', empty: 'No jobs yet. When a buyer picks one of your bids, the job shows up here.' }))
  }
  filter.addEventListener('change', () => { void load() })
  await load()
  const ticker = setInterval(() => {
    const t = Date.now() + skew
    for (const { el: cell, createdAt } of durationCells.values()) cell.textContent = formatDuration(t - createdAt)
  }, 1000)
  return {
    title: 'Jobs',
    el,
    dispose () { clearInterval(ticker) },
    onEvent (e: ApiEvent) {
      if (e.type === 'job:updated') void load()
      else if (e.type === 'job:progress') {
        const cell = fuelCells.get(e.payload.announcementId)
        if (cell !== undefined) cell.textContent = `${formatAmount(e.payload.fuelUsed)} / ${formatAmount(e.payload.maxFuel)}`
      }
    }
  }
}

const jobDetailPage: PageFactory = async ({ api, params }) => {
  const id = params[0] ?? ''
  const head = h('div', {})
  const timeline = h('ol', { class: 'timeline', 'data-testid': 'timeline' })
  const log = h('pre', { class: 'log', 'data-testid': 'job-log', tabindex: 0, 'aria-label': 'job output' })
  const receipts = h('div', {})
  const title = h('h2', {}, 'Job ', h('span', { class: 'mono' }, id))
  const el = h('section', { class: 'card wide' },
    h('p', {}, h('a', { href: '#/jobs' }, '← All jobs')),
    title,
    head,
    h('div', { class: 'split' },
      h('div', {}, h('h3', {}, 'Timeline'), timeline),
      h('div', {}, h('h3', {}, 'Receipts'), receipts)),
    h('h3', {}, 'Output and errors of the job'), log,
    h('p', {}, h('a', { href: `#/logs/job/${encodeURIComponent(id)}` }, 'What the node logged about this job')))

  let fuelCell: HTMLElement | undefined
  const render = (d: JobDetailView): void => {
    const j = d.job
    clear(title)
    title.append(j.description ?? 'Job', ' ', h('span', { class: 'mono small' }, id))
    fuelCell = h('dd', { 'data-testid': 'job-fuel' }, `${formatAmount(j.fuelUsed)} used of ${formatAmount(j.maxFuel)}`)
    clear(head)
    head.append(h('dl', { class: 'kv' },
      h('dt', {}, 'State'), h('dd', { 'data-testid': 'job-state' }, badge(j.state, stateKind(j.state)), j.failureReason !== null ? ` ${j.failureReason}` : ''),
      j.details !== null ? [h('dt', {}, 'Details'), h('dd', { 'data-testid': 'job-details' }, j.details)] : null,
      h('dt', {}, 'Buyer (node ID)'), h('dd', { class: 'mono break' }, j.originatorDid),
      h('dt', {}, 'Price'), h('dd', {}, formatTokens(j.price)),
      h('dt', {}, 'Earned'), h('dd', { 'data-testid': 'job-earned' }, j.earned === null ? (j.state === 'Completed' ? formatTokens('0') : '— (only completed jobs earn)') : formatTokens(j.earned)),
      h('dt', {}, 'Work (fuel)'), fuelCell,
      h('dt', {}, 'Time limit'), h('dd', {}, `${j.timeoutSeconds} s`),
      h('dt', {}, 'Duration'), h('dd', {}, formatDuration(j.durationMs)),
      h('dt', {}, 'Program (module ID)'), h('dd', { class: 'mono break' }, j.wasmCid),
      j.inputDataCid !== null ? [h('dt', {}, 'Input (ID)'), h('dd', { class: 'mono break' }, j.inputDataCid)] : null,
      h('dt', {}, 'Region'), h('dd', {}, j.region ?? '—')))
    clear(timeline)
    for (const t of d.timeline) timeline.append(h('li', {}, h('time', {}, time(t.at)), ' ', h('strong', {}, t.to), t.details !== null ? ` — ${t.details}` : ''))
    clear(log)
    for (const l of d.logs) log.append(logLine(l.stream, l.text))
    clear(receipts)
    receipts.append(d.receipts.length === 0
      ? h('p', { class: 'empty' }, 'No receipt yet: the node signs one when the job ends.')
      : h('ul', {}, d.receipts.map((r) => h('li', {}, h('a', { href: `#/receipts/${r.cid}`, class: 'mono' }, shortId(r.cid, 12)), ` ${r.status}`, r.failureReason !== null ? ` (${r.failureReason})` : ''))))
  }
  render(await api.call('jobs.get', { announcementId: id }))
  return {
    title: `Job ${id}`,
    el,
    onEvent (e: ApiEvent) {
      if (e.type === 'job:log' && e.payload.announcementId === id) log.append(logLine(e.payload.stream, e.payload.text))
      else if (e.type === 'job:progress' && e.payload.announcementId === id && fuelCell !== undefined) fuelCell.textContent = `${formatAmount(e.payload.fuelUsed)} used of ${formatAmount(e.payload.maxFuel)}`
      else if ((e.type === 'job:updated' || e.type === 'receipt:stored') && e.payload.announcementId === id) void api.call('jobs.get', { announcementId: id }).then(render)
    }
  }
}

function logLine (stream: string, text: string): HTMLElement {
  return h('span', { class: `log-${stream}` }, text.endsWith('\n') ? text : text + '\n')
}
