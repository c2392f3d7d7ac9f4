/**
 * CPU time of a process and everything it started (Linux /proc): the live processes' own time plus
 * what their reaped children used (cutime/cstime). For benches that need to know where a round's
 * CPU went across processes (an executor daemon, its spawner helper and the sandbox hosts it ran).
 * Elsewhere it returns undefined.
 */
import { readdirSync, readFileSync } from 'node:fs'

const TICK_MS = 10 // USER_HZ is 100 on Linux

interface Stat { ppid: number, ownTicks: number, reapedTicks: number }

function stat (pid: number): Stat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // fields after the parenthesised command name (which may contain spaces)
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    const n = (i: number): number => Number(f[i - 3])
    return { ppid: n(4), ownTicks: n(14) + n(15), reapedTicks: n(16) + n(17) }
  } catch {
    return undefined
  }
}

/** ms of CPU used so far by `root` and its descendants (live ones and the reaped ones they waited for). */
export function treeCpuMs (root: number): number | undefined {
  if (process.platform !== 'linux') return undefined
  const all = new Map<number, Stat>()
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!Number.isInteger(pid)) continue
    const s = stat(pid)
    if (s !== undefined) all.set(pid, s)
  }
  if (!all.has(root)) return undefined
  const children = new Map<number, number[]>()
  for (const [pid, s] of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid])
  let ticks = 0
  const stack = [root]
  for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
    const s = all.get(pid)
    if (s !== undefined) ticks += s.ownTicks + s.reapedTicks
    stack.push(...(children.get(pid) ?? []))
  }
  return ticks * TICK_MS
}
