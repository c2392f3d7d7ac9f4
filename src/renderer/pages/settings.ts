import type { SettingsView, SettingsPatch, ApiEvent, ReachabilityView } from '../../shared/api/contract.js'
import { h, clear, field, copyButton, append } from '../dom.js'
import { reachabilityBlock } from '../reachability.js'
import { errorMessage, type PageFactory } from '../page.js'

const GIB = 1024 ** 3
const lines = (s: string): string[] => s.split(/\s+/).map((x) => x.trim()).filter((x) => x !== '')

export const settingsPage: PageFactory = async ({ api }) => {
  const st: SettingsView = await api.call('settings.get', {})
  const region = h('input', { type: 'text', value: st.region ?? '', 'data-testid': 'set-region', placeholder: 'e.g. eu-west' })
  const listen = h('textarea', { rows: 2, spellcheck: 'false', class: 'mono' })
  listen.value = st.listenAddrs.join('\n')
  const boot = h('textarea', { rows: 3, spellcheck: 'false', class: 'mono' })
  boot.value = st.bootstrapPeers.join('\n')
  const num = (v: number | null, step: string): HTMLInputElement => h('input', { type: 'number', step, min: 0, value: v === null ? '' : String(v) })
  const cpu = num(st.caps.cpu, '0.25')
  const ram = num(st.caps.ramBytes === null ? null : Math.round(st.caps.ramBytes / GIB * 100) / 100, '0.25')
  const disk = num(st.caps.diskBytes === null ? null : Math.round(st.caps.diskBytes / GIB * 100) / 100, '1')
  const jobs = num(st.caps.maxConcurrentJobs, '1')
  const login = h('input', { type: 'checkbox', 'data-testid': 'set-login' })
  login.checked = st.startAtLogin
  const minimized = h('input', { type: 'checkbox' })
  minimized.checked = st.startMinimized
  const out = h('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'settings-result' })
  const save = h('button', { type: 'button', 'data-testid': 'settings-save' }, 'Save settings')
  const optNum = (i: HTMLInputElement, scale = 1): number | null => i.value.trim() === '' ? null : Math.round(Number(i.value) * scale)

  save.addEventListener('click', () => {
    const patch: SettingsPatch = {
      region: region.value.trim() === '' ? null : region.value.trim(),
      listenAddrs: lines(listen.value),
      bootstrapPeers: lines(boot.value),
      caps: { cpu: cpu.value.trim() === '' ? null : Number(cpu.value), ramBytes: optNum(ram, GIB), diskBytes: optNum(disk, GIB), maxConcurrentJobs: optNum(jobs) },
      startAtLogin: login.checked,
      startMinimized: minimized.checked
    }
    save.disabled = true
    api.call('settings.update', { patch }).then((v) => {
      clear(out)
      out.append(h('p', { class: 'ok' }, `Saved. ${v.restartRequired.length > 0 ? `Changes to ${v.restartRequired.join(', ')} take effect after a restart.` : ''}`))
    }, (err: unknown) => { clear(out); out.append(h('p', { class: 'error', role: 'alert' }, errorMessage(err))) }).finally(() => { save.disabled = false })
  })

  const netBox = h('section', { class: 'card wide', 'aria-labelledby': 'h-reach', 'data-testid': 'settings-network' })
  const renderNet = (r: ReachabilityView): void => {
    clear(netBox)
    append(netBox, [
      h('h2', { id: 'h-reach' }, 'Reachability and addresses in use'),
      reachabilityBlock(r, { detailed: true }),
      h('p', { class: 'hint' }, 'What the running node uses now. The listen addresses and bootstrap peers below are what it starts with; bootstrap peers running mesh-executor relay also act as relays for nodes behind a NAT.')
    ])
  }
  renderNet(st.reachability)

  const el = h('div', { class: 'grid' },
    h('section', { class: 'card wide', 'aria-labelledby': 'h-id' }, h('h2', { id: 'h-id' }, 'Identity'),
      h('dl', { class: 'kv' },
        h('dt', {}, 'DID'), h('dd', {}, h('span', { class: 'mono break', 'data-testid': 'did' }, st.did), ' ', copyButton(st.did, 'Copy DID')),
        h('dt', {}, 'PeerId'), h('dd', {}, h('span', { class: 'mono break', 'data-testid': 'peer-id' }, st.peerId), ' ', copyButton(st.peerId, 'Copy PeerId')),
        h('dt', {}, 'Data directory'), h('dd', { class: 'mono break' }, st.dataDir))),
    netBox,
    h('section', { class: 'card wide', 'aria-labelledby': 'h-net' }, h('h2', { id: 'h-net' }, 'Node'),
      h('div', { class: 'form-grid' },
        h('fieldset', {}, h('legend', {}, 'Network'),
          field('Region', region), field('Listen addresses (one per line)', listen, 'restart required'), field('Bootstrap peers (one per line)', boot, 'multiaddrs ending in /p2p/<peer id>; restart required')),
        h('fieldset', {}, h('legend', {}, 'Resource caps'),
          field('CPU cores', cpu), field('RAM (GiB)', ram), field('Disk (GiB)', disk), field('Max concurrent jobs', jobs)),
        h('fieldset', {}, h('legend', {}, 'Desktop'),
          field('Start at login', login), field('Start minimized to tray', minimized))),
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
