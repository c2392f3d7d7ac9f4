/** Snooze: no bids until a chosen time (node.pause, a runtime switch, not a policy version), and resume now. */
import type { NodeStatus } from '../../../shared/api/contract.js'
import { h } from '../../dom.js'
import { errorMessage, type PageCtx } from '../../page.js'

export function snoozeBox (api: PageCtx['api'], st: NodeStatus): HTMLElement {
  const at = h('input', { type: 'datetime-local', 'data-testid': 'snooze-at', id: 'snooze-at' })
  const msg = h('p', { role: 'status', 'data-testid': 'snooze-status' })
  const show = (s: NodeStatus): void => { msg.textContent = s.pausedUntil === null ? 'Not paused.' : `Paused until ${new Date(s.pausedUntil).toLocaleString()}.` }
  const snooze = h('button', { type: 'button', 'data-testid': 'snooze', onclick: () => {
    const t = new Date(at.value).getTime()
    if (!Number.isFinite(t) || t <= Date.now()) { msg.textContent = 'Choose a time in the future.'; return }
    api.call('node.pause', { untilMs: t }).then(show, (err: unknown) => { msg.textContent = errorMessage(err) })
  } }, 'Snooze until then')
  const resume = h('button', { type: 'button', class: 'secondary', 'data-testid': 'snooze-resume', onclick: () => { api.call('node.pause', { untilMs: null }).then(show, (err: unknown) => { msg.textContent = errorMessage(err) }) } }, 'Resume now')
  show(st)
  return h('fieldset', { class: 'pfield', 'data-testid': 'snooze-box' }, h('legend', {}, 'Snooze'), h('p', { class: 'help' }, 'No bids until a time you choose. A switch, not a policy change: it makes no new version.'),
    h('div', { class: 'buttons' }, h('label', { for: 'snooze-at' }, 'Until '), at, snooze, resume), msg)
}
