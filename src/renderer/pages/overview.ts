import type { NodeStatus, EarningsView, RunningJobView, ApiEvent, OfferView } from '../../shared/api/contract.js'
import { formatAmount, formatBytes, formatCores, formatDuration, formatFuel, formatTokens, shortId } from '../../shared/api/format.js'
import { h, clear, table, badge, append } from '../dom.js'
import { earningsChart } from '../chart.js'
import { healthBanner } from '../health.js'
import { errorMessage, type PageFactory } from '../page.js'
import { reachabilityBadge, reachabilityBlock } from '../reachability.js'

const tz = (): number => -new Date().getTimezoneOffset()

export function tomorrowMorning (now = new Date()): number {
  const d = new Date(now)
  d.setDate(d.getDate() + 1)
  d.setHours(8, 0, 0, 0)
  return d.getTime()
}

/** Plain words for the node's state badge. */
export const STATE_WORDS: Record<string, string> = { idle: 'idle', bidding: 'ready for work', running: 'running a job', paused: 'paused', error: 'error', offline: 'not running' }

function offerCard (box: HTMLElement, o: OfferView | null | undefined): void {
  clear(box)
  box.append(h('h2', { id: 'h-offer' }, 'What I offer'))
  if (o === null || o === undefined) { box.append(h('p', { class: 'empty' }, 'This node does not report its offer.')); return }
  const gpus = o.gpus.length === 0
    ? h('span', { class: 'hint' }, 'none found on this machine')
    : h('ul', { class: 'plain' }, o.gpus.map((g) => h('li', {}, `${g.vendor} ${g.model}`, g.vramBytes !== null ? ` (${formatBytes(g.vramBytes)})` : '', ' ', g.offered ? badge('offered', 'ok') : badge('not offered', 'muted'))))
  append(box, [
    o.price.free
      ? h('p', { class: 'warning loud', role: 'alert', 'data-testid': 'free-warning' }, 'You are selling for free: your price is 0 tokens, so every job this node runs earns nothing. ', h('a', { href: '#/policies' }, 'Set a price'))
      : null,
    h('dl', { class: 'kv' },
      h('dt', {}, 'Price'), h('dd', { 'data-testid': 'offer-price' }, h('strong', {}, o.price.text),
        o.price.mode !== 'fixed' ? h('span', { class: 'hint block' }, `e.g. ${o.price.examples.map((e) => `${formatFuel(e.maxFuel)} fuel → ${formatTokens(e.price)}`).join(' · ')}`) : null),
      h('dt', {}, 'CPU'), h('dd', { 'data-testid': 'offer-cpu' }, `${formatCores(o.cpu.offered)} of ${formatCores(o.cpu.machine)}`, h('span', { class: 'hint block' }, o.cpu.model)),
      h('dt', {}, 'Memory'), h('dd', { 'data-testid': 'offer-ram' }, `${formatBytes(o.ramBytes.offered)} of ${formatBytes(o.ramBytes.machine)}`),
      h('dt', {}, 'GPU'), h('dd', { 'data-testid': 'offer-gpu' }, gpus),
      h('dt', {}, 'Disk'), h('dd', { 'data-testid': 'offer-disk' }, o.diskBytes.offered === null ? 'none' : `${formatBytes(o.diskBytes.offered)}${o.diskBytes.machineFree !== null ? ` of ${formatBytes(o.diskBytes.machineFree)} free` : ''}`),
      h('dt', {}, 'Jobs at once'), h('dd', { 'data-testid': 'offer-jobs' }, String(o.maxConcurrentJobs)),
      h('dt', {}, 'CPU temperature'), h('dd', { 'data-testid': 'offer-temp' }, o.cpuTemperatureC === null ? h('span', { class: 'hint' }, 'not reported by this machine') : `${o.cpuTemperatureC.toFixed(0)} °C`)),
    h('p', {}, h('a', { href: '#/policies', class: 'button-link' }, 'Change price or what I offer'))])
}

export const overviewPage: PageFactory = async ({ api }) => {
  const healthBox = h('div', { class: 'wide' })
  const offerBox = h('section', { class: 'card', 'aria-labelledby': 'h-offer', 'data-testid': 'offer' })
  const statusBox = h('section', { class: 'card', 'aria-labelledby': 'h-status', 'data-testid': 'status' })
  const networkBox = h('section', { class: 'card', 'aria-labelledby': 'h-network', 'data-testid': 'network' })
  const runningBox = h('section', { class: 'card wide', 'aria-labelledby': 'h-running' })
  const earningsBox = h('section', { class: 'card wide', 'aria-labelledby': 'h-earnings' })
  const el = h('div', { class: 'grid' }, healthBox, offerBox, statusBox, networkBox, runningBox, earningsBox)
  let status: NodeStatus
  let offline = api.state() === 'offline' || api.state() === 'unauthorized'
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
    clear(healthBox)
    healthBox.append(healthBanner(st.health, api, { offline, onStatus: renderStatus }))
    offerCard(offerBox, st.offer)
    clear(statusBox)
    const paused = st.pausedUntil !== null
    const state = offline ? 'offline' : st.state
    statusBox.append(
      h('h2', { id: 'h-status' }, 'Node'),
      h('p', { class: 'state-line' },
        h('span', { class: `badge badge-${state}`, 'data-testid': 'node-state', 'data-state': state }, STATE_WORDS[state] ?? state), ' ',
        h('span', { 'data-testid': 'peers' }, offline ? 'not answering' : st.online && st.peers > 0 ? `connected to ${st.peers} peer${st.peers === 1 ? '' : 's'}` : 'not connected to any peer'), ' ',
        offline ? null : reachabilityBadge(st.reachability)),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Bid automatically'), h('dd', { 'data-testid': 'autobid' }, st.autoBid ? 'on' : 'off'),
        h('dt', {}, 'Paused'), h('dd', { 'data-testid': 'paused' }, paused ? `until ${new Date(st.pausedUntil ?? 0).toLocaleString()}` : 'no'),
        h('dt', {}, 'Region'), h('dd', {}, st.region ?? h('span', { class: 'hint' }, 'none set')),
        h('dt', {}, 'Policy'), h('dd', { 'data-testid': 'policy-version' }, st.policy.version === null ? st.policy.source : `version ${st.policy.version} · ${st.policy.source}`),
        h('dt', {}, 'Running now'), h('dd', {}, `${st.running.length} job${st.running.length === 1 ? '' : 's'}`),
        st.error !== null ? [h('dt', {}, 'Last error'), h('dd', { class: 'error' }, st.error)] : null),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', 'data-testid': 'toggle-autobid', onclick: () => { void act(api.call('node.setAutoBid', { enabled: !st.autoBid })) } }, st.autoBid ? 'Turn auto-bid off' : 'Turn auto-bid on'),
        paused
          ? h('button', { type: 'button', 'data-testid': 'resume', onclick: () => { void act(api.call('node.pause', { untilMs: null })) } }, 'Resume')
          : [
              h('button', { type: 'button', 'data-testid': 'pause-1h', onclick: () => { void act(api.call('node.pause', { untilMs: Date.now() + 3_600_000 })) } }, 'Pause 1 h'),
              h('button', { type: 'button', 'data-testid': 'pause-tomorrow', onclick: () => { void act(api.call('node.pause', { untilMs: tomorrowMorning() })) } }, 'Pause until tomorrow 08:00')
            ]),
      h('p', { class: 'hint' }, 'Pausing and auto-bid are switches, not policy changes: they never create a policy version.'),
      err !== undefined ? h('p', { class: 'error', role: 'alert', 'data-testid': 'action-error' }, err) : '')
    clear(networkBox)
    append(networkBox, [h('h2', { id: 'h-network' }, 'Network'), ...reachabilityBlock(st.reachability)])
    renderRunning(st.running)
  }

  function renderRunning (jobs: RunningJobView[]): void {
    clear(runningBox)
    progressEls.clear()
    elapsedEls.clear()
    runningBox.append(h('h2', { id: 'h-running' }, 'Running jobs'))
    if (jobs.length === 0) { runningBox.append(h('p', { class: 'empty' }, 'No job is running right now.')); return }
    const rows = jobs.map((j) => {
      const bar = h('progress', { max: 1000, value: Math.round(j.fuelFraction * 1000), 'aria-label': `work done of ${j.announcementId}` })
      const text = h('span', { class: 'mono', 'data-testid': `fuel-${j.announcementId}` }, `${formatAmount(j.fuelUsed)} / ${formatAmount(j.maxFuel)}`)
      progressEls.set(j.announcementId, { bar, text })
      const elapsed = h('span', { 'data-testid': `elapsed-${j.announcementId}` }, formatDuration(Date.now() + skew - j.startedAt))
      elapsedEls.set(j.announcementId, { el: elapsed, startedAt: j.startedAt })
      return [
        h('span', {}, j.description ?? h('span', { class: 'hint' }, 'no description'), h('br', {}), h('a', { href: `#/jobs/${encodeURIComponent(j.announcementId)}`, class: 'mono small' }, j.announcementId)),
        j.state, h('div', {}, text, h('br', {}), bar), formatTokens(j.price), elapsed, `${j.timeoutSeconds} s`
      ]
    })
    runningBox.append(table(['Job', 'State', 'Work done (fuel)', 'Price', 'Elapsed', 'Time limit'], rows, { testid: 'running-jobs' }))
  }

  function renderEarnings (e: EarningsView): void {
    clear(earningsBox)
    earningsBox.append(
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
  // some reasons change without an event (temperature, battery, the schedule's hours, a bootstrap retry)
  let polling = false
  const poller = setInterval(() => {
    if (polling || offline) return
    polling = true
    api.call('node.status', {}).then((s) => { renderStatus(s) }, () => {}).finally(() => { polling = false })
  }, 5000)

  return {
    title: 'Overview',
    el,
    dispose () { clearInterval(ticker); clearInterval(poller) },
    onConn (s) {
      const down = s === 'offline' || s === 'unauthorized'
      if (down === offline) return
      offline = down
      renderStatus(status)
    },
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
