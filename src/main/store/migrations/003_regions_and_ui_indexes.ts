import type { Migration } from './types.js'

/**
 * Region per job/earning (for "earnings by region") and the indexes the UI's list views use.
 * Existing rows get a NULL region ("unknown").
 */
export const migration003: Migration = {
  version: 3,
  name: 'regions_and_ui_indexes',
  up (db) {
    db.exec(`
      ALTER TABLE jobs ADD COLUMN region TEXT;
      ALTER TABLE earnings ADD COLUMN region TEXT;
      ALTER TABLE announcements ADD COLUMN region TEXT;
      CREATE INDEX announcements_received ON announcements (received_at);
      CREATE INDEX announcements_first_failed ON announcements (first_failed_rule, received_at);
      CREATE INDEX jobs_state ON jobs (state);
      CREATE INDEX jobs_updated ON jobs (updated_at);
      CREATE INDEX receipts_created ON receipts (created_at);
      CREATE INDEX earnings_originator ON earnings (originator_did);
    `)
  }
}
