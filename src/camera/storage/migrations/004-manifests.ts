import type { Migration } from '../../../lib/migration.ts';

/**
 * The device's manifest chain, one row per signed manifest in chain order: the head (the last row) is what the next
 * manifest links to, and a segment or incident with a row has its manifest on disk.
 */
export const manifests: Migration = {
  version: 4,
  name: 'manifest chain',
  up(db) {
    db.exec(`
      CREATE TABLE manifests (
        chain_seq    INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('segment', 'incident')),
        incident_id  TEXT NOT NULL,
        segment_seq  INTEGER,
        file         TEXT NOT NULL,
        hash         TEXT NOT NULL,
        signed_at    TEXT NOT NULL,
        UNIQUE (incident_id, kind, segment_seq)
      );
    `);
  },
};
