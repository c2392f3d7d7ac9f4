import type { Migration } from './types.js'

/**
 * Why we refused an assignment we had bid for (e.g. every job slot was taken by then). Without it
 * the dashboard called such a bid "lost: the buyer chose another executor" when the buyer had in
 * fact chosen us.
 */
export const migration006: Migration = {
  version: 6,
  name: 'bid_refusals',
  up (db) {
    db.exec('ALTER TABLE bids ADD COLUMN refused TEXT')
  }
}
