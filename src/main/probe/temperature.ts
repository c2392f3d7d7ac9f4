/**
 * CPU temperature for the thermal guard and the Overview. Linux: the hottest CPU sensor among hwmon
 * drivers (coretemp, k10temp, zenpower, cpu_thermal…) and thermal zones (x86_pkg_temp, cpu-thermal…);
 * elsewhere systeminformation's cpuTemperature(). `MESH_EXECUTOR_THERMAL_FILE` (or `path`) names one
 * sensor file to read instead — in the kernel's format (millidegrees, "48000") or plain degrees ("48.5")
 * — for boards whose CPU sensor has another name. Unknown (no sensor, VMs) is null, never an error.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import si from 'systeminformation'

const HWMON_CPU = /^(coretemp|k10temp|zenpower|cpu_thermal|cpu-thermal|soc_thermal|armada_thermal|rpi_thermal|thinkpad|applesmc)$/
const ZONE_CPU = /^(x86_pkg_temp|cpu[-_]thermal|cpu|soc[-_]thermal|cpu-0-0-usr|acpitz|tcpu|cpuss-0-usr)$/i

/** "48000" (millidegrees) or "48.5" (degrees) → °C; null when it is not a plausible temperature. */
export function parseSensorValue (text: string): number | null {
  const t = text.trim()
  if (!/^-?\d+(\.\d+)?$/.test(t)) return null
  const v = Number(t)
  const c = Math.abs(v) >= 1000 ? v / 1000 : v
  return c > -50 && c < 150 ? Math.round(c * 10) / 10 : null
}

async function readNum (path: string): Promise<number | null> {
  try { return parseSensorValue(await readFile(path, 'utf8')) } catch { return null }
}

/** Sensor files that report the CPU on this Linux machine (found once). */
export async function findCpuSensors (sysRoot = '/sys'): Promise<string[]> {
  const out: string[] = []
  const hw = join(sysRoot, 'class', 'hwmon')
  for (const d of await readdir(hw).catch(() => [] as string[])) {
    const name = (await readFile(join(hw, d, 'name'), 'utf8').catch(() => '')).trim()
    if (!HWMON_CPU.test(name)) continue
    const files = await readdir(join(hw, d)).catch(() => [] as string[])
    for (const f of files) if (/^temp\d+_input$/.test(f)) out.push(join(hw, d, f))
  }
  if (out.length > 0) return out
  const tz = join(sysRoot, 'class', 'thermal')
  for (const d of await readdir(tz).catch(() => [] as string[])) {
    if (!d.startsWith('thermal_zone')) continue
    const type = (await readFile(join(tz, d, 'type'), 'utf8').catch(() => '')).trim()
    if (ZONE_CPU.test(type)) out.push(join(tz, d, 'temp'))
  }
  return out
}

export interface TemperatureSampler {
  /** The last reading (°C), or null when unknown. */
  current(): number | null
  /** Reads the sensors now. */
  refresh(): Promise<number | null>
  close(): void
}

export interface TemperatureSamplerOptions {
  /** One sensor file to read (default $MESH_EXECUTOR_THERMAL_FILE, else the CPU sensors found). */
  path?: string
  /** How often to read (ms, default 5000). */
  intervalMs?: number
  /** Called after each reading (the thermal guard). */
  onReading?: (celsius: number | null) => void
}

export function createTemperatureSampler (o: TemperatureSamplerOptions = {}): TemperatureSampler {
  const path = o.path ?? (process.env.MESH_EXECUTOR_THERMAL_FILE !== undefined && process.env.MESH_EXECUTOR_THERMAL_FILE !== '' ? process.env.MESH_EXECUTOR_THERMAL_FILE : undefined)
  let sensors: Promise<string[]> | undefined
  let last: number | null = null
  let closed = false
  const read = async (): Promise<number | null> => {
    if (path !== undefined) return await readNum(path)
    if (process.platform === 'linux') {
      sensors ??= findCpuSensors()
      const values = (await Promise.all((await sensors).map(readNum))).filter((v): v is number => v !== null)
      return values.length > 0 ? Math.max(...values) : null
    }
    try {
      const t = await si.cpuTemperature()
      return typeof t.main === 'number' && t.main > 0 ? t.main : null
    } catch { return null }
  }
  const refresh = async (): Promise<number | null> => {
    last = await read()
    if (!closed) o.onReading?.(last)
    return last
  }
  const timer = setInterval(() => { void refresh() }, o.intervalMs ?? 5000)
  timer.unref()
  void refresh()
  return {
    current: () => last,
    refresh,
    close () { closed = true; clearInterval(timer) }
  }
}
