import type { ApiEvent, JobDetailView, JobView, JobStateName } from '../../shared/api/contract.js'
import { JOB_STATES } from '../../shared/api/contract.js'
import { formatAmount, formatDuration, shortId } from '../../shared/api/format.js'
import { h, clear, table, badge, time } from '../dom.js'
import type { PageFactory } from '../page.js'

const stateKind = (s: string): string => s === 'Completed' ? 'ok' : s === 'Failed' ? 'error' : s === 'Cancelled' ? 'muted' : 'running'

export const jobsPage: PageFactory = async (ctx) => {
  if (ctx.params[0] !== undefined) return await jobDetailPage(ctx)
  const { api } = ctx
  const list = h('div', {})
  const filter = h('select', { id: 'job-state-filter' }, h('option', { value: '' }, 'all states'), JOB_STATES.map((s) => h('option', { value: s }, s)))
  const el = h('section', { class: 'card wide' }, h('h2', {}, 'Jobs'), h('div', { class: 'toolbar' }, h('label', { for: 'job-state-filter' }, 'State '), filter), list)
  const load = async (): Promise<void> => {
    const states = filter.value === '' ? undefined : [filter.value as JobStateName]
    const jobs = await api.call('jobs.list', states === undefined ? { limit: 200 } : { limit: 200, states })
    clear(list)
    list.append(table(['Job', 'State', 'Price', 'Fuel used / max', 'Duration', 'Originator', 'Updated'], jobs.map((j: JobView) => [
      h('a', { href: `#/jobs/${encodeURIComponent(j.announcementId)}` }, j.announcementId),
      badge(j.state, stateKind(j.state)),
      formatAmount(j.price),
      `${formatAmount(j.fuelUsed)} / ${formatAmount(j.maxFuel)}`,
      formatDuration(j.durationMs),
      h('span', { class: 'mono', title: j.originatorDid }, shortId(j.originatorDid, 8)),
      time(j.updatedAt)
    ]), { testid: 'jobs-table', empty: 'No jobs yet.' }))
  }
  filter.addEventListener('change', () => { void load() })
  await load()
  return {
    title: 'Jobs',
    el,
    onEvent (e: ApiEvent) { if (e.type === 'job:updated') void load() }
  }
}

const jobDetailPage: PageFactory = async ({ api, params }) => {
  const id = params[0] ?? ''
  const head = h('div', {})
  const timeline = h('ol', { class: 'timeline', 'data-testid': 'timeline' })
  const log = h('pre', { class: 'log', 'data-testid': 'job-log', tabindex: 0, 'aria-label': 'job log' })
  const receipts = h('div', {})
  const el = h('section', { class: 'card wide' },
    h('p', {}, h('a', { href: '#/jobs' }, '← All jobs')),
    h('h2', {}, 'Job ', h('span', { class: 'mono' }, id)),
    head,
    h('div', { class: 'split' },
      h('div', {}, h('h3', {}, 'Timeline'), timeline),
      h('div', {}, h('h3', {}, 'Receipts'), receipts)),
    h('h3', {}, 'Log'), log)

  const render = (d: JobDetailView): void => {
    const j = d.job
    clear(head)
    head.append(h('dl', { class: 'kv' },
      h('dt', {}, 'State'), h('dd', { 'data-testid': 'job-state' }, badge(j.state, stateKind(j.state)), j.failureReason !== null ? ` ${j.failureReason}` : ''),
      h('dt', {}, 'Originator'), h('dd', { class: 'mono break' }, j.originatorDid),
      h('dt', {}, 'Price'), h('dd', {}, formatAmount(j.price)),
      h('dt', {}, 'Fuel'), h('dd', {}, `${formatAmount(j.fuelUsed)} used of ${formatAmount(j.maxFuel)}`),
      h('dt', {}, 'Timeout'), h('dd', {}, `${j.timeoutSeconds} s`),
      h('dt', {}, 'Duration'), h('dd', {}, formatDuration(j.durationMs)),
      h('dt', {}, 'Module'), h('dd', { class: 'mono break' }, j.wasmCid),
      j.inputDataCid !== null ? [h('dt', {}, 'Input'), h('dd', { class: 'mono break' }, j.inputDataCid)] : null,
      h('dt', {}, 'Region'), h('dd', {}, j.region ?? '—'),
      j.details !== null ? [h('dt', {}, 'Details'), h('dd', {}, j.details)] : null))
    clear(timeline)
    for (const t of d.timeline) timeline.append(h('li', {}, h('time', {}, time(t.at)), ' ', h('strong', {}, t.to), t.details !== null ? ` — ${t.details}` : ''))
    clear(log)
    for (const l of d.logs) log.append(logLine(l.stream, l.text))
    clear(receipts)
    receipts.append(d.receipts.length === 0
      ? h('p', { class: 'empty' }, 'No receipt yet.')
      : h('ul', {}, d.receipts.map((r) => h('li', {}, h('a', { href: `#/receipts/${r.cid}`, class: 'mono' }, shortId(r.cid, 12)), ` ${r.status}`))))
  }
  render(await api.call('jobs.get', { announcementId: id }))
  return {
    title: `Job ${id}`,
    el,
    onEvent (e: ApiEvent) {
      if (e.type === 'job:log' && e.payload.announcementId === id) log.append(logLine(e.payload.stream, e.payload.text))
      else if ((e.type === 'job:updated' || e.type === 'receipt:stored') && e.payload.announcementId === id) void api.call('jobs.get', { announcementId: id }).then(render)
    }
  }
}

function logLine (stream: string, text: string): HTMLElement {
  return h('span', { class: `log-${stream}` }, text.endsWith('\n') ? text : text + '\n')
}
