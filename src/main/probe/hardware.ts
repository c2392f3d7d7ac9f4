/** Probes this machine: CPU, RAM, GPUs (named per wire profile 6.1) and free disk. */
import type { Logger } from '../log/index.js'
import os from 'node:os'
import { statfs } from 'node:fs/promises'
import si from 'systeminformation'
import { gpuResourceName } from '../../shared/protocol/index.js'
import type { GpuInfo, Hardware } from './offer.js'

/** Vendors whose GPUs can be offered; virtual display adapters (VMware SVGA, QXL, llvmpipe…) are skipped. */
const VENDORS: Array<[RegExp, string]> = [
  [/nvidia/i, 'NVIDIA'],
  [/advanced micro devices|\bamd\b|\bati\b/i, 'AMD'],
  [/intel/i, 'INTEL'],
  [/apple/i, 'APPLE'],
  [/qualcomm/i, 'QUALCOMM']
]

/**
 * A systeminformation graphics controller → a GPU resource, or undefined when the vendor is not a
 * compute GPU vendor. The vendor word is dropped from the model: "NVIDIA H100 80GB HBM3" by
 * "NVIDIA Corporation" → GPU_NVIDIA_H100_80GB_HBM3.
 */
export function gpuFromController (vendorRaw: string, modelRaw: string, vramMiB?: number | null): GpuInfo | undefined {
  const hit = VENDORS.find(([re]) => re.test(vendorRaw) || re.test(modelRaw))
  if (hit === undefined) return undefined
  const vendor = hit[1]
  // trademark marks carry no meaning and would leave double underscores in the name
  let model = modelRaw.replace(/\((?:R|TM|C)\)|®|™/gi, '').trim().replace(/\s+/g, ' ')
  const prefix = new RegExp(`^(${vendor}|${vendor === 'AMD' ? 'Advanced Micro Devices,? Inc\\.?|ATI' : vendor === 'NVIDIA' ? 'NVIDIA Corporation' : vendor === 'INTEL' ? 'Intel Corporation|Intel\\(R\\)' : vendor})\\s+`, 'i')
  model = model.replace(prefix, '')
  if (model === '') return undefined
  const gpu: GpuInfo = { vendor, model, resourceName: gpuResourceName(vendor, model) }
  if (typeof vramMiB === 'number' && vramMiB > 0) gpu.vramBytes = vramMiB * 1024 * 1024
  return gpu
}

export interface ProbeOptions {
  /** Directory whose file system's free space is reported (the data dir). */
  dataDir?: string
  log?: Logger
  /** Give up on GPU detection after this long (ms, default 5000); GPUs are then reported as none. */
  gpuTimeoutMs?: number
  signal?: AbortSignal
}

export async function probeHardware (opts: ProbeOptions = {}): Promise<Hardware> {
  opts.signal?.throwIfAborted()
  const cpus = os.cpus()
  const hw: Hardware = {
    cpuCores: cpus.length,
    cpuModel: (cpus[0]?.model ?? 'unknown').trim(),
    ramBytes: os.totalmem(),
    gpus: await probeGpus(opts.gpuTimeoutMs ?? 5000, opts.signal)
  }
  if (opts.dataDir !== undefined) {
    try {
      const fs = await statfs(opts.dataDir)
      hw.diskFreeBytes = Number(fs.bavail) * Number(fs.bsize)
    } catch (err) {
      opts.log?.warn({ sub: 'probe', err }, 'free disk space unknown')
    }
  }
  return hw
}

async function probeGpus (timeoutMs: number, signal: AbortSignal | undefined): Promise<GpuInfo[]> {
  let timer: NodeJS.Timeout | undefined
  try {
    const graphics = await Promise.race([
      si.graphics(),
      new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), timeoutMs) })
    ])
    signal?.throwIfAborted()
    const out: GpuInfo[] = []
    for (const c of graphics?.controllers ?? []) {
      const g = gpuFromController(c.vendor ?? '', c.model ?? '', c.vram)
      if (g !== undefined) out.push(g)
    }
    return out
  } catch (err) {
    if (signal?.aborted === true) throw err
    return []
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}
