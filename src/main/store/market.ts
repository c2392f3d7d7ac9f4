/** The store's announcements, decisions, bids and originator history. */
import { amount, limits, num, optBig, optBool, optNum, optStr, bytes, toAnnouncement } from './sql.js'
import type { MarketStore } from './types.js'
import type { Sql } from './sql.js'

export function createMarketStore (sql: Sql): MarketStore {
  const { one, all, run, tx, batched, clock, bumpHistory, insertBid } = sql
  return {
    recordAnnouncement (a) {
      const at = a.receivedAt ?? clock()
      const firstFailed = a.reasons.find((r) => !r.ok)?.rule ?? null
      return (a.bid === undefined ? batched : tx)(() => {
        const added = run(`INSERT OR IGNORE INTO announcements
          (announcement_id, originator_did, raw, received_at, summary_json, decision, price, reasons_json, first_failed_rule, policy_version, region)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        a.announcementId, a.originatorDid, Buffer.from(a.raw), at, JSON.stringify(a.summary), a.decision,
        amount(a.price, 'price'), JSON.stringify(a.reasons), firstFailed, a.policyVersion ?? null, a.region ?? null) === 1
        if (added) {
          bumpHistory(a.originatorDid, 'announcements_seen', at)
          if (a.bid !== undefined) insertBid(a.announcementId, a.originatorDid, a.bid.price, a.bid.raw, at)
        }
        return added
      })
    },
    hasAnnouncement: (id) => one('SELECT 1 AS x FROM announcements WHERE announcement_id = ?', id) !== undefined,
    getAnnouncement (id) {
      const r = one('SELECT * FROM announcements WHERE announcement_id = ?', id)
      return r === undefined ? undefined : { ...toAnnouncement(r), raw: bytes(r.raw) }
    },
    listAnnouncements (o) {
      const [limit, offset] = limits(o)
      const where: string[] = []
      const params: unknown[] = []
      if (o?.decision !== undefined) { where.push('decision = ?'); params.push(o.decision) }
      if (o?.sinceMs !== undefined) { where.push('received_at >= ?'); params.push(o.sinceMs) }
      if (o?.firstFailedRule !== undefined) { where.push('first_failed_rule = ?'); params.push(o.firstFailedRule) }
      const sql = `SELECT announcement_id, originator_did, received_at, summary_json, decision, price, reasons_json, first_failed_rule, policy_version, region
        FROM announcements ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY received_at DESC, rowid DESC LIMIT ? OFFSET ?`
      return all(sql, ...params, limit, offset).map(toAnnouncement)
    },
    pruneSkippedAnnouncements ({ beforeMs, keepMax, batch }) {
      return tx(() => {
        let n = run(`DELETE FROM announcements WHERE rowid IN (SELECT rowid FROM announcements
          WHERE decision = 'no_bid' AND received_at < ? ORDER BY received_at LIMIT ?)`, beforeMs, batch)
        if (n === 0) {
          const excess = num(one("SELECT count(*) AS n FROM announcements WHERE decision = 'no_bid'")?.n ?? 0) - keepMax
          if (excess > 0) {
            n = run(`DELETE FROM announcements WHERE rowid IN (SELECT rowid FROM announcements
              WHERE decision = 'no_bid' ORDER BY received_at, rowid LIMIT ?)`, Math.min(excess, batch))
          }
        }
        return n
      })
    },
    announcementStats (o) {
      const since = o?.sinceMs ?? 0
      const t = one(`SELECT count(*) AS total, coalesce(sum(decision = 'bid'), 0) AS bid FROM announcements WHERE received_at >= ?`, since)
      const total = num(t?.total ?? 0)
      const bid = num(t?.bid ?? 0)
      const groups = all(`SELECT first_failed_rule AS rule, count(*) AS n FROM announcements
        WHERE received_at >= ? AND decision = 'no_bid' GROUP BY first_failed_rule ORDER BY n DESC, rule`, since)
      return {
        total,
        bid,
        noBid: total - bid,
        byFirstFailedRule: groups.map((g) => ({ rule: optStr(g.rule) ?? 'unknown', count: num(g.n) }))
      }
    },
    recordBid (b) {
      const at = b.createdAt ?? clock()
      return tx(() => insertBid(b.announcementId, b.originatorDid, b.price, b.raw, at))
    },
    markBidSent (id, result) {
      tx(() => run('UPDATE bids SET sent_ok = ?, error = ?, sent_at = ? WHERE announcement_id = ?',
        result.ok ? 1 : 0, result.error ?? null, result.at ?? clock(), id))
    },
    markBidRefused (id, reason) {
      tx(() => run('UPDATE bids SET refused = ? WHERE announcement_id = ?', reason.slice(0, 500), id))
    },
    getBid (id) {
      const r = one('SELECT * FROM bids WHERE announcement_id = ?', id)
      return r === undefined
        ? undefined
        : { announcementId: id, price: optBig(r.price), createdAt: num(r.created_at), sentOk: optBool(r.sent_ok), error: optStr(r.error), sentAt: optNum(r.sent_at) }
    },
    originatorRecord (did) {
      const r = one('SELECT * FROM originator_history WHERE originator_did = ?', did)
      return r === undefined
        ? undefined
        : {
            originatorDid: did,
            announcementsSeen: num(r.announcements_seen),
            bidsSent: num(r.bids_sent),
            assigned: num(r.assigned),
            completed: num(r.completed),
            failed: num(r.failed),
            firstSeenAt: num(r.first_seen_at),
            lastSeenAt: num(r.last_seen_at)
          }
    },
  }
}
