import type { AnnouncementView, ApiEvent, BidOutcomeView, MarketRateView, SimulationView, JsonObject } from '../../shared/api/contract.js'
import { formatAmount, formatFuel, formatTokens, shortId, skippedText } from '../../shared/api/format.js'
import { h, clear, table, badge, time, field } from '../dom.js'
import { errorMessage, type PageFactory } from '../page.js'

export function reasonsList (a: { reasons: AnnouncementView['reasons'] }): HTMLElement {
  const failed = a.reasons.filter((r) => !r.ok)
  return h('details', {},
    h('summary', {}, failed.length === 0 ? `all ${a.reasons.length} rules passed` : `why: ${failed[0]?.text ?? ''}${failed.length > 1 ? ` (+${failed.length - 1} more)` : ''}`),
    h('ul', { class: 'reasons' }, a.reasons.map((r) => h('li', { class: r.ok ? 'ok' : 'fail' }, h('span', { class: 'sr-only' }, r.ok ? 'passed: ' : 'failed: '), r.ok ? '✓ ' : '✗ ', r.text))))
}

const OUTCOME_KIND: Record<BidOutcomeView['outcome'], string> = { won: 'ok', lost: 'muted', refused: 'paused', waiting: 'running', not_sent: 'error', sending: 'running' }
const OUTCOME_WORD: Record<BidOutcomeView['outcome'], string> = { won: 'won', lost: 'lost', refused: 'chosen, refused', waiting: 'waiting', not_sent: 'never assigned', sending: 'sending' }

function outcomeCell (a: AnnouncementView): HTMLElement {
  if (a.decision !== 'bid') return badge(`skipped: ${a.firstFailedRule ?? '?'}`, 'muted')
  const b = a.bid
  if (b === null) return badge('bid', 'ok')
  return h('span', { 'data-testid': 'outcome', 'data-outcome': b.outcome }, badge(`bid · ${OUTCOME_WORD[b.outcome]}`, OUTCOME_KIND[b.outcome]), h('span', { class: 'hint block' }, b.text))
}

const num = (n: number): string => n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)

function rateCard (box: HTMLElement, m: MarketRateView, onUse: (price: string) => void): void {
  clear(box)
  box.append(h('h2', { id: 'h-rate' }, 'Market rate: what buyers paid'),
    h('p', { class: 'hint' }, 'From the signed receipts other executors publish on the mesh: each one is fetched and its signature checked before it counts. Prices are per job; rates are tokens per million fuel (units of work) the job actually used.'))
  if (m.ratePerMillionFuel === null) {
    box.append(h('p', { class: 'empty', 'data-testid': 'rate-empty' }, `No paid receipt from other executors heard in the last ${Math.round((Date.now() - m.sinceMs) / 86_400_000)} days yet (${m.collector.heard} receipt announcements heard, ${m.collector.fetched} fetched).`))
    return
  }
  const r = m.ratePerMillionFuel
  const p = m.price
  const versus = (ours: bigint, lo: bigint, hi: bigint): string => ours > hi ? 'more than most buyers paid' : ours < lo ? 'less than most paid: you may be selling cheap' : 'in the market'
  box.append(
    h('div', { class: 'stats' },
      h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Median job price'), h('span', { class: 'value', 'data-testid': 'rate-price' }, formatTokens(p?.median ?? null)), h('span', { class: 'hint block' }, p === null ? '' : `middle half ${formatTokens(p.p25)}–${formatTokens(p.p75)}`)),
      h('div', { class: 'stat' }, h('span', { class: 'label' }, 'You ask'), h('span', { class: 'value', 'data-testid': 'rate-ours' }, formatTokens(m.ours.price)), h('span', { class: 'hint block' }, m.ours.price === null || p === null ? 'per job: no job announced to you yet' : `per job (median) · ${versus(BigInt(m.ours.price), BigInt(p.p25), BigInt(p.p75))}`)),
      h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Median rate'), h('span', { class: 'value', 'data-testid': 'rate-median' }, num(r.median)), h('span', { class: 'hint block' }, `tokens per million fuel used · yours ${m.ours.ratePerMillionFuel === null ? '—' : num(m.ours.ratePerMillionFuel)}`)),
      h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Receipts'), h('span', { class: 'value', 'data-testid': 'rate-samples' }, String(m.samples)), h('span', { class: 'hint block' }, `from ${m.executors} executor${m.executors === 1 ? '' : 's'}`))),
    m.suggestedPrice !== null
      ? h('div', { class: 'suggest', 'data-testid': 'rate-suggest' },
        h('p', {}, 'Suggested price: ', h('strong', {}, `${formatTokens(m.suggestedPrice)} per job`), ' (the median buyers paid, in whole tokens).'),
        m.wouldHaveWon !== null ? h('p', { 'data-testid': 'rate-would' }, `With it, of your last ${m.wouldHaveWon.considered} announcements you would have bid on ${m.wouldHaveWon.wouldBid}, worth ${formatTokens(m.wouldHaveWon.impliedEarnings)} if every bid won.`) : null,
        h('button', { type: 'button', class: 'small', 'data-testid': 'rate-try', onclick: () => { onUse(m.suggestedPrice ?? '1') } }, 'Try it in the simulator'), ' ',
        h('a', { href: '#/policies', class: 'button-link' }, 'Set my price'))
      : h('p', { class: 'hint' }, 'A suggestion needs at least 3 receipts.'),
    h('details', {}, h('summary', {}, 'Latest receipts'), table(['Finished', 'Executor', 'Price', 'Fuel used', 'Rate'], m.recent.map((s) => [
      time(s.finishedAt), h('span', { class: 'mono', title: s.executorDid }, shortId(s.executorDid, 8)), formatTokens(s.price), formatFuel(s.fuelUsed), num(s.ratePerMillionFuel)
    ]), { testid: 'rate-recent' })))
}

export const marketPage: PageFactory = async ({ api }) => {
  const counters = h('div', {})
  const list = h('div', {})
  const rateBox = h('section', { class: 'card wide', 'aria-labelledby': 'h-rate', 'data-testid': 'market-rate' })
  const decision = h('select', { id: 'decision-filter' }, h('option', { value: '' }, 'all'), h('option', { value: 'bid' }, 'bid'), h('option', { value: 'no_bid' }, 'skipped'))
  const draft = h('textarea', { id: 'sim-policy', rows: 10, spellcheck: 'false', class: 'mono', 'data-testid': 'sim-policy' })
  const lastN = h('input', { id: 'sim-n', type: 'number', min: 1, max: 10000, value: 100, 'data-testid': 'sim-n' })
  const simOut = h('div', { 'data-testid': 'sim-result', 'aria-live': 'polite' })
  const runBtn = h('button', { type: 'button', 'data-testid': 'sim-run' }, 'Run simulation')

  const el = h('div', { class: 'grid' },
    h('section', { class: 'card wide', 'aria-labelledby': 'h-counters' }, h('h2', { id: 'h-counters' }, 'Jobs announced, bids and their outcome'), counters),
    rateBox,
    h('section', { class: 'card wide', 'aria-labelledby': 'h-ann' }, h('h2', { id: 'h-ann' }, 'Jobs announced to this node'),
      h('p', { class: 'hint' }, 'Every announcement, what the node decided and why (open a row for every rule), and for bids whether the buyer picked us.'),
      h('div', { class: 'toolbar' }, h('label', { for: 'decision-filter' }, 'Decision '), decision), list),
    h('section', { class: 'card wide', 'aria-labelledby': 'h-sim' }, h('h2', { id: 'h-sim' }, 'Policy simulator'),
      h('p', { class: 'hint' }, 'Replays the last announcements against a draft policy, each at the time it was received, with this machine as it is now. Nothing is sent.'),
      field('Draft policy (JSON, same format as a policy file)', draft), field('Announcements to replay', lastN), h('div', { class: 'buttons' }, runBtn), simOut))

  const loadStats = async (): Promise<void> => {
    const s = await api.call('market.stats', {})
    clear(counters)
    counters.append(
      h('div', { class: 'stats' },
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Announced'), h('span', { class: 'value', 'data-testid': 'seen' }, String(s.total))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'We bid'), h('span', { class: 'value', 'data-testid': 'bid-count' }, String(s.bid))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Won'), h('span', { class: 'value', 'data-testid': 'won-count' }, String(s.outcomes.won))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Lost'), h('span', { class: 'value', 'data-testid': 'lost-count' }, String(s.outcomes.lost)), h('span', { class: 'hint block' }, 'the buyer picked another executor')),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Refused'), h('span', { class: 'value', 'data-testid': 'refused-count' }, String(s.outcomes.refused)), h('span', { class: 'hint block' }, 'the buyer chose us, we could not take it')),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Never assigned'), h('span', { class: 'value', 'data-testid': 'notsent-count' }, String(s.outcomes.notSent)), h('span', { class: 'hint block' }, 'the bid did not reach the buyer')),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Skipped'), h('span', { class: 'value' }, String(s.noBid)))),
      h('ul', { class: 'counters', 'data-testid': 'skip-counters' }, s.skipped.map((g) => h('li', {}, h('a', { href: '#/market', 'data-rule': g.rule }, g.text)))))
  }
  const loadList = async (): Promise<void> => {
    const d = decision.value
    const anns = await api.call('market.announcements', d === 'bid' || d === 'no_bid' ? { limit: 200, decision: d } : { limit: 200 })
    clear(list)
    list.append(table(['Received', 'Job', 'Buyer', 'Pays up to', 'Our price', 'Decision', 'Why'], anns.map((a) => [
      time(a.receivedAt),
      h('span', {}, a.description ?? h('span', { class: 'hint' }, 'no description'), h('br', {}), h('span', { class: 'mono small' }, a.announcementId)),
      h('span', { class: 'mono', title: a.originatorDid }, shortId(a.originatorDid, 8)),
      typeof a.summary.max_price === 'string' ? formatTokens(a.summary.max_price) : h('span', { class: 'hint' }, 'no limit'),
      formatTokens(a.price),
      outcomeCell(a),
      reasonsList(a)
    ]), { testid: 'announcements', empty: 'No job announced yet. Announcements arrive once this node is connected to the mesh (see Overview).' }))
  }
  decision.addEventListener('change', () => { void loadList() })

  const renderSim = (r: SimulationView): void => {
    clear(simOut)
    const changed = r.items.filter((i) => i.decision !== i.actualDecision).length
    simOut.append(
      h('div', { class: 'stats' },
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Replayed'), h('span', { class: 'value', 'data-testid': 'sim-considered' }, String(r.considered))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Would bid'), h('span', { class: 'value', 'data-testid': 'sim-would-bid' }, String(r.wouldBid))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'If every bid won (tokens)'), h('span', { class: 'value', 'data-testid': 'sim-earnings' }, formatAmount(r.impliedEarnings))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Decided differently'), h('span', { class: 'value' }, String(changed)))),
      h('ul', { class: 'counters' }, r.skipped.map((g) => h('li', {}, skippedText(g.rule, g.count)))),
      table(['Job', 'Would', 'Actually', 'Price', 'Why'], r.items.map((i) => [
        h('span', { class: 'mono' }, i.announcementId),
        i.decision === 'bid' ? badge('bid', 'ok') : badge('skip', 'muted'),
        i.actualDecision === 'bid' ? 'bid' : 'skipped',
        formatTokens(i.price),
        reasonsList(i)
      ]), { testid: 'sim-items' }))
  }
  const runSim = (): void => {
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
  }
  runBtn.addEventListener('click', runSim)

  const useRate = (price: string): void => {
    let p: JsonObject = {}
    try { p = JSON.parse(draft.value) as JsonObject } catch { /* start from an empty draft */ }
    p.pricing = { mode: 'fixed', price: Number(price) }
    draft.value = JSON.stringify(p, null, 2)
    runSim()
    draft.scrollIntoView({ block: 'center' })
  }
  const loadRate = async (): Promise<void> => { rateCard(rateBox, await api.call('market.rate', {}), useRate) }

  const pol = await api.call('policy.get', {})
  draft.value = JSON.stringify(pol.current?.policy ?? {}, null, 2)
  await Promise.all([loadStats(), loadList(), loadRate()])
  let pending = false
  return {
    title: 'Market',
    el,
    onEvent (e: ApiEvent) {
      if ((e.type !== 'announcement:decided' && e.type !== 'job:updated') || pending) return
      pending = true
      void Promise.all([loadStats(), loadList()]).finally(() => { pending = false })
    }
  }
}
