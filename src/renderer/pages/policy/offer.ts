/**
 * What you offer: CPU, memory, disk and GPUs (amounts, or shares of the machine), jobs at once, with
 * this machine's totals as units and what buyers see now; and the check that no amount exceeds the machine.
 */
import type { Json, JsonObject, OfferView } from '../../../shared/api/contract.js'
import { formatBytes } from '../../../shared/api/format.js'
import { FIELDS } from '../../../shared/policy/fields.js'
import type { PolicyError } from '../../../shared/policy/types.js'
import { h } from '../../dom.js'
import { checkbox, numberInput, sub, type FieldBodies } from './controls.js'
import { obj, setKey, setSub, type PolicyDraft } from './draft.js'

const GIB = 1024 ** 3

export function offerFields (f: PolicyDraft): FieldBodies {
  const machine = f.machine
  const read = (sk: string) => () => obj(f.draft.offer)[sk]
  const write = (sk: string) => (v: Json | undefined) => { setSub(f, 'offer', sk, v) }
  const ofMachine = (s: string): string => machine === null ? '' : ` of ${s} on this machine`
  const gpuList = machine === null || machine.gpus.length === 0 ? 'No GPU found on this machine.' : machine.gpus.map((x) => `${x.vendor} ${x.model}`).join(', ')
  return {
    offer: [
      sub('CPU cores', numberInput(f, 'offer-cpu', read('cpuCores'), write('cpuCores'), { step: '0.5', min: 0, unit: `cores${ofMachine(String(machine?.cpu.machine ?? ''))}`, placeholder: 'all' })),
      sub('Memory', numberInput(f, 'offer-ram', read('ramBytes'), write('ramBytes'), { step: '0.5', min: 0, unit: `GiB${ofMachine(formatBytes(machine?.ramBytes.machine))}`, placeholder: 'all', scale: GIB })),
      sub('Disk space', numberInput(f, 'offer-disk', read('diskBytes'), write('diskBytes'), { step: '1', min: 0, unit: `GiB${machine?.diskBytes.machineFree !== null && machine !== null ? ` of ${formatBytes(machine.diskBytes.machineFree)} free` : ''}`, placeholder: 'all free', scale: GIB })),
      h('div', { class: 'subfield' }, h('label', {}, checkbox(f, 'offer-gpus', () => obj(f.draft.offer).offerGpus !== false, (on) => { setSub(f, 'offer', 'offerGpus', on ? undefined : false) }), ' Offer my GPUs'), h('small', { class: 'hint' }, gpuList)),
      h('details', { class: 'advanced' }, h('summary', {}, 'Share of the machine instead of amounts'),
        sub('CPU share', numberInput(f, 'offer-cpu-share', read('cpuFraction'), write('cpuFraction'), { step: '0.05', min: 0, max: 1, placeholder: '1 = all' }), '0.5 = half the cores; with cores set too, the smaller wins'),
        sub('Memory share', numberInput(f, 'offer-ram-share', read('ramFraction'), write('ramFraction'), { step: '0.05', min: 0, max: 1, placeholder: '1 = all' }))),
      h('p', { class: 'hint', 'data-testid': 'offer-now' }, machine === null ? '' : `Buyers see now: ${machine.cpu.offered} cores, ${formatBytes(machine.ramBytes.offered)} memory${machine.gpus.some((x) => x.offered) ? `, ${machine.gpus.length} GPU(s)` : ''}.`)
    ],
    maxConcurrentJobs: [numberInput(f, 'max-jobs', () => f.draft.maxConcurrentJobs, (v) => { setKey(f, 'maxConcurrentJobs', v) }, { min: 0, max: 1024, unit: 'jobs', placeholder: '1' })]
  }
}

/** What validatePolicy cannot know: more cores or memory offered than this machine has. */
export function offerProblems (draft: JsonObject, machine: OfferView | null): PolicyError[] {
  const out: PolicyError[] = []
  const off = obj(draft.offer)
  const label = FIELDS.offer.label
  if (machine !== null && typeof off.cpuCores === 'number' && off.cpuCores > machine.cpu.machine) out.push({ path: 'offer.cpuCores', label, message: `this machine has ${machine.cpu.machine} cores: offer at most ${machine.cpu.machine}` })
  if (machine !== null && typeof off.ramBytes === 'number' && off.ramBytes > machine.ramBytes.machine) out.push({ path: 'offer.ramBytes', label, message: `this machine has ${formatBytes(machine.ramBytes.machine)} of memory: offer at most that` })
  return out
}
