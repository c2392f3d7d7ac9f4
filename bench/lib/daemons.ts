/** Parent side of bench/lib/daemon-child.ts: a real executor daemon in its own process. BENCH_CPU_PROF_DIR=DIR writes a V8 CPU profile of each daemon there. */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export interface DaemonChildConfig { policy?: unknown, trace?: boolean, bootstrap?: string[], dataDir?: string }

export interface DaemonChild {
  peerId: string
  did: string
  multiaddrs: string[]
  /** epoch ms at which startDaemon resolved in the child */
  readyAt: number
  /** the child's process id */
  pid: number
  dial: (addr: string) => Promise<void>
  topicPeers: (topic: string) => Promise<string[]>
  stop: () => Promise<void>
  /** trace marks (epoch ms) from the child's daemon events */
  onMark: (fn: (step: string, t: number) => void) => void
}

export async function spawnDaemonChild (cfg: DaemonChildConfig): Promise<DaemonChild> {
  const prof = process.env.BENCH_CPU_PROF_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', fileURLToPath(new URL('./daemon-child.ts', import.meta.url)), JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const waiting = new Map<number, (m: Record<string, unknown>) => void>()
  let marker: ((step: string, t: number) => void) | undefined
  let ready: (m: Record<string, unknown>) => void = () => {}
  const readyP = new Promise<Record<string, unknown>>((resolve, reject) => {
    ready = resolve
    child.once('exit', (code) => { reject(new Error(`daemon child exited (${String(code)}) before ready`)) })
  })
  lines.on('line', (l) => {
    const m = JSON.parse(l) as Record<string, unknown>
    if (m.ready === true) ready(m)
    else if (typeof m.mark === 'string') marker?.(m.mark, m.t as number)
    else waiting.get(m.id as number)?.(m)
  })
  let next = 0
  const ask = async (cmd: Record<string, unknown>): Promise<Record<string, unknown>> => await new Promise((resolve, reject) => {
    const id = next++
    waiting.set(id, (m) => { waiting.delete(id); if (typeof m.error === 'string') reject(new Error(m.error)); else resolve(m) })
    child.stdin.write(JSON.stringify({ id, ...cmd }) + '\n')
  })
  const r = await readyP
  return {
    peerId: r.peerId as string,
    did: r.did as string,
    multiaddrs: r.multiaddrs as string[],
    readyAt: r.t as number,
    pid: child.pid ?? -1,
    dial: async (addr) => { await ask({ cmd: 'dial', addr }) },
    topicPeers: async (topic) => (await ask({ cmd: 'topicPeers', topic })).value as string[],
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      await ask({ cmd: 'stop' })
      await exited
    },
    onMark: (fn) => { marker = fn }
  }
}
