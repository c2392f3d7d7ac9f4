/** The saved versions: the version in force (in the page's title line) and the table of every version. */
import type { PolicyView } from '../../../shared/api/contract.js'
import { h, clear, time, table } from '../../dom.js'

export interface PolicyHistory {
  /** "version N", or that none is saved yet. */
  versionLabel: HTMLElement
  el: HTMLElement
  render(history: PolicyView[], current: PolicyView | null): void
}

export function policyHistory (): PolicyHistory {
  const versionLabel = h('span', { 'data-testid': 'policy-version' })
  const el = h('div', {})
  return {
    versionLabel,
    el,
    render (all, cur) {
      versionLabel.textContent = cur === null ? 'none saved yet: the built-in default is in force' : `version ${cur.version}`
      clear(el)
      el.append(table(['Version', 'Saved', 'Note'], all.map((v) => [String(v.version), time(v.createdAt), v.note ?? '']), { testid: 'policy-history', empty: 'No version saved yet.' }))
    }
  }
}
