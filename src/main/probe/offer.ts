/**
 * What the owner offers: the machine's hardware with the owner's caps applied. Used both for the
 * capability advertisement and by the policy engine's resource check, so the two always agree.
 */
import { formatCpu, formatDisk, formatRam, type ResourceMap } from '../../shared/protocol/index.js'
import type { Offer, ResourceCaps } from '../../shared/policy/index.js'

export interface GpuInfo {
  vendor: string
  model: string
  /** Profile 6.1 resource name, `GPU_<VENDOR>_<MODEL>`. */
  resourceName: string
  vramBytes?: number
}

export interface Hardware {
  /** Logical CPU count (os.cpus().length). */
  cpuCores: number
  cpuModel: string
  ramBytes: number
  gpus: GpuInfo[]
  /** Free bytes on the data dir's file system, when known. */
  diskFreeBytes?: number
}

export type { Offer, ResourceCaps } from '../../shared/policy/index.js'

const MIB = 1024 * 1024

export function applyCaps (hw: Hardware, caps: ResourceCaps = {}): Offer {
  let cpu = hw.cpuCores * clampFraction(caps.cpuFraction)
  if (caps.cpuCores !== undefined) cpu = Math.min(cpu, caps.cpuCores)
  cpu = Math.floor(cpu * 1000) / 1000
  let ram = Math.floor(hw.ramBytes * clampFraction(caps.ramFraction))
  if (caps.ramBytes !== undefined) ram = Math.min(ram, caps.ramBytes)
  ram = Math.floor(ram / MIB) * MIB
  let disk = hw.diskFreeBytes
  if (caps.diskBytes !== undefined) disk = disk === undefined ? caps.diskBytes : Math.min(disk, caps.diskBytes)
  const gpus: Record<string, number> = {}
  if (caps.offerGpus !== false) {
    for (const g of hw.gpus) gpus[g.resourceName] = (gpus[g.resourceName] ?? 0) + 1
  }
  return { cpu: Math.max(0, cpu), ramBytes: Math.max(0, ram), ...(disk === undefined ? {} : { diskBytes: Math.max(0, disk) }), gpus }
}

function clampFraction (f: number | undefined): number {
  if (f === undefined || !Number.isFinite(f)) return 1
  return Math.min(1, Math.max(0, f))
}

/** Offer → `available_resources` (profile 6.1). Zero quantities are left out (the profile has no zero). */
export function offerToResourceMap (o: Offer): ResourceMap {
  const m: ResourceMap = {}
  if (o.cpu >= 0.001) m.CPU = formatCpu(o.cpu)
  if (o.ramBytes >= MIB) m.RAM = formatRam(o.ramBytes)
  if (o.diskBytes !== undefined && o.diskBytes >= 1024 ** 3) m.DISK = formatDisk(o.diskBytes)
  for (const [name, n] of Object.entries(o.gpus)) if (n > 0) m[name] = String(n)
  return m
}
