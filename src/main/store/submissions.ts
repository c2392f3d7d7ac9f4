/** The store's originator side: jobs we submitted and the bids we received. */
import { UnknownJobError } from './errors.js'
import { amount, limits, num, optBig, optStr, toSubmitted } from './sql.js'
import type { SubmissionStore } from './types.js'
import type { Sql } from './sql.js'

export function createSubmissionStore (sql: Sql): SubmissionStore {
  const { one, all, run, tx, durable, clock } = sql
  return {
    recordSubmittedJob (j) {
      const at = j.createdAt ?? clock()
      return tx(() => run('INSERT OR IGNORE INTO submitted_jobs (announcement_id, raw, summary_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        j.announcementId, Buffer.from(j.raw), JSON.stringify(j.summary), at, at) === 1)
    },
    recordReceivedBid (b) {
      return tx(() => {
        if (one('SELECT 1 AS x FROM submitted_jobs WHERE announcement_id = ?', b.announcementId) === undefined) throw new UnknownJobError(b.announcementId)
        return run('INSERT OR IGNORE INTO received_bids (announcement_id, executor_did, price, region, raw, received_at) VALUES (?, ?, ?, ?, ?, ?)',
          b.announcementId, b.executorDid, amount(b.price, 'price'), b.region ?? null, Buffer.from(b.raw), b.receivedAt ?? clock()) === 1
      })
    },
    receivedBids: (id) => all('SELECT executor_did, price, region, received_at FROM received_bids WHERE announcement_id = ? ORDER BY received_at, executor_did', id)
      .map((r) => ({ executorDid: String(r.executor_did), price: optBig(r.price), region: optStr(r.region), receivedAt: num(r.received_at) })),
    chooseExecutor (id, did, at) {
      const when = at ?? clock()
      tx(() => {
        if (run("UPDATE submitted_jobs SET chosen_executor_did = ?, assigned_at = ?, state = 'Assigned', updated_at = ? WHERE announcement_id = ?", did, when, when, id) === 0) throw new UnknownJobError(id)
      })
    },
    setSubmittedState (id, state, at) {
      tx(() => {
        if (run('UPDATE submitted_jobs SET state = ?, updated_at = ? WHERE announcement_id = ?', state, at ?? clock(), id) === 0) throw new UnknownJobError(id)
      })
    },
    setSubmittedReceipt (id, cid, verified, at) {
      durable(() => {
        if (run('UPDATE submitted_jobs SET receipt_cid = ?, receipt_verified = ?, updated_at = ? WHERE announcement_id = ?', cid, verified ? 1 : 0, at ?? clock(), id) === 0) throw new UnknownJobError(id)
      })
    },
    getSubmittedJob (id) {
      const r = one('SELECT * FROM submitted_jobs WHERE announcement_id = ?', id)
      return r === undefined ? undefined : toSubmitted(r)
    },
    listSubmittedJobs (o) {
      const [limit, offset] = limits(o)
      return all('SELECT * FROM submitted_jobs ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?', limit, offset).map(toSubmitted)
    }
  }
}
