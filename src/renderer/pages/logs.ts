/**
 * The node's log: newest first, by level, subsystem, job and text; older lines on demand (the server
 * reads the file backwards in bounded steps, so a big log never comes to the browser whole); "follow"
 * polls for new lines every 2 s.
 */
import { LOG_LEVEL_NAMES, LOG_SUBSYSTEMS, type LogLineView, type LogsQuery, type LogLevelName } from '../../shared/api/contract.js'
import { h, clear, field } from '../dom.js'
import { errorMessage, type PageFactory } from '../page.js'

const SUB_TEXT: Record<string, string> = {
  daemon: 'node', jobs: 'jobs', market: 'bidding', mesh: 'network', nat: 'NAT / reachability', sandbox: 'sandbox', ui: 'dashboard', originator: 'buying', probe: 'hardware'
}

function lineEl (l: LogLineView): HTMLElement {
  const extra = Object.entries(l.extra).filter(([k]) => k !== 'err')
  const err = l.extra.err
  const errText = err !== null && typeof err === 'object' && !Array.isArray(err) && typeof err.message === 'string' ? err.message : null
  return h('li', { class: `logline lvl-${l.level}`, 'data-level': l.level, 'data-sub': l.sub ?? '' },
    h('time', { class: 'mono' }, new Date(l.time).toLocaleString()), ' ',
    h('span', { class: `lvl badge badge-lvl-${l.level}` }, l.level), ' ',
    h('span', { class: 'sub' }, SUB_TEXT[l.sub ?? ''] ?? l.sub ?? ''), ' ',
    l.job !== null ? h('a', { class: 'mono small', href: `#/jobs/${encodeURIComponent(l.job)}` }, l.job) : null, ' ',
    h('span', { class: 'msg' }, l.msg), errText !== null ? h('span', { class: 'error' }, ` — ${errText}`) : null,
    extra.length > 0 ? h('span', { class: 'extra mono' }, ' ', extra.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')) : null)
}

export const logsPage: PageFactory = async ({ api, params }) => {
  const level = h('select', { id: 'log-level', 'data-testid': 'log-level' }, [...LOG_LEVEL_NAMES].reverse().map((l) => h('option', { value: l }, l === 'info' ? 'info (default)' : l)))
  level.value = 'info'
  const subs = LOG_SUBSYSTEMS.map((s) => h('input', { type: 'checkbox', value: s, 'data-testid': `log-sub-${s}` }))
  const job = h('input', { type: 'text', id: 'log-job', 'data-testid': 'log-job', placeholder: 'a job ID', value: params[0] === 'job' ? params[1] ?? '' : '' })
  const text = h('input', { type: 'search', id: 'log-text', 'data-testid': 'log-text', placeholder: 'words in the message' })
  const follow = h('input', { type: 'checkbox', id: 'log-follow', 'data-testid': 'log-follow' })
  const list = h('ol', { class: 'loglines', 'data-testid': 'log-lines', reversed: true })
  const more = h('button', { type: 'button', class: 'secondary', 'data-testid': 'log-more' }, 'Older lines')
  const info = h('p', { class: 'hint', 'data-testid': 'log-info' })
  const problem = h('p', { class: 'error', role: 'alert' })
  let next: string | null = null
  let seq = 0
  let newest = 0

  const query = (): LogsQuery => {
    const q: LogsQuery = { level: level.value as LogLevelName, limit: 200 }
    const s = subs.filter((b) => b.checked).map((b) => b.value)
    if (s.length > 0) q.subs = s
    if (job.value.trim() !== '') q.job = job.value.trim()
    if (text.value.trim() !== '') q.text = text.value.trim()
    return q
  }
  const load = async (append: boolean): Promise<void> => {
    const mine = ++seq
    const q = query()
    if (append && next !== null) q.before = next
    try {
      const r = await api.call('logs.tail', q)
      if (mine !== seq) return
      problem.textContent = ''
      if (!append) { clear(list); newest = r.lines[0]?.time ?? 0 }
      for (const l of r.lines) list.append(lineEl(l))
      next = r.next
      more.hidden = next === null
      info.textContent = r.dir === null ? 'This node writes no log file.' : `${list.children.length} line${list.children.length === 1 ? '' : 's'} shown, newest first, from ${r.dir}.${next === null ? ' That is everything that matches.' : ''}`
      if (list.children.length === 0) list.append(h('li', { class: 'empty' }, 'No line matches these filters.'))
    } catch (err) { problem.textContent = errorMessage(err) }
  }
  /** follow: new lines on top (the newest lines since the last look) */
  const poll = async (): Promise<void> => {
    if (!follow.checked) return
    try {
      const r = await api.call('logs.tail', { ...query(), limit: 100 })
      const fresh = r.lines.filter((l) => l.time > newest)
      if (fresh.length === 0) return
      newest = fresh[0]?.time ?? newest
      list.querySelector('li.empty')?.remove()
      for (const l of fresh.reverse()) list.prepend(lineEl(l))
    } catch { /* the connection banner tells */ }
  }
  let debounce: ReturnType<typeof setTimeout> | undefined
  const reload = (): void => { if (debounce !== undefined) clearTimeout(debounce); debounce = setTimeout(() => { void load(false) }, 200) }
  for (const c of [level, ...subs]) c.addEventListener('change', () => { void load(false) })
  job.addEventListener('input', reload)
  text.addEventListener('input', reload)
  more.addEventListener('click', () => { void load(true) })
  const timer = setInterval(() => { void poll() }, 2000)

  const el = h('section', { class: 'card wide', 'aria-labelledby': 'h-logs' },
    h('h2', { id: 'h-logs' }, 'Logs'),
    h('p', { class: 'hint' }, 'What the node wrote to its log file: connections, bids, jobs, the sandbox. Attach an export of this to a bug report, or look here when nothing seems to happen.'),
    h('div', { class: 'form-grid log-filters' },
      field('At least', level),
      field('Job', job),
      field('Contains', text),
      h('div', { class: 'field' }, h('span', { class: 'label' }, 'Parts of the node'), h('div', { class: 'checks' }, subs.map((b) => h('label', {}, b, ` ${SUB_TEXT[b.value] ?? b.value}`)))),
      h('div', { class: 'field' }, h('label', { for: 'log-follow' }, follow, ' Follow new lines'))),
    problem, info, list, h('div', { class: 'buttons' }, more))
  await load(false)
  return { title: 'Logs', el, dispose () { clearInterval(timer); if (debounce !== undefined) clearTimeout(debounce) } }
}
