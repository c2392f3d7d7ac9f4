/**
 * Overview: the health banner, what I offer, the node and its switches, the network, running jobs and
 * earnings. Kept live: events re-draw what they change, the status is re-read every 5 s (some reasons
 * change without an event) and elapsed times tick every second. The cards are in overview/.
 */
import type { NodeStatus, ApiEvent } from '../../shared/api/contract.js'
import { h, clear, append } from '../dom.js'
import { healthBanner } from '../health.js'
import { errorMessage, type PageFactory } from '../page.js'
import { reachabilityBlock } from '../reachability.js'
import { earningsCard } from './overview/earnings-card.js'
import { nodeCard } from './overview/node-card.js'
import { offerCard } from './overview/offer-card.js'
import { runningJobs } from './overview/running-jobs.js'

export { STATE_WORDS, tomorrowMorning } from './overview/node-card.js'

const tz = (): number => -new Date().getTimezoneOffset()

export const overviewPage: PageFactory = async ({ api }) => {
  const healthBox = h('div', { class: 'wide' })
  const offerBox = h('section', { class: 'card', 'aria-labelledby': 'h-offer', 'data-testid': 'offer' })
  const statusBox = h('section', { class: 'card', 'aria-labelledby': 'h-status', 'data-testid': 'status' })
  const networkBox = h('section', { class: 'card', 'aria-labelledby': 'h-network', 'data-testid': 'network' })
  const runningBox = h('section', { class: 'card wide', 'aria-labelledby': 'h-running' })
  const earningsBox = h('section', { class: 'card wide', 'aria-labelledby': 'h-earnings' })
  const el = h('div', { class: 'grid' }, healthBox, offerBox, statusBox, networkBox, runningBox, earningsBox)
  const running = runningJobs(runningBox)
  let status: NodeStatus
  let offline = api.state() === 'offline' || api.state() === 'unauthorized'

  const act = async (p: Promise<NodeStatus>): Promise<void> => {
    try { renderStatus(await p) } catch (err) { renderStatus(status, errorMessage(err)) }
  }

  function renderStatus (st: NodeStatus, err?: string): void {
    status = st
    // daemon clock minus ours, so elapsed times do not depend on the two clocks agreeing
    const skew = st.now - Date.now()
    clear(healthBox)
    healthBox.append(healthBanner(st.health, api, { offline, onStatus: renderStatus }))
    offerCard(offerBox, st.offer)
    nodeCard(statusBox, st, api, { offline, act: (p) => { void act(p) }, err })
    clear(networkBox)
    append(networkBox, [h('h2', { id: 'h-network' }, 'Network'), ...reachabilityBlock(st.reachability)])
    running.render(st.running, skew)
  }

  const [st, earnings] = await Promise.all([api.call('node.status', {}), api.call('earnings.get', { tzOffsetMinutes: tz(), days: 30 })])
  renderStatus(st)
  earningsCard(earningsBox, earnings)

  let refreshing = false
  const refreshEarnings = (): void => {
    if (refreshing) return
    refreshing = true
    api.call('earnings.get', { tzOffsetMinutes: tz(), days: 30 }).then((e) => { earningsCard(earningsBox, e) }, () => {}).finally(() => { refreshing = false })
  }

  const ticker = setInterval(() => { running.tick() }, 1000)
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
        if (!running.progress(e.payload)) void api.call('node.status', {}).then(renderStatus)
      } else if (e.type === 'job:updated') void api.call('node.status', {}).then(renderStatus)
      else if (e.type === 'earnings:changed') refreshEarnings()
    }
  }
}
