/**
 * Renderer entry: hash router (#/overview, #/jobs/<id>, …; an unknown route shows a not-found page),
 * live events dispatched to the current page, and the connection: while the node does not answer the
 * page says so (with how to start it), its controls are inert and the state dot is grey; when the node
 * is back the page reloads its data by itself.
 * State for tests and assistive tech is exposed as data attributes on <html>: data-page (current
 * page), data-ready ("1" once rendered), data-conn (live/connecting/offline/unauthorized), data-events (count).
 */
import type { ApiEvent, NodeState } from '../shared/api/contract.js'
import { createClient, type ConnState } from './client.js'
import { h, clear } from './dom.js'
import { errorMessage, type Page, type PageFactory } from './page.js'
import { overviewPage } from './pages/overview.js'
import { jobsPage } from './pages/jobs.js'
import { marketPage } from './pages/market.js'
import { policiesPage } from './pages/policies.js'
import { receiptsPage } from './pages/receipts.js'
import { settingsPage } from './pages/settings.js'
import { logsPage } from './pages/logs.js'

const PAGES: Record<string, PageFactory> = {
  overview: overviewPage,
  jobs: jobsPage,
  market: marketPage,
  policies: policiesPage,
  receipts: receiptsPage,
  logs: logsPage,
  settings: settingsPage
}

const STATE_TEXT: Record<NodeState | 'offline', string> = {
  idle: 'idle: no work can come now (see Overview)',
  bidding: 'ready for work',
  running: 'running a job',
  paused: 'paused',
  error: 'error (see Overview)',
  offline: 'not running'
}

const root = document.documentElement
const main = document.getElementById('main') as HTMLElement
const conn = document.getElementById('conn') as HTMLElement
const dot = document.getElementById('state-dot') as HTMLElement
const banner = document.getElementById('conn-banner') as HTMLElement
let events = 0
let lastState: NodeState = 'idle'

const setDot = (s: NodeState | 'offline'): void => {
  dot.className = `dot dot-${s}`
  dot.title = STATE_TEXT[s]
  dot.setAttribute('aria-label', `Node: ${STATE_TEXT[s]}`)
  root.dataset.nodeState = s
}

function renderBanner (s: ConnState): void {
  clear(banner)
  if (s === 'offline') {
    banner.append(h('div', { class: 'conn-banner offline', role: 'alert', 'data-testid': 'offline' },
      h('strong', {}, 'The node is not running.'),
      ' This page cannot reach it: it has stopped, crashed or is restarting. What you see below is from before; buttons are off until it is back. ',
      h('span', { class: 'fix' }, 'Start it again — ', h('code', {}, 'mesh-executor start --ui-port ' + (location.port === '' ? '8787' : location.port)), ', or restart the desktop app — and this page reconnects by itself.'),
      ' ', h('button', { type: 'button', class: 'small', onclick: () => { api.reconnectNow() } }, 'Try now')))
  } else if (s === 'unauthorized') {
    banner.append(h('div', { class: 'conn-banner offline', role: 'alert', 'data-testid': 'unauthorized' },
      h('strong', {}, 'This page lost its access to the node.'),
      ' Its access token changed (or the cookie was cleared). ',
      h('span', { class: 'fix' }, 'Run ', h('code', {}, 'mesh-executor dashboard --open'), ' to get the current address.')))
  }
}

let wasDown = false
const api = createClient((s: ConnState) => {
  root.dataset.conn = s
  conn.textContent = s === 'live' ? 'live' : s === 'connecting' ? 'connecting…' : s === 'unauthorized' ? 'no access' : 'node not running'
  conn.className = `conn conn-${s}`
  const down = s === 'offline' || s === 'unauthorized'
  main.inert = down
  renderBanner(s)
  try { current?.onConn?.(s) } catch (err) { console.error(err) }
  if (down) { setDot('offline'); wasDown = true } else if (s === 'live') {
    setDot(lastState)
    // back after an outage: reload what the page shows
    if (wasDown) { wasDown = false; void route() }
  }
})

let current: Page | undefined
let navSeq = 0

async function route (): Promise<void> {
  const seq = ++navSeq
  const hash = location.hash.replace(/^#\/?/, '')
  const parts = hash.split('/').filter((p) => p !== '').map((p) => { try { return decodeURIComponent(p) } catch { return p } })
  const name = parts[0] === undefined ? 'overview' : parts[0]
  const factory = PAGES[name]
  root.dataset.ready = '0'
  current?.dispose?.()
  current = undefined
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  if (factory === undefined) {
    clear(main)
    main.append(h('section', { class: 'card wide', 'data-testid': 'not-found' },
      h('h2', {}, 'Page not found'),
      h('p', {}, `There is no page “${hash.slice(0, 80)}” in this dashboard.`),
      h('p', {}, h('a', { href: '#/overview' }, 'Go to the overview'))))
    document.title = 'Not found · Mesh Executor'
    root.dataset.page = 'not-found'
    root.dataset.ready = '1'
    return
  }
  try {
    const page = await factory({ api, params: parts.slice(1) })
    if (seq !== navSeq) { page.dispose?.(); return }
    current = page
    clear(main)
    main.append(page.el)
    document.title = `${page.title} · Mesh Executor`
  } catch (err) {
    if (seq !== navSeq) return
    clear(main)
    main.append(h('section', { class: 'card wide' }, h('h2', {}, 'Could not load this page'), h('p', { class: 'error', role: 'alert', 'data-testid': 'page-error' }, errorMessage(err))))
  }
  root.dataset.page = name
  root.dataset.ready = '1'
}

api.onEvent((e: ApiEvent) => {
  events++
  root.dataset.events = String(events)
  if (e.type === 'status:changed') {
    lastState = e.payload.state
    if (api.state() === 'live') setDot(e.payload.state)
  }
  try { current?.onEvent?.(e) } catch (err) { console.error(err) }
})

window.addEventListener('hashchange', () => { void route(); main.focus({ preventScroll: true }) })
void api.call('node.status', {}).then((s) => { lastState = s.state; setDot(s.state) }, () => {})
void route()
