import type { NodeStatus, EarningsView, RunningJobView, ApiEvent, ReachabilityView } from '../../shared/api/contract.js'
import { formatAmount, formatDuration, shortId } from '../../shared/api/format.js'
import { h, clear, table, badge, append } from '../dom.js'
import { earningsChart } from '../chart.js'
import { errorMessage, type PageFactory } from '../page.js'
import { reachabilityBadge, reachabilityBlock } from '../reachability.js'

const tz = (): number => -new Date().getTimezoneOffset()

export function tomorrowMorning (now = new Date()): number {
  const d = new Date(now)
  d.setDate(d.getDate() + 1)
  d.setHours(8, 0, 0, 0)
  return d.getTime()
}

export const overviewPage: PageFactory = async ({ api }) => {
  const statusBox = h('section', { class: 'card', 'aria-labelledby': 'h-status', 'data-testid': 'status' })
  const networkBox = h('section', { class: 'card', 'aria-labelledby': 'h-network', 'data-testid': 'network' })
  const runningBox = h('section', { class: 'card wide', 'aria-labelledby': 'h-running' })
  const earningsBox = h('section', { class: 'card wide', 'aria-labelledby': 'h-earnings' })
  const warningsBox = h('div', { class: 'wide warnings', 'data-testid': 'warnings' })
  const el = h('div', { class: 'grid' }, warningsBox, statusBox, networkBox, runningBox, earningsBox)
  let status: NodeStatus
  const progressEls = new Map<string, { bar: HTMLProgressElement, text: HTMLElement }>()
  /** elapsed cells of running jobs, ticked every second (startedAt in the daemon's clock) */
  const elapsedEls = new Map<string, { el: HTMLElement, startedAt: number }>()
  /** daemon clock minus ours, so elapsed times do not depend on the two clocks agreeing */
  let skew = 0

  const act = async (p: Promise<NodeStatus>): Promise<void> => {
    try { renderStatus(await p) } catch (err) { renderStatus(status, errorMessage(err)) }
  }

  function renderStatus (st: NodeStatus, err?: string): void {
    status = st
    skew = st.now - Date.now()
    clear(warningsBox)
    for (const w of st.warnings) warningsBox.append(h('p', { class: 'warning', role: 'alert' }, w))
    clear(statusBox)
    const paused = st.pausedUntil !== null
    statusBox.append(
      h('h2', { id: 'h-status' }, 'Node'),
      h('p', { class: 'state-line' }, badge(st.state, st.state), ' ', st.online ? `online · ${st.peers} peer${st.peers === 1 ? '' : 's'}` : 'offline', ' ', reachabilityBadge(st.reachability)),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Auto-bid'), h('dd', { 'data-testid': 'autobid' }, st.autoBid ? 'on' : 'off'),
        h('dt', {}, 'Paused'), h('dd', {}, paused ? `until ${new Date(st.pausedUntil ?? 0).toLocaleString()}` : 'no'),
        h('dt', {}, 'Region'), h('dd', {}, st.region ?? '—'),
        h('dt', {}, 'Policy'), h('dd', { 'data-testid': 'policy-version' }, st.policy.version === null ? st.policy.source : `version ${st.policy.version} · ${st.policy.source}`),
        h('dt', {}, 'Running'), h('dd', {}, String(st.running.length)),
        st.error !== null ? [h('dt', {}, 'Error'), h('dd', { class: 'error' }, st.error)] : null),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', 'data-testid': 'toggle-autobid', onclick: () => { void act(api.call('node.setAutoBid', { enabled: !st.autoBid })) } }, st.autoBid ? 'Turn auto-bid off' : 'Turn auto-bid on'),
        paused
          ? h('button', { type: 'button', onclick: () => { void act(api.call('node.pause', { untilMs: null })) } }, 'Resume')
          : [
              h('button', { type: 'button', onclick: () => { void act(api.call('node.pause', { untilMs: Date.now() + 3_600_000 })) } }, 'Pause 1 h'),
              h('button', { type: 'button', onclick: () => { void act(api.call('node.pause', { untilMs: tomorrowMorning() })) } }, 'Pause until tomorrow')
            ]),
      err !== undefined ? h('p', { class: 'error', role: 'alert' }, err) : '')
    renderNetwork(st.reachability)
    renderRunning(st.running, st.now)
  }

  function renderNetwork (r: ReachabilityView): void {
    clear(networkBox)
    append(networkBox, [h('h2', { id: 'h-network' }, 'Network'), reachabilityBlock(r)])
  }

  function renderRunning (running: RunningJobView[], now: number): void {
    clear(runningBox)
    progressEls.clear()
    elapsedEls.clear()
    runningBox.append(h('h2', { id: 'h-running' }, 'Running jobs'))
    if (running.length === 0) { runningBox.append(h('p', { class: 'empty' }, 'No job running.')); return }
    runningBox.append(table(['Job', 'State', 'Fuel', 'Progress', 'Price', 'Elapsed'], running.map((j) => {
      const bar = h('progress', { max: 1000, 'aria-label': `fuel used by ${j.announcementId}` })
      bar.value = Math.round(j.fuelFraction * 1000)
      const text = h('span', { 'data-testid': `fuel-${j.announcementId}` }, `${formatAmount(j.fuelUsed)} / ${formatAmount(j.maxFuel)}`)
      progressEls.set(j.announcementId, { bar, text })
      const elapsed = h('span', { 'data-testid': `elapsed-${j.announcementId}` }, formatDuration(now - j.startedAt))
      elapsedEls.set(j.announcementId, { el: elapsed, startedAt: j.startedAt })
      return [h('a', { href: `#/jobs/${encodeURIComponent(j.announcementId)}` }, j.announcementId), j.state, text, bar, formatAmount(j.price), elapsed]
    }), { testid: 'running-jobs' }))
  }

  function renderEarnings (e: EarningsView): void {
    clear(earningsBox)
    earningsBox.append(
      h('h2', { id: 'h-earnings' }, 'Earnings'),
      h('div', { class: 'stats' },
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Today'), h('span', { class: 'value', 'data-testid': 'earn-today' }, formatAmount(e.today))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, '7 days'), h('span', { class: 'value', 'data-testid': 'earn-7d' }, formatAmount(e.last7d))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'All time'), h('span', { class: 'value', 'data-testid': 'earn-all' }, formatAmount(e.allTime))),
        h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Paid jobs'), h('span', { class: 'value' }, String(e.jobs)))),
      earningsChart(e.byDay, 30),
      h('div', { class: 'split' },
        h('div', {}, h('h3', {}, 'By originator'), table(['Originator', 'Jobs', 'Earned'], e.byOriginator.map((o) => [h('span', { title: o.originatorDid, class: 'mono' }, shortId(o.originatorDid, 12)), String(o.jobs), formatAmount(o.amount)]), { testid: 'by-originator' })),
        h('div', {}, h('h3', {}, 'By region'), table(['Region', 'Jobs', 'Earned'], e.byRegion.map((r) => [r.region, String(r.jobs), formatAmount(r.amount)]), { testid: 'by-region' }))))
  }

  const [st, earnings] = await Promise.all([api.call('node.status', {}), api.call('earnings.get', { tzOffsetMinutes: tz(), days: 30 })])
  renderStatus(st)
  renderEarnings(earnings)

  let refreshing = false
  const refreshEarnings = (): void => {
    if (refreshing) return
    refreshing = true
    api.call('earnings.get', { tzOffsetMinutes: tz(), days: 30 }).then(renderEarnings, () => {}).finally(() => { refreshing = false })
  }

  const ticker = setInterval(() => {
    const t = Date.now() + skew
    for (const { el: cell, startedAt } of elapsedEls.values()) cell.textContent = formatDuration(t - startedAt)
  }, 1000)

  return {
    title: 'Overview',
    el,
    dispose () { clearInterval(ticker) },
    onEvent (e: ApiEvent) {
      if (e.type === 'status:changed') renderStatus(e.payload)
      else if (e.type === 'reachability:changed') {
        status = { ...status, reachability: e.payload }
        renderStatus(status)
      } else if (e.type === 'job:progress') {
        const p = progressEls.get(e.payload.announcementId)
        if (p === undefined) { void api.call('node.status', {}).then(renderStatus); return }
        p.bar.value = Math.round(e.payload.fuelFraction * 1000)
        p.text.textContent = `${formatAmount(e.payload.fuelUsed)} / ${formatAmount(e.payload.maxFuel)}`
      } else if (e.type === 'job:updated') void api.call('node.status', {}).then(renderStatus)
      else if (e.type === 'earnings:changed') refreshEarnings()
    }
  }
}
