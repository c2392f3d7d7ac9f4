/** The reachability block shown on Overview and Settings: state, NAT, and every address in use. */
import type { ReachabilityView } from '../shared/api/contract.js'
import { reachabilityText } from '../shared/api/format.js'
import { h, badge, copyButton, type Child } from './dom.js'

const BADGE_KIND: Record<ReachabilityView['state'], string> = { public: 'ok', relayed: 'relayed', unreachable: 'error', unknown: 'muted' }

function addrList (addrs: string[], testid: string, empty: string): HTMLElement {
  if (addrs.length === 0) return h('span', { class: 'hint', 'data-testid': testid }, empty)
  return h('ul', { class: 'addrs', 'data-testid': testid }, addrs.map((a) => h('li', {}, h('span', { class: 'mono break' }, a), ' ', copyButton(a, `Copy ${a}`))))
}

/** Explains what the state means for earning, in one sentence. */
function explain (r: ReachabilityView): string {
  switch (r.state) {
    case 'public': return 'Originators can connect to this node directly.'
    case 'relayed': return 'This node is behind a NAT. Originators reach it through a relay; small messages and modules fit the relay limits, large blocks need a direct connection.'
    case 'unreachable': return 'This node is behind a NAT and no relay holds a reservation for it: originators cannot reach it for bids and assignments. Add a relay as bootstrap peer, or forward a port / enable UPnP.'
    case 'unknown': return r.checks.ok + r.checks.failed === 0 ? 'Waiting for AutoNAT answers from peers.' : 'Not enough AutoNAT answers yet.'
  }
}

export function reachabilityBlock (r: ReachabilityView, opts: { detailed?: boolean } = {}): Child[] {
  const detailed = opts.detailed === true
  return [
    h('p', { class: 'state-line' },
      h('span', { class: `badge badge-${BADGE_KIND[r.state]}`, 'data-testid': 'reachability', 'data-state': r.state }, r.state),
      ' ', h('span', { 'data-testid': 'reachability-text' }, reachabilityText(r.state))),
    h('p', { class: 'hint' }, explain(r)),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Behind a router (NAT)'), h('dd', { 'data-testid': 'nat' }, r.natDetected ? 'detected' : 'not detected',
        ` · reachability checks by peers (AutoNAT): ${r.autonat} (${r.checks.ok} ok, ${r.checks.failed} failed)`),
      h('dt', {}, 'Observed public address'), h('dd', { 'data-testid': 'observed-public' }, r.observedPublicAddr !== null ? h('span', { class: 'mono break' }, r.observedPublicAddr) : h('span', { class: 'hint' }, 'not known')),
      h('dt', {}, 'Listening on'), h('dd', {}, addrList(r.listenAddrs, 'listen-addrs', 'no listen address')),
      h('dt', {}, 'Relay addresses'), h('dd', {}, addrList(r.relayAddrs, 'relay-addrs', r.state === 'public' ? 'not needed' : 'no relay reservation')),
      detailed ? [h('dt', {}, 'Confirmed direct'), h('dd', {}, addrList(r.publicAddrs, 'public-addrs', 'none confirmed'))] : null,
      detailed ? [h('dt', {}, 'Seen by peers as'), h('dd', { class: 'mono break', 'data-testid': 'observed-addrs' }, r.observedAddrs.length > 0 ? r.observedAddrs.join(', ') : '—')] : null,
      h('dt', {}, 'Connections'), h('dd', { 'data-testid': 'conn-kinds' }, `${r.connections.direct} direct, ${r.connections.relayed} relayed`,
        r.holePunched > 0 ? `, ${r.holePunched} upgraded by hole punching` : ''),
      r.changedAt !== null ? [h('dt', {}, 'Changed'), h('dd', {}, new Date(r.changedAt).toLocaleString())] : null)
  ]
}

/** A badge for the node card header. */
export function reachabilityBadge (r: ReachabilityView): HTMLElement {
  return badge(r.state === 'relayed' ? 'via relay' : r.state === 'unknown' ? 'reachability unknown' : r.state, BADGE_KIND[r.state])
}
