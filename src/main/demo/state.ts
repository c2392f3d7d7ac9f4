/** What the demo's parts share: its options, its console, the executors and what they reported. */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { shortId } from '../../shared/text.js'
import type { DemoConsole, Paint } from './console.js'

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const BIN = join(ROOT, 'bin', 'mesh-executor.js')
export const asset = (name: string): string => join(ROOT, 'assets', 'jobs', name)

export interface DemoOptions {
  once: boolean
  verbose: boolean
  intervalMs: number
  windowMs: number
}

export interface ExecutorSpec {
  name: string
  region: string
  policy: Record<string, unknown>
  about: string
  ui?: boolean
}

export interface Executor {
  spec: ExecutorSpec
  child: ChildProcess
  did?: string
  peerId?: string
  addr?: string
  ui?: string
  dataDir: string
  exited: boolean
  stderrTail: string[]
}

export interface Decision { executor: string, bid: boolean, price?: string, failed: string[] }
export interface Finished { executor: string, status: string, failureReason?: string, price?: string, fuelUsed: string, receiptCid: string }

export interface DemoState {
  readonly opts: DemoOptions
  readonly out: DemoConsole
  readonly executors: Executor[]
  readonly decisions: Map<string, Decision[]>
  readonly finished: Map<string, Finished>
  readonly nameOf: Map<string, string>
  stopping: boolean
  wakers: Array<() => void>
}

export function createState (opts: DemoOptions, out: DemoConsole): DemoState {
  return { opts, out, executors: [], decisions: new Map(), finished: new Map(), nameOf: new Map(), stopping: false, wakers: [] }
}

export const who = (st: DemoState, did: string): string => st.nameOf.get(did) ?? shortId(did)
export const jobTag = (id: string): string => id.slice(0, 8)

export function execColor (st: DemoState, name: string): Paint {
  return name === 'alpha' ? st.out.cyan : name === 'beta' ? st.out.magenta : name === 'gamma' ? st.out.yellow : (s) => s
}

/** Wakes up whoever waits for something to arrive from the executors. */
export function wake (st: DemoState): void {
  const w = st.wakers
  st.wakers = []
  for (const f of w) f()
}

export async function waitFor (st: DemoState, cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, left)
      function done (): void { clearTimeout(timer); resolve() }
      st.wakers.push(done)
    })
  }
}

export async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done (): void { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
  })
}
