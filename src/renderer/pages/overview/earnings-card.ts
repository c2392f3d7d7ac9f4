/** The earnings card: today, 7 days, all time, paid jobs; the last 30 days as a chart; by buyer and by region. */
import type { EarningsView } from '../../../shared/api/contract.js'
import { formatTokens, shortId } from '../../../shared/api/format.js'
import { h, clear, table } from '../../dom.js'
import { earningsChart } from '../../chart.js'

export function earningsCard (box: HTMLElement, e: EarningsView): void {
  clear(box)
  box.append(
    h('h2', { id: 'h-earnings' }, `Earnings (${e.unit})`),
    h('div', { class: 'stats' },
      stat('Today', formatTokens(e.today), 'earn-today'), stat('Last 7 days', formatTokens(e.last7d), 'earn-7d'), stat('All time', formatTokens(e.allTime), 'earn-all'),
      stat('Paid jobs', String(e.paidJobs), 'paid-jobs', e.freeJobs > 0 ? `+ ${e.freeJobs} done for free` : undefined)),
    earningsChart(e.byDay, 30),
    h('div', { class: 'split' },
      h('div', {}, h('h3', {}, 'By buyer'), table(['Buyer (node ID)', 'Jobs', 'Earned'], e.byOriginator.map((o) => [h('span', { class: 'mono', title: o.originatorDid }, shortId(o.originatorDid, 10)), String(o.jobs), formatTokens(o.amount)]), { testid: 'by-originator', empty: 'No earnings yet.' })),
      h('div', {}, h('h3', {}, 'By region'), table(['Region', 'Jobs', 'Earned'], e.byRegion.map((r) => [r.region, String(r.jobs), formatTokens(r.amount)]), { testid: 'by-region', empty: 'No earnings yet.' }))),
    h('p', {}, h('a', { href: '#/receipts', class: 'button-link' }, 'Export earnings for taxes (CSV, JSON, signed statement)')))
}

function stat (label: string, value: string, testid: string, note?: string): HTMLElement {
  return h('div', { class: 'stat' }, h('span', { class: 'label' }, label), h('span', { class: 'value', 'data-testid': testid }, value), note !== undefined ? h('span', { class: 'hint block', 'data-testid': `${testid}-note` }, note) : null)
}
