/**
 * Renderer entry: hash router (#/overview, #/jobs/<id>, …), live events dispatched to the current
 * page, connection indicator. State for tests and assistive tech is exposed as data attributes on
 * <html>: data-page (current page), data-ready ("1" once rendered), data-conn, data-events (count).
 */
import type { ApiEvent } from '../shared/api/contract.js'
import { createClient, type ConnState } from './client.js'
import { h, clear } from './dom.js'
import { errorMessage, type Page, type PageFactory } from './page.js'
import { overviewPage } from './pages/overview.js'
import { jobsPage } from './pages/jobs.js'
import { marketPage } from './pages/market.js'
import { policiesPage } from './pages/policies.js'
import { receiptsPage } from './pages/receipts.js'
import { settingsPage } from './pages/settings.js'

const PAGES: Record<string, PageFactory> = {
  overview: overviewPage,
  jobs: jobsPage,
  market: marketPage,
  policies: policiesPage,
  receipts: receiptsPage,
  settings: settingsPage
}

const root = document.documentElement
const main = document.getElementById('main') as HTMLElement
const conn = document.getElementById('conn') as HTMLElement
const dot = document.getElementById('state-dot') as HTMLElement
let events = 0

const api = createClient((s: ConnState) => {
  root.dataset.conn = s
  conn.textContent = s === 'live' ? 'live' : s === 'connecting' ? 'connecting…' : 'offline — reconnecting'
  conn.className = `conn conn-${s}`
})

let current: Page | undefined
let navSeq = 0

async function route (): Promise<void> {
  const seq = ++navSeq
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map(decodeURIComponent)
  const name = parts[0] !== undefined && parts[0] in PAGES ? parts[0] : 'overview'
  root.dataset.ready = '0'
  current?.dispose?.()
  current = undefined
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  try {
    const page = await (PAGES[name] as PageFactory)({ api, params: parts.slice(1) })
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
    dot.className = `dot dot-${e.payload.state}`
    dot.title = e.payload.state
  }
  try { current?.onEvent?.(e) } catch (err) { console.error(err) }
})

window.addEventListener('hashchange', () => { void route(); main.focus({ preventScroll: true }) })
void api.call('node.status', {}).then((s) => { dot.className = `dot dot-${s.state}`; dot.title = s.state }, () => {})
void route()
