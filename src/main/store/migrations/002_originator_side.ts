import type { Migration } from './types.js'

/** Originator-side bookkeeping: jobs we submitted, bids we received, chosen executor, receipt. */
export const migration002: Migration = {
  version: 2,
  name: 'originator_side',
  up (db) {
    db.exec(`
      CREATE TABLE submitted_jobs (
        announcement_id TEXT PRIMARY KEY,
        raw BLOB NOT NULL,
        summary_json TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'Bidding',
        chosen_executor_did TEXT,
        assigned_at INTEGER,
        receipt_cid TEXT,
        receipt_verified INTEGER,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE received_bids (
        announcement_id TEXT NOT NULL REFERENCES submitted_jobs(announcement_id),
        executor_did TEXT NOT NULL,
        price INTEGER,
        region TEXT,
        raw BLOB NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (announcement_id, executor_did)
      );
    `)
  }
}
