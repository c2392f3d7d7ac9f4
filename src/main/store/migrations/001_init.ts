import type { Migration } from './types.js'

/** Executor-side core: settings, identity, policies, announcements, bids, jobs, logs, receipts, ledger. */
export const migration001: Migration = {
  version: 1,
  name: 'init',
  up (db) {
    db.exec(`
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value_json TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE identity_ref (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        key_path TEXT NOT NULL,
        did TEXT NOT NULL,
        peer_id TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE policies (
        version INTEGER PRIMARY KEY AUTOINCREMENT,
        policy_json TEXT NOT NULL,
        note TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE announcements (
        announcement_id TEXT PRIMARY KEY,
        originator_did TEXT NOT NULL,
        raw BLOB NOT NULL,
        received_at INTEGER NOT NULL,
        summary_json TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('bid', 'no_bid')),
        price INTEGER,
        reasons_json TEXT NOT NULL,
        first_failed_rule TEXT,
        policy_version INTEGER
      );
      CREATE TABLE bids (
        announcement_id TEXT PRIMARY KEY,
        price INTEGER,
        created_at INTEGER NOT NULL,
        raw BLOB,
        sent_ok INTEGER,
        error TEXT,
        sent_at INTEGER
      );
      CREATE TABLE jobs (
        announcement_id TEXT PRIMARY KEY,
        originator_did TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('Assigned','Accepted','FetchingInputs','Running','Completed','Failed','Cancelled')),
        price INTEGER,
        wasm_cid TEXT NOT NULL,
        input_data_cid TEXT,
        max_fuel INTEGER NOT NULL,
        timeout_seconds INTEGER NOT NULL,
        is_interactive INTEGER NOT NULL DEFAULT 0,
        failure_reason TEXT,
        details TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        log_bytes INTEGER NOT NULL DEFAULT 0,
        log_truncated INTEGER NOT NULL DEFAULT 0,
        failure_notified INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE job_transitions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        announcement_id TEXT NOT NULL REFERENCES jobs(announcement_id),
        from_state TEXT,
        to_state TEXT NOT NULL,
        at INTEGER NOT NULL,
        details TEXT
      );
      CREATE INDEX job_transitions_job ON job_transitions (announcement_id, id);
      CREATE TABLE job_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        announcement_id TEXT NOT NULL REFERENCES jobs(announcement_id),
        at INTEGER NOT NULL,
        stream TEXT NOT NULL,
        text TEXT NOT NULL
      );
      CREATE INDEX job_logs_job ON job_logs (announcement_id, id);
      CREATE TABLE receipts (
        cid TEXT PRIMARY KEY,
        announcement_id TEXT NOT NULL,
        raw BLOB NOT NULL,
        status TEXT NOT NULL,
        failure_reason TEXT,
        fuel_used INTEGER NOT NULL,
        price INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX receipts_job ON receipts (announcement_id);
      CREATE TABLE earnings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        announcement_id TEXT NOT NULL UNIQUE REFERENCES jobs(announcement_id),
        originator_did TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount >= 0),
        earned_at INTEGER NOT NULL,
        receipt_cid TEXT
      );
      CREATE INDEX earnings_time ON earnings (earned_at);
      CREATE TABLE originator_history (
        originator_did TEXT PRIMARY KEY,
        announcements_seen INTEGER NOT NULL DEFAULT 0,
        bids_sent INTEGER NOT NULL DEFAULT 0,
        assigned INTEGER NOT NULL DEFAULT 0,
        completed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        first_seen_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      );
    `)
  }
}
