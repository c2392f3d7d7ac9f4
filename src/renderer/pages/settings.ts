import type { SettingsView, SettingsPatch, ApiEvent, ReachabilityView, FieldIssue } from '../../shared/api/contract.js'
import { h, clear, field, copyButton, append } from '../dom.js'
import { reachabilityBlock } from '../reachability.js'
import { errorMessage, type PageFactory } from '../page.js'

const RESTART_WORDS: Record<string, string> = { region: 'the region', listenAddrs: 'the listen addresses', bootstrapPeers: 'the bootstrap peers', dataDir: 'the data directory' }
/** "A", "A and B", "A, B and C", capitalized. */
function sentence (xs: string[]): string {
  const s = xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1) ?? ''}`
  return s.charAt(0).toUpperCase() + s.slice(1)
}
const lines = (s: string): string[] => s.split(/\n+/).map((x) => x.trim()).filter((x) => x !== '')

export const settingsPage: PageFactory = async ({ api }) => {
  const st: SettingsView = await api.call('settings.get', {})
  const region = h('input', { type: 'text', id: 'set-region', value: st.region ?? '', 'data-testid': 'set-region', placeholder: 'e.g. eu-west', 'aria-describedby': 'err-region' })
  const listen = h('textarea', { rows: 2, spellcheck: 'false', class: 'mono', id: 'set-listen', 'data-testid': 'set-listen', 'aria-describedby': 'err-listenAddrs' })
  listen.value = st.listenAddrs.join('\n')
  const boot = h('textarea', { rows: 3, spellcheck: 'false', class: 'mono', id: 'set-boot', 'data-testid': 'set-boot', 'aria-describedby': 'err-bootstrapPeers' })
  boot.value = st.bootstrapPeers.join('\n')
  const login = h('input', { type: 'checkbox', 'data-testid': 'set-login' })
  login.checked = st.startAtLogin
  const minimized = h('input', { type: 'checkbox' })
  minimized.checked = st.startMinimized
  const out = h('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'settings-result' })
  const problems = h('div', { 'data-testid': 'settings-errors', 'aria-live': 'polite' })
  const save = h('button', { type: 'button', 'data-testid': 'settings-save' }, 'Save settings')
  const errorSlots: Record<string, HTMLElement> = {
    region: h('span', { class: 'field-error', id: 'err-region', 'data-testid': 'err-region' }),
    listenAddrs: h('span', { class: 'field-error', id: 'err-listenAddrs', 'data-testid': 'err-listenAddrs' }),
    bootstrapPeers: h('span', { class: 'field-error', id: 'err-bootstrapPeers', 'data-testid': 'err-bootstrapPeers' })
  }
  const controls: Record<string, HTMLElement> = { region, listenAddrs: listen, bootstrapPeers: boot }

  // only what the owner changed: saving a new region must not also store the listen addresses and
  // bootstrap peers shown (those of this run, maybe from command-line flags) as settings
  let loaded = st
  const patch = (): SettingsPatch => {
    const p: SettingsPatch = {}
    const r = region.value.trim() === '' ? null : region.value.trim()
    if (r !== loaded.region) p.region = r
    if (lines(listen.value).join('\n') !== loaded.listenAddrs.join('\n')) p.listenAddrs = lines(listen.value)
    if (lines(boot.value).join('\n') !== loaded.bootstrapPeers.join('\n')) p.bootstrapPeers = lines(boot.value)
    if (login.checked !== loaded.startAtLogin) p.startAtLogin = login.checked
    if (minimized.checked !== loaded.startMinimized) p.startMinimized = minimized.checked
    return p
  }
  const show = (errors: FieldIssue[]): void => {
    for (const [k, slot] of Object.entries(errorSlots)) {
      const mine = errors.filter((e) => e.path === k)
      slot.textContent = mine.map((e) => e.message).join('; ')
      controls[k]?.setAttribute('aria-invalid', mine.length > 0 ? 'true' : 'false')
    }
    clear(problems)
    if (errors.length > 0) problems.append(h('ul', { class: 'errors' }, errors.map((e) => h('li', { class: 'error', 'data-path': e.path }, h('strong', {}, e.label), ': ', e.message))))
    save.disabled = errors.length > 0
  }
  let seq = 0
  const validate = async (): Promise<void> => {
    const mine = ++seq
    try {
      const v = await api.call('settings.validate', { patch: patch() })
      if (mine === seq) show(v.errors)
    } catch (err) { if (mine === seq) { clear(problems); problems.append(h('p', { class: 'error' }, errorMessage(err))) } }
  }
  for (const c of [region, listen, boot]) c.addEventListener('input', () => { void validate() })

  save.addEventListener('click', () => {
    save.disabled = true
    const changes = patch()
    api.call('settings.update', { patch: changes }).then((v) => {
      loaded = v
      const later = v.restartRequired.filter((k) => k in changes).map((k) => RESTART_WORDS[k] ?? k)
      clear(out)
      out.append(h('p', { class: 'ok' }, Object.keys(changes).length === 0 ? 'Nothing changed.' : `Saved.${later.length > 0 ? ` ${sentence(later)} take${later.length === 1 && !(later[0] ?? '').endsWith('s') ? 's' : ''} effect when the node restarts.` : ''}`))
    }, (err: unknown) => { clear(out); out.append(h('p', { class: 'error', role: 'alert' }, errorMessage(err))) }).finally(() => { void validate() })
  })

  const netBox = h('section', { class: 'card wide', 'aria-labelledby': 'h-reach', 'data-testid': 'settings-network' })
  const renderNet = (r: ReachabilityView): void => {
    clear(netBox)
    append(netBox, [
      h('h2', { id: 'h-reach' }, 'Can buyers reach this node?'),
      reachabilityBlock(r, { detailed: true }),
      h('p', { class: 'hint' }, 'What the running node uses now. The listen addresses and bootstrap peers below are what it starts with; bootstrap peers running mesh-executor relay also act as relays for nodes behind a NAT (a home router).')
    ])
  }
  renderNet(st.reachability)

  const el = h('div', { class: 'grid' },
    h('section', { class: 'card wide', 'aria-labelledby': 'h-id' }, h('h2', { id: 'h-id' }, 'Identity'),
      h('p', { class: 'hint' }, 'This node signs its bids and receipts with a key kept in its data directory. Buyers know it by these IDs.'),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Node ID ', h('abbr', { title: 'decentralized identifier' }, '(DID)')), h('dd', {}, h('span', { class: 'mono break', 'data-testid': 'did' }, st.did), ' ', copyButton(st.did, 'Copy DID')),
        h('dt', {}, 'Network ID (PeerId)'), h('dd', {}, h('span', { class: 'mono break', 'data-testid': 'peer-id' }, st.peerId), ' ', copyButton(st.peerId, 'Copy PeerId')),
        h('dt', {}, 'Data directory'), h('dd', { class: 'mono break' }, st.dataDir))),
    netBox,
    h('section', { class: 'card wide', 'aria-labelledby': 'h-net' }, h('h2', { id: 'h-net' }, 'Node'),
      h('p', { class: 'hint' }, 'How much of the machine is offered (CPU, memory, disk, GPUs, jobs at once) is part of your policy: ', h('a', { href: '#/policies' }, 'Policies → What you offer'), '.'),
      h('div', { class: 'form-grid' },
        h('fieldset', {}, h('legend', {}, 'Network'),
          field('Region', region, 'lowercase letters, digits and "-", e.g. eu-west; jobs for other regions are not offered to this node', errorSlots.region),
          field('Listen addresses, one per line', listen, 'network addresses (multiaddrs) like /ip4/0.0.0.0/tcp/4001; restart required', errorSlots.listenAddrs),
          field('Bootstrap peers, one per line', boot, 'the peers this node joins the mesh through: addresses ending in /p2p/<peer id>; restart required', errorSlots.bootstrapPeers)),
        h('fieldset', {}, h('legend', {}, 'Desktop app'),
          field('Start at login', login), field('Start minimized to the tray', minimized))),
      problems,
      h('div', { class: 'buttons' }, save), out))
  return {
    title: 'Settings',
    el,
    onEvent (e: ApiEvent) {
      if (e.type === 'reachability:changed') renderNet(e.payload)
      else if (e.type === 'status:changed') renderNet(e.payload.reachability)
    }
  }
}
