/**
 * The executor lifecycle (wire profile 6.3, 6.3a, 6.4, 7), composed of:
 *  - assign.ts — the direct handlers: AssignJobV1 accepted or refused with the profile's reason code,
 *    JobInteractiveInputV1 fed to the job's stdin in sequence;
 *  - run-job.ts — one job from acceptance to its receipt (fetch, sandbox, receipt, final state);
 *  - outbox.ts — statuses, the receipt announcement and its DHT records;
 *  - recovery.ts — jobs a crash interrupted: failed at start (only then), their originators told.
 * This file holds the shared state and the start/stop/cancel lifecycle.
 */
import { TypedEmitter } from '../mesh/index.js'
import { acceptAssignment, acceptInput } from './assign.js'
import { createOutbox } from './outbox.js'
import { createRecovery } from './recovery.js'
import { runJob } from './run-job.js'
import { errMessage, type Executor, type ExecutorContext, type ExecutorEvents, type ExecutorOptions, type Running } from './types.js'

export { ASSIGNMENT_GRACE_MS, type Executor, type ExecutorEvents, type ExecutorOptions } from './types.js'

/** Waits for `p` at most `ms`. */
async function within (p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined
  await Promise.race([p, new Promise<void>((resolve) => { t = setTimeout(resolve, ms) })])
  clearTimeout(t)
}

export function createExecutor (opts: ExecutorOptions): Executor {
  const ctx: ExecutorContext = {
    opts, clock: opts.now ?? Date.now, events: new TypedEmitter<ExecutorEvents>(), running: new Map(), publications: new Set(), dhtAbort: new AbortController()
  }
  const { events, running, publications } = ctx
  const out = createOutbox(ctx)
  const recovery = createRecovery(ctx, out)
  let accepting = false
  const unhandle: Array<() => void> = []
  /** every job's promise until it has told its originator (running or finishing) */
  const inFlight = new Set<Promise<void>>()
  let notifyTimer: NodeJS.Timeout | undefined

  /** Runs an accepted job after the handler has answered {ok:true}. */
  const launch = (job: Parameters<typeof runJob>[2], announcement: Parameters<typeof runJob>[3], rj: Running): void => {
    const id = job.announcementId
    out.transition(id, 'Accepted')
    events.emit('job:accepted', { announcementId: id, originatorDid: rj.originatorDid })
    // the originator's statuses answers and interactive input get a session's allowance until the job is over
    const endSession = opts.node.openDirectSession(rj.originatorPeerId)
    rj.done = (async () => {
      await Promise.resolve()
      try {
        await runJob(ctx, out, opts.store.getJob(id) ?? job, announcement, rj)
      } catch (err) {
        events.emit('error:job', { announcementId: id, error: `job ended abnormally: ${errMessage(err)}` })
      } finally {
        // whatever ended the job, its sandbox run ends with it
        rj.controller.abort(new Error('job ended'))
        running.delete(id)
        endSession()
      }
    })()
    inFlight.add(rj.done)
    void rj.done.finally(() => inFlight.delete(rj.done))
  }

  const notify = (): void => {
    recovery.notify().catch((err: unknown) => {
      events.emit('error:job', { announcementId: '', error: `telling originators of interrupted jobs: ${errMessage(err)}` })
    })
  }

  return {
    events,
    async start () {
      // before any assignment is accepted: what a previous process left active is failed now, once
      recovery.failInterrupted()
      accepting = true
      unhandle.push(opts.node.handleDirect('AssignJobV1', (m) => {
        const accepted = acceptAssignment(ctx, m, accepting)
        if (accepted !== undefined) launch(accepted.job, accepted.announcement, accepted.rj)
      }))
      unhandle.push(opts.node.handleDirect('JobInteractiveInputV1', (m) => { acceptInput(ctx, m) }))
      // in the background: the originators may only become reachable once bootstrap connections are up
      setImmediate(notify)
      notifyTimer = setInterval(notify, opts.recoveryRetryMs ?? 30_000)
      notifyTimer.unref()
    },
    async stop (o = {}) {
      accepting = false
      clearInterval(notifyTimer)
      const grace = o.graceMs ?? 30_000
      if (running.size > 0) {
        await within(Promise.all([...running.values()].map(async (r) => { await r.done })), grace)
        for (const r of running.values()) r.controller.abort(new Error('shutdown grace period over'))
        await Promise.all([...running.values()].map(async (r) => { await r.done }))
      }
      // jobs that finished but are still telling their originator
      await Promise.all([...inFlight])
      for (const u of unhandle.splice(0)) u()
      // give pending DHT publications a moment, then abort them (the node is about to stop)
      if (publications.size > 0) {
        await within(Promise.all([...publications]), Math.min(grace, 5000))
        ctx.dhtAbort.abort(new Error('executor stopping'))
        await Promise.all([...publications])
      }
    },
    cancel (id) {
      const r = running.get(id)
      if (r === undefined) return false
      r.controller.abort(new Error('cancelled by the owner'))
      return true
    },
    runningJobs: () => [...running.keys()]
  }
}
