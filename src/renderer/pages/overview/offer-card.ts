/** "What I offer": price (with examples), CPU, memory, GPUs, disk, jobs at once, temperature; loud when free. */
import type { OfferView } from '../../../shared/api/contract.js'
import { formatBytes, formatCores, formatFuel, formatTokens } from '../../../shared/api/format.js'
import { h, clear, badge, append } from '../../dom.js'

export function offerCard (box: HTMLElement, o: OfferView | null | undefined): void {
  clear(box)
  box.append(h('h2', { id: 'h-offer' }, 'What I offer'))
  if (o === null || o === undefined) { box.append(h('p', { class: 'empty' }, 'This node does not report its offer.')); return }
  const gpus = o.gpus.length === 0
    ? h('span', { class: 'hint' }, 'none found on this machine')
    : h('ul', { class: 'plain' }, o.gpus.map((g) => h('li', {}, `${g.vendor} ${g.model}`, g.vramBytes !== null ? ` (${formatBytes(g.vramBytes)})` : '', ' ', g.offered ? badge('offered', 'ok') : badge('not offered', 'muted'))))
  append(box, [
    o.price.free
      ? h('p', { class: 'warning loud', role: 'alert', 'data-testid': 'free-warning' }, 'You are selling for free: your price is 0 tokens, so every job this node runs earns nothing. ', h('a', { href: '#/policies' }, 'Set a price'))
      : null,
    h('dl', { class: 'kv' },
      h('dt', {}, 'Price'), h('dd', { 'data-testid': 'offer-price' }, h('strong', {}, o.price.text),
        o.price.mode !== 'fixed' ? h('span', { class: 'hint block' }, `e.g. ${o.price.examples.map((e) => `${formatFuel(e.maxFuel)} fuel → ${formatTokens(e.price)}`).join(' · ')}`) : null),
      h('dt', {}, 'CPU'), h('dd', { 'data-testid': 'offer-cpu' }, `${formatCores(o.cpu.offered)} of ${formatCores(o.cpu.machine)}`, h('span', { class: 'hint block' }, o.cpu.model)),
      h('dt', {}, 'Memory'), h('dd', { 'data-testid': 'offer-ram' }, `${formatBytes(o.ramBytes.offered)} of ${formatBytes(o.ramBytes.machine)}`),
      h('dt', {}, 'GPU'), h('dd', { 'data-testid': 'offer-gpu' }, gpus),
      h('dt', {}, 'Disk'), h('dd', { 'data-testid': 'offer-disk' }, o.diskBytes.offered === null ? 'none' : `${formatBytes(o.diskBytes.offered)}${o.diskBytes.machineFree !== null ? ` of ${formatBytes(o.diskBytes.machineFree)} free` : ''}`),
      h('dt', {}, 'Jobs at once'), h('dd', { 'data-testid': 'offer-jobs' }, String(o.maxConcurrentJobs)),
      h('dt', {}, 'CPU temperature'), h('dd', { 'data-testid': 'offer-temp' }, o.cpuTemperatureC === null ? h('span', { class: 'hint' }, 'not reported by this machine') : `${o.cpuTemperatureC.toFixed(0)} °C`)),
    h('p', {}, h('a', { href: '#/policies', class: 'button-link' }, 'Change price or what I offer'))])
}
