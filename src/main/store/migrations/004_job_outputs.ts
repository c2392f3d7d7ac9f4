import { verifyReceiptBlock } from '../../../shared/protocol/index.js'
import type { Migration } from './types.js'

/**
 * The output CID of each finished job, so that block access follows the jobs (wire profile 4.3): an
 * output block is served to the originator of every job that produced it (the same computation bought
 * twice). Existing jobs get theirs from their stored receipts.
 */
export const migration004: Migration = {
  version: 4,
  name: 'job_outputs',
  up (db) {
    db.exec(`
      ALTER TABLE jobs ADD COLUMN output_cid TEXT;
      CREATE INDEX jobs_output ON jobs (output_cid) WHERE output_cid IS NOT NULL;
    `)
    const set = db.prepare('UPDATE jobs SET output_cid = ? WHERE announcement_id = ? AND output_cid IS NULL')
    for (const row of db.prepare('SELECT announcement_id, raw FROM receipts').iterate() as Iterable<{ announcement_id: string, raw: Buffer }>) {
      const r = verifyReceiptBlock(new Uint8Array(row.raw))
      if (r.ok && r.receipt.output_cid !== undefined) set.run(r.receipt.output_cid, row.announcement_id)
    }
  }
}
