/** The store's jobs assigned to us: state machine, timeline, logs, crash recovery, outputs. */
import { StoreError, UnknownJobError } from './errors.js'
import { ACTIVE_STATES, isJobState, type JobState } from './job-states.js'
import { amount, limits, num, optStr, toJob } from './sql.js'
import type { JobStore } from './types.js'
import type { Sql } from './sql.js'

export function createJobStore (sql: Sql): JobStore {
  const { one, all, run, tx, durable, clock, logCap, bumpHistory, getJob, applyTransition } = sql
  return {
    createJob (j) {
      const at = j.at ?? clock()
      if (!Number.isSafeInteger(j.timeoutSeconds) || j.timeoutSeconds < 0) throw new StoreError('BadValue', `timeoutSeconds ${j.timeoutSeconds} is not a non-negative integer`)
      return durable(() => {
        if (getJob(j.announcementId) !== undefined) throw new StoreError('DuplicateJob', `job ${j.announcementId} already exists`)
        run(`INSERT INTO jobs (announcement_id, originator_did, state, price, wasm_cid, input_data_cid, max_fuel, timeout_seconds, is_interactive, created_at, updated_at, region)
             VALUES (?, ?, 'Assigned', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        j.announcementId, j.originatorDid, amount(j.price, 'price'), j.wasmCid, j.inputDataCid ?? null,
        amount(j.maxFuel, 'max_fuel'), j.timeoutSeconds, j.isInteractive === true ? 1 : 0, at, at, j.region ?? null)
        run('INSERT INTO job_transitions (announcement_id, from_state, to_state, at, details) VALUES (?, NULL, \'Assigned\', ?, NULL)', j.announcementId, at)
        bumpHistory(j.originatorDid, 'assigned', at)
        const job = getJob(j.announcementId)
        if (job === undefined) throw new UnknownJobError(j.announcementId)
        return job
      })
    },
    getJob,
    listJobs (o) {
      const [limit, offset] = limits(o)
      const states = o?.states ?? []
      const where = states.length > 0 ? `WHERE state IN (${states.map(() => '?').join(',')})` : ''
      return all(`SELECT * FROM jobs ${where} ORDER BY updated_at DESC, rowid DESC LIMIT ? OFFSET ?`, ...states, limit, offset).map(toJob)
    },
    countActiveJobs: () => num(one(`SELECT count(*) AS n FROM jobs WHERE state IN (${ACTIVE_STATES.map((s) => `'${s}'`).join(',')})`)?.n ?? 0),
    transitionJob (id, to, o = {}) {
      const terminal = to === 'Completed' || to === 'Failed' || to === 'Cancelled'
      return terminal ? durable(() => applyTransition(id, to, o)) : tx(() => applyTransition(id, to, o))
    },
    jobTimeline (id) {
      return all('SELECT from_state, to_state, at, details FROM job_transitions WHERE announcement_id = ? ORDER BY id', id).map((r) => {
        const from = optStr(r.from_state)
        const to = String(r.to_state)
        if (!isJobState(to) || (from !== undefined && !isJobState(from))) throw new StoreError('BadValue', 'corrupt transition row')
        return { from: from as JobState | undefined, to, at: num(r.at), details: optStr(r.details) }
      })
    },
    appendJobLog (id, stream, text, at) {
      return tx(() => {
        const r = one('SELECT log_bytes, log_truncated FROM jobs WHERE announcement_id = ?', id)
        if (r === undefined) throw new UnknownJobError(id)
        if (Number(r.log_truncated) !== 0) return { stored: false, truncated: true }
        const used = num(r.log_bytes)
        const buf = Buffer.from(text, 'utf8')
        const when = at ?? clock()
        if (used + buf.length <= logCap) {
          run('INSERT INTO job_logs (announcement_id, at, stream, text) VALUES (?, ?, ?, ?)', id, when, stream, text)
          run('UPDATE jobs SET log_bytes = log_bytes + ? WHERE announcement_id = ?', buf.length, id)
          return { stored: true, truncated: false }
        }
        const room = Math.max(0, logCap - used)
        if (room > 0) run('INSERT INTO job_logs (announcement_id, at, stream, text) VALUES (?, ?, ?, ?)', id, when, stream, buf.subarray(0, room).toString('utf8'))
        run('INSERT INTO job_logs (announcement_id, at, stream, text) VALUES (?, ?, ?, ?)', id, when, 'meta', `[log truncated at ${logCap} bytes]`)
        run('UPDATE jobs SET log_bytes = ?, log_truncated = 1 WHERE announcement_id = ?', logCap, id)
        return { stored: room > 0, truncated: true }
      })
    },
    jobLogs: (id) => all('SELECT at, stream, text FROM job_logs WHERE announcement_id = ? ORDER BY id', id)
      .map((r) => ({ at: num(r.at), stream: String(r.stream), text: String(r.text) })),
    failInterruptedJobs (at) {
      const when = at ?? clock()
      return durable(() => {
        const active = all(`SELECT * FROM jobs WHERE state IN (${ACTIVE_STATES.map((s) => `'${s}'`).join(',')}) ORDER BY created_at`).map(toJob)
        return active.map((job) => {
          const failed = applyTransition(job.announcementId, 'Failed', {
            failureReason: 'InternalError',
            details: `InternalError: executor stopped while the job was ${job.state}`,
            at: when
          })
          run('UPDATE jobs SET failure_notified = 0 WHERE announcement_id = ?', job.announcementId)
          return { job: failed, previousState: job.state }
        })
      })
    },
    unnotifiedFailures () {
      return all('SELECT * FROM jobs WHERE failure_notified = 0 ORDER BY created_at').map((r) => {
        const job = toJob(r)
        const tl = all('SELECT from_state FROM job_transitions WHERE announcement_id = ? AND to_state = \'Failed\' ORDER BY id DESC LIMIT 1', job.announcementId)
        const from = optStr(tl[0]?.from_state)
        return { job, previousState: from !== undefined && isJobState(from) ? from : 'Assigned' }
      })
    },
    markFailureNotified (id) {
      tx(() => run('UPDATE jobs SET failure_notified = 1 WHERE announcement_id = ?', id))
    },
    jobsWithOutput: (cid) => all('SELECT announcement_id, originator_did FROM jobs WHERE output_cid = ?', cid)
      .map((r) => ({ announcementId: String(r.announcement_id), originatorDid: String(r.originator_did) })),
  }
}
