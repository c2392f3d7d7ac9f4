/**
 * The stop sequence for a running daemon process (plain Node): `node.shutdown { graceSeconds }`
 * through its API (SIGTERM when the API cannot be reached), wait for the exit up to the grace plus a
 * margin, then SIGKILL.
 */
import type { ChildProcess } from 'node:child_process'
import type { DaemonApiClient } from './api-client.js'
import type { ChildExit } from './daemon-child.js'
import type { StopResult } from './daemon-process.js'

export interface StopTarget {
  proc: ChildProcess
  /** Its API (undefined before the ready line). */
  client: DaemonApiClient | undefined
  exited: Promise<ChildExit>
}

export interface StopOptions {
  graceSeconds: number
  /** Extra wait after the grace before SIGKILL. */
  marginMs: number
  log: (line: string) => void
}

/** After SIGKILL, how long to wait for the exit before reporting it anyway. */
const KILL_WAIT_MS = 10_000

export async function stopDaemonChild (t: StopTarget, o: StopOptions): Promise<StopResult> {
  const { proc } = t
  let how: StopResult['how'] = 'sigterm'
  if (t.client !== undefined) {
    try {
      await t.client.call('node.shutdown', { graceSeconds: o.graceSeconds }, { timeoutMs: 5000 })
      how = 'api'
    } catch (err) {
      o.log(`node.shutdown failed (${(err as Error).message}); sending SIGTERM`)
    }
  }
  if (how === 'sigterm' && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
  let exit = await within(t.exited, o.graceSeconds * 1000 + o.marginMs)
  if (exit === undefined) {
    o.log(`daemon did not exit within ${o.graceSeconds} s + ${o.marginMs} ms; killing it`)
    how = 'sigkill'
    proc.kill('SIGKILL')
    exit = (await within(t.exited, KILL_WAIT_MS)) ?? { code: null, signal: 'SIGKILL' }
  }
  return { how, code: exit.code, signal: exit.signal }
}

/** `p`'s value, or undefined when it takes longer than `ms`. */
async function within<T> (p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((resolve) => { t = setTimeout(() => { resolve(undefined) }, ms) })
  try { return await Promise.race([p, timeout]) } finally { clearTimeout(t) }
}
