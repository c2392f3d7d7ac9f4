/** The "Node" card: state, peers and reachability, the switches (auto-bid, pause, resume) and what they are set to. */
import type { NodeStatus } from '../../../shared/api/contract.js'
import { h, clear } from '../../dom.js'
import type { PageCtx } from '../../page.js'
import { reachabilityBadge } from '../../reachability.js'

/** Plain words for the node's state badge. */
export const STATE_WORDS: Record<string, string> = { idle: 'idle', bidding: 'ready for work', running: 'running a job', paused: 'paused', error: 'error', offline: 'not running' }

export function tomorrowMorning (now = new Date()): number {
  const d = new Date(now)
  d.setDate(d.getDate() + 1)
  d.setHours(8, 0, 0, 0)
  return d.getTime()
}

export interface NodeCardOpts {
  /** The node does not answer: the state says "not running". */
  offline: boolean
  /** Runs a switch's call and shows the status it answers (or the error). */
  act: (p: Promise<NodeStatus>) => void
  /** The last switch's error, if it failed. */
  err?: string
}

export function nodeCard (box: HTMLElement, st: NodeStatus, api: PageCtx['api'], { offline, act, err }: NodeCardOpts): void {
  clear(box)
  const paused = st.pausedUntil !== null
  const state = offline ? 'offline' : st.state
  box.append(
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
      h('button', { type: 'button', 'data-testid': 'toggle-autobid', onclick: () => { act(api.call('node.setAutoBid', { enabled: !st.autoBid })) } }, st.autoBid ? 'Turn auto-bid off' : 'Turn auto-bid on'),
      paused
        ? h('button', { type: 'button', 'data-testid': 'resume', onclick: () => { act(api.call('node.pause', { untilMs: null })) } }, 'Resume')
        : [
            h('button', { type: 'button', 'data-testid': 'pause-1h', onclick: () => { act(api.call('node.pause', { untilMs: Date.now() + 3_600_000 })) } }, 'Pause 1 h'),
            h('button', { type: 'button', 'data-testid': 'pause-tomorrow', onclick: () => { act(api.call('node.pause', { untilMs: tomorrowMorning() })) } }, 'Pause until tomorrow 08:00')
          ]),
    h('p', { class: 'hint' }, 'Pausing and auto-bid are switches, not policy changes: they never create a policy version.'),
    err !== undefined ? h('p', { class: 'error', role: 'alert', 'data-testid': 'action-error' }, err) : '')
}
