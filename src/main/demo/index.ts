/**
 * `mesh-executor demo`: a whole local market on 127.0.0.1 — three executor daemons as separate processes
 * (`mesh-executor start --json --lan …`, each with its own data dir, region and bidding policy, the first
 * also serving the dashboard) and an originator in this process that submits the real sample jobs of
 * assets/jobs and verifies every receipt. See docs/DEMO.md.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity } from '../../shared/protocol/index.js'
import { createMeshNode, JOBS_ANNOUNCE_TOPIC } from '../mesh/index.js'
import type { MeshNode } from '../mesh/index.js'
import { AccessBlockStore, createOriginator } from '../originator/index.js'
import type { Originator } from '../originator/index.js'
import { createConsole } from './console.js'
import { EXECUTORS, startExecutor, stopExecutors } from './executors.js'
import { createState, execColor, sleep, waitFor, type DemoOptions, type DemoState, type Executor, type ExecutorSpec } from './state.js'
import { runStep, steps, type Outcome, type Step } from './steps.js'

export type { DemoOptions } from './state.js'

interface Run {
  st: DemoState
  signal: AbortSignal
  dir?: string
  node?: MeshNode
  originator?: Originator
}

async function startExecutors (run: Run, dir: string): Promise<Executor[] | undefined> {
  run.st.out.heading('starting three executor processes (mesh-executor start --json --lan …)')
  const [first, ...rest] = EXECUTORS as [ExecutorSpec, ...ExecutorSpec[]]
  const a = await startExecutor(run.st, first, dir, undefined)
  if (run.signal.aborted) return undefined
  const others = await Promise.all(rest.map(async (s) => await startExecutor(run.st, s, dir, a.addr)))
  return run.signal.aborted ? undefined : [a, ...others]
}

async function startOriginator (run: Run, all: Executor[]): Promise<Originator | undefined> {
  const { out } = run.st
  out.heading('starting the originator (in this process: a mesh node, an access-controlled block store, the originator)')
  const identity = generateIdentity()
  const blocks = new AccessBlockStore()
  const node = await createMeshNode({
    identity, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: all.map((x) => x.addr as string), lan: true, blockStore: blocks, heartbeatMs: 200, jobAnnouncements: false
  })
  run.node = node
  await node.start()
  run.st.nameOf.set(identity.did, 'originator')
  out.log('originator', `${identity.did}\n${out.dim(node.multiaddrs().join(' '))}`, out.green)
  const deadline = Date.now() + 30_000
  while (!all.every((x) => node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(x.peerId as string))) {
    if (Date.now() > deadline) throw new Error(`the executors did not subscribe to ${JOBS_ANNOUNCE_TOPIC} within 30 s (connected: ${node.connectedPeers().length})`)
    if (run.signal.aborted) return undefined
    await sleep(50, run.signal)
  }
  out.log('originator', `connected to ${node.connectedPeers().length} peers; all ${all.length} executors listen to ${JOBS_ANNOUNCE_TOPIC}`, out.green)
  run.originator = createOriginator({ node, identity, blocks })
  return run.originator
}

type Tally = Array<{ step: Step, outcome: Outcome }>

async function stream (run: Run, originator: Originator): Promise<Tally> {
  const { st, signal } = run
  const tally: Tally = []
  const all = steps()
  let n = 0
  while (!signal.aborted) {
    for (const step of all) {
      if (signal.aborted) break
      n++
      let outcome: Outcome
      try {
        outcome = await runStep(st, originator, step, n, signal)
      } catch (err) {
        if (signal.aborted) break
        throw err
      }
      tally.push({ step, outcome })
      st.out.log('demo', outcome.ok ? st.out.green(`✓ step ${n}: ${outcome.note}`) : st.out.red(`✗ step ${n}: ${outcome.note}`))
      if (!st.opts.once) await sleep(st.opts.intervalMs, signal)
    }
    if (st.opts.once) break
  }
  return tally
}

/** Earnings per executor from their own job:finished events; true when they match the originator's verified receipts. */
function earnings (st: DemoState, all: Executor[], tally: Tally): boolean {
  const { out } = st
  const paid = tally.reduce((s, t) => s + (t.outcome.result?.price ?? 0n), 0n)
  out.log('demo', 'earnings per executor (sum of the bid prices of completed jobs, from job:finished events):')
  let total = 0n
  for (const x of all) {
    const mine = [...st.finished.values()].filter((f) => f.executor === x.spec.name)
    const done = mine.filter((f) => f.status === 'CompletedSuccessfully')
    const earned = done.reduce((s, f) => s + BigInt(f.price ?? '0'), 0n)
    total += earned
    out.log('demo', `  earnings ${x.spec.name.padEnd(6)} ${String(earned).padStart(5)} tokens  (${done.length} completed, ${mine.length - done.length} failed; ${x.spec.region})`, execColor(st, x.spec.name))
  }
  out.log('demo', `  total ${total} tokens; the originator's verified receipts add up to ${paid}${total === paid ? ' ✓' : out.red(' ✗ mismatch')}`)
  return total === paid
}

async function summary (st: DemoState, all: Executor[], tally: Tally): Promise<boolean> {
  const { out } = st
  const ids = tally.map((t) => t.outcome.result?.announcementId).filter((x): x is string => x !== undefined)
  await waitFor(st, () => ids.every((id) => st.finished.has(id)), 5000, 'the executors\' job:finished events').catch(() => {})
  out.heading('summary')
  const ok = tally.filter((t) => t.outcome.ok).length
  out.log('demo', `${tally.length} job(s) submitted, ${ok} went as expected${ok < tally.length ? out.red(`, ${tally.length - ok} did not`) : ''}`)
  const from = Math.max(0, tally.length - 20)
  if (from > 0) out.log('demo', out.dim(`(the last 20 of ${tally.length})`))
  for (const [i, t] of tally.entries()) {
    if (i >= from) out.log('demo', `${t.outcome.ok ? out.green('✓') : out.red('✗')} ${String(i + 1).padStart(2)}. ${t.step.file.padEnd(18)} ${t.outcome.note}`)
  }
  const balanced = earnings(st, all, tally)
  // no dashboard address here: the executors stop right after the summary
  const allOk = ok === tally.length && tally.length > 0 && balanced
  if (st.opts.once) out.log('demo', allOk ? out.green('every step went as expected') : out.red('some steps did not go as expected'))
  return allOk
}

async function stopAll (run: Run): Promise<void> {
  run.st.stopping = true
  run.originator?.close()
  await run.node?.stop().catch(() => {})
  await stopExecutors(run.st)
  if (run.dir !== undefined) {
    await rm(run.dir, { recursive: true, force: true })
    run.st.out.log('demo', `stopped ${run.st.executors.length} executor(s), removed ${run.dir}`)
    run.dir = undefined
  }
}

async function main (run: Run): Promise<number> {
  const { st } = run
  const dir = await mkdtemp(join(tmpdir(), 'mesh-demo-'))
  run.dir = dir
  st.out.heading('a local ICN mesh market on 127.0.0.1')
  st.out.log('demo', `temp dir ${dir}${st.opts.once ? ' (--once: one pass of the job stream)' : '; Ctrl+C stops everything'}`)
  const all = await startExecutors(run, dir)
  if (all === undefined) return 130
  const originator = await startOriginator(run, all)
  if (originator === undefined) return 130
  const tally = await stream(run, originator)
  const allOk = await summary(st, all, tally)
  return allOk || !st.opts.once ? 0 : 1
}

/**
 * Runs the demo until the stream is done (--once) or `signal` aborts; always stops what it started and
 * removes its temp dir. Returns the exit code: 0 when every step went as expected (or on a stop in the
 * endless mode), 1 otherwise, 130 when stopped during a --once run.
 */
export async function runDemo (opts: DemoOptions, out: NodeJS.WritableStream & { isTTY?: boolean }, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  const st = createState(opts, createConsole(out, env))
  const run: Run = { st, signal }
  // last resort when the process exits without the orderly stop: no orphans, no temp dir left behind
  const onExit = (): void => {
    for (const x of st.executors) if (!x.exited) { try { x.child.kill('SIGKILL') } catch { /* gone */ } }
    if (run.dir !== undefined) { try { rmSync(run.dir, { recursive: true, force: true }) } catch { /* best effort */ } }
  }
  process.on('exit', onExit)
  let code: number
  try {
    code = await main(run)
  } catch (err) {
    if (!signal.aborted) throw err
    code = 130
  } finally {
    await stopAll(run).catch((err: unknown) => { st.out.log('demo', st.out.red(`stopping: ${String(err)}`)) })
    process.off('exit', onExit)
  }
  return signal.aborted && opts.once && code === 0 ? 130 : code
}
