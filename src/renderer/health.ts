/** The health banner: why work can or cannot come to this node, each reason with its fix and, where there is one, a button. */
import type { ApiClient, HealthReason, HealthView, NodeStatus } from '../shared/api/contract.js'
import { h } from './dom.js'
import { errorMessage } from './page.js'

const SEVERITY_TEXT = { blocking: 'Blocks work', warning: 'Costs you', info: 'Good to know' } as const

function actionButton (r: HealthReason, api: ApiClient, done: (s: NodeStatus) => void, failed: (msg: string) => void): HTMLElement | null {
  const a = r.action
  if (a === undefined) return null
  if (a.kind === 'link') return h('a', { href: a.href, class: 'button-link', 'data-testid': `fix-${r.code}` }, a.label)
  const run = (): void => {
    const p = a.kind === 'resume' ? api.call('node.pause', { untilMs: null }) : api.call('node.setAutoBid', { enabled: true })
    p.then(done, (err: unknown) => { failed(errorMessage(err)) })
  }
  return h('button', { type: 'button', class: 'small', 'data-testid': `fix-${r.code}`, onclick: run }, a.kind === 'resume' ? 'Resume now' : 'Turn auto-bid on')
}

/** The banner for a node's health; `offline` replaces it with the daemon-offline state. */
export function healthBanner (health: HealthView | undefined, api: ApiClient, opts: { offline?: boolean, onStatus: (s: NodeStatus) => void }): HTMLElement {
  if (opts.offline === true) {
    return h('section', { class: 'health health-blocking wide', 'data-testid': 'health', 'data-can-bid': '0', 'aria-labelledby': 'h-health' },
      h('h2', { id: 'h-health' }, 'No work can come: the node is not running'),
      h('ul', { class: 'health-reasons' }, h('li', { class: 'reason sev-blocking', 'data-code': 'offline' },
        h('strong', {}, 'Node offline'), ' ', h('span', { class: 'detail' }, 'The daemon does not answer this page.'),
        h('span', { class: 'fix' }, 'Start it again (mesh-executor start --ui-port …, or the desktop app); this page reconnects by itself.'))))
  }
  if (health === undefined) return h('section', { class: 'health wide', 'data-testid': 'health', 'data-can-bid': '1' })
  const err = h('p', { class: 'error', role: 'alert' })
  const kind = !health.canBid ? 'blocking' : health.reasons.some((r) => r.severity === 'warning') ? 'warning' : 'ok'
  return h('section', { class: `health health-${kind} wide`, 'data-testid': 'health', 'data-can-bid': health.canBid ? '1' : '0', 'aria-labelledby': 'h-health' },
    h('h2', { id: 'h-health', 'data-testid': 'health-summary' }, health.summary),
    health.reasons.length === 0
      ? h('p', { class: 'hint' }, 'Connected, bidding on every job your policy accepts. Nothing to fix.')
      : h('ul', { class: 'health-reasons' }, health.reasons.map((r) => h('li', { class: `reason sev-${r.severity}`, 'data-code': r.code },
        h('span', { class: 'sev' }, SEVERITY_TEXT[r.severity]), ' ',
        h('strong', {}, r.title), ' ',
        h('span', { class: 'detail' }, r.detail),
        h('span', { class: 'fix' }, r.fix, ' ', actionButton(r, api, opts.onStatus, (m) => { err.textContent = m }))))),
    err)
}
