import type { AnnouncementView, ApiEvent, SimulationView, JsonObject } from '../../shared/api/contract.js'
import { formatAmount, shortId, skippedText } from '../../shared/api/format.js'
import { h, clear, table, badge, time, field } from '../dom.js'
import { errorMessage, type PageFactory } from '../page.js'

export function reasonsList (a: { reasons: AnnouncementView['reasons'] }): HTMLElement {
  return h('details', {},
    h('summary', {}, `${a.reasons.filter((r) => !r.ok).length} failed of ${a.reasons.length} rules`),
    h('ul', { class: 'reasons' }, a.reasons.map((r) => h('li', { class: r.ok ? 'ok' : 'fail' }, h('span', { class: 'sr-only' }, r.ok ? 'passed: ' : 'failed: '), r.ok ? '✓ ' : '✗ ', r.text))))
}

export const marketPage: PageFactory = async ({ api }) => {
  const counters = h('div', {})
  const list = h('div', {})
  const decision = h('select', { id: 'decision-filter' }, h('option', { value: '' }, 'all'), h('option', { value: 'bid' }, 'bid'), h('option', { value: 'no_bid' }, 'skipped'))
  const draft = h('textarea', { id: 'sim-policy', rows: 10, spellcheck: 'false', class: 'mono', 'data-testid': 'sim-policy' })
  const lastN = h('input', { id: 'sim-n', type: 'number', min: 1, max: 10000, value: 100, 'data-testid': 'sim-n' })
  const simOut = h('div', { 'data-testid': 'sim-result', 'aria-live': 'polite' })
  const runBtn = h('button', { type: 'button', 'data-testid': 'sim-run' }, 'Run simulation')

  const el = h('div', { class: 'grid' },
    h('section', { class: 'card wide', 'aria-labelledby': 'h-counters' }, h('h2', { id: 'h-counters' }, 'Decisions'), counters),
    h('section', { class: 'card wide', 'aria-labelledby': 'h-ann' }, h('h2', { id: 'h-ann' }, 'Announcements seen'),
      h('div', { class: 'toolbar' }, h('label', { for: 'decision-filter' }, 'Decision '), decision), list),
    h('section', { class: 'card wide', 'aria-labelledby': 'h-sim' }, h('h2', { id: 'h-sim' }, 'Policy simulator'),
      h('p', { class: 'hint' }, 'Replays the last N announcements against a draft policy, each at the time it was received.'),
      field('Draft policy (JSON)', draft), field('Announcements to replay', lastN), h('div', { class: 'buttons' }, runBtn), simOut))

  const loadStats = async (): Promise<void> => {
    const s = await api.call('market.stats', {})
    clear(counters)
    counters.append(
      h('div', { class: 'stats' },
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Seen'), h('span', { class: 'value', 'data-testid': 'seen' }, String(s.total))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Bid'), h('span', { class: 'value', 'data-testid': 'bid-count' }, String(s.bid))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Skipped'), h('span', { class: 'value' }, String(s.noBid)))),
      h('ul', { class: 'counters', 'data-testid': 'skip-counters' }, s.skipped.map((g) => h('li', {}, h('a', { href: '#/market', 'data-rule': g.rule }, g.text)))))
  }
  const loadList = async (): Promise<void> => {
    const d = decision.value
    const anns = await api.call('market.announcements', d === 'bid' || d === 'no_bid' ? { limit: 200, decision: d } : { limit: 200 })
    clear(list)
    list.append(table(['Received', 'Announcement', 'Originator', 'Job', 'Decision', 'Our price', 'Why'], anns.map((a) => [
      time(a.receivedAt),
      h('span', { class: 'mono' }, a.announcementId),
      h('span', { class: 'mono', title: a.originatorDid }, shortId(a.originatorDid, 8)),
      String(a.summary.description ?? ''),
      a.decision === 'bid' ? badge('bid', 'ok') : badge(`skipped: ${a.firstFailedRule ?? '?'}`, 'muted'),
      formatAmount(a.price),
      reasonsList(a)
    ]), { testid: 'announcements', empty: 'No announcements seen yet.' }))
  }
  decision.addEventListener('change', () => { void loadList() })

  const renderSim = (r: SimulationView): void => {
    clear(simOut)
    const changed = r.items.filter((i) => i.decision !== i.actualDecision).length
    simOut.append(
      h('div', { class: 'stats' },
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Replayed'), h('span', { class: 'value', 'data-testid': 'sim-considered' }, String(r.considered))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Would bid'), h('span', { class: 'value', 'data-testid': 'sim-would-bid' }, String(r.wouldBid))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Implied earnings'), h('span', { class: 'value', 'data-testid': 'sim-earnings' }, formatAmount(r.impliedEarnings))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Changed vs. actual'), h('span', { class: 'value' }, String(changed)))),
      h('ul', { class: 'counters' }, r.skipped.map((g) => h('li', {}, skippedText(g.rule, g.count)))),
      table(['Announcement', 'Would', 'Actually', 'Price', 'Why'], r.items.map((i) => [
        h('span', { class: 'mono' }, i.announcementId),
        i.decision === 'bid' ? badge('bid', 'ok') : badge('skip', 'muted'),
        i.actualDecision === 'bid' ? 'bid' : 'skipped',
        formatAmount(i.price),
        reasonsList(i)
      ]), { testid: 'sim-items' }))
  }
  runBtn.addEventListener('click', () => {
    let policy: JsonObject
    try {
      const p = JSON.parse(draft.value) as unknown
      if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error('the draft must be a JSON object')
      policy = p as JsonObject
    } catch (err) {
      clear(simOut)
      simOut.append(h('p', { class: 'error', role: 'alert' }, `Draft is not valid JSON: ${errorMessage(err)}`))
      return
    }
    runBtn.disabled = true
    api.call('market.simulate', { policy, lastN: Number(lastN.value) }).then(renderSim, (err: unknown) => {
      clear(simOut)
      simOut.append(h('p', { class: 'error', role: 'alert' }, errorMessage(err)))
    }).finally(() => { runBtn.disabled = false })
  })

  const pol = await api.call('policy.get', {})
  draft.value = JSON.stringify(pol.current?.policy ?? {}, null, 2)
  await Promise.all([loadStats(), loadList()])
  let pending = false
  return {
    title: 'Market',
    el,
    onEvent (e: ApiEvent) {
      if (e.type !== 'announcement:decided' || pending) return
      pending = true
      void Promise.all([loadStats(), loadList()]).finally(() => { pending = false })
    }
  }
}
