/** Feeds powerMonitor's idle time and battery state to a callback (the policy engine's machine state). */
export interface PowerMonitorLike {
  getSystemIdleTime(): number
  isOnBatteryPower(): boolean
  on(event: 'on-ac' | 'on-battery' | 'resume', listener: () => void): unknown
  removeListener(event: 'on-ac' | 'on-battery' | 'resume', listener: () => void): unknown
}
export interface PowerState { userIdleSeconds: number, onBattery: boolean }
/** Schedules `fn` every `ms`; returns a cancel function (injected so tests drive time explicitly). */
export type Every = (fn: () => void, ms: number) => () => void

export const defaultEvery: Every = (fn, ms) => {
  const t = setInterval(fn, ms)
  t.unref?.()
  return () => { clearInterval(t) }
}

function safe<T> (f: () => T, fallback: T): T {
  try { return f() } catch { return fallback }
}

export function watchPower (pm: PowerMonitorLike, onState: (s: PowerState) => void, opts: { intervalMs?: number, every?: Every } = {}): () => void {
  const sample = (): void => {
    onState({ userIdleSeconds: safe(() => pm.getSystemIdleTime(), 0), onBattery: safe(() => pm.isOnBatteryPower(), false) })
  }
  const events = ['on-ac', 'on-battery', 'resume'] as const
  for (const e of events) pm.on(e, sample)
  const cancel = (opts.every ?? defaultEvery)(sample, opts.intervalMs ?? 15_000)
  sample()
  return () => {
    cancel()
    for (const e of events) pm.removeListener(e, sample)
  }
}
