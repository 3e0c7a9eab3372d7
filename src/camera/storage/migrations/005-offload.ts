import type { Migration } from '../../../lib/migration.ts';

/**
 * Offload to the dock: when the dock's signed receipt for a segment (or an incident's closing manifest) arrived.
 * A segment with `offloaded_at` has had its file deleted; its manifest and the receipt stay on the camera.
 */
export const offload: Migration = {
  version: 5,
  name: 'offload receipts',
  up(db) {
    db.exec(`
      ALTER TABLE segments ADD COLUMN offloaded_at TEXT;
      ALTER TABLE incidents ADD COLUMN closing_offloaded_at TEXT;
    `);
  },
};
