import type { Migration } from './types.js'

/**
 * Bids by time: the dashboard's bid outcomes (won / lost / waiting / never assigned) and the health
 * checks ("bids not delivered") select bids of a recent window; without an index every status poll
 * scanned the whole bids table, which grows by one row per bid for the life of the node.
 */
export const migration005: Migration = {
  version: 5,
  name: 'bid_time_index',
  up (db) {
    db.exec('CREATE INDEX bids_created ON bids (created_at)')
  }
}
