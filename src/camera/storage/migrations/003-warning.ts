import type { Migration } from '../../../lib/migration.ts';

/**
 * What became of the spoken warning of each incident, timed against its activation, so the footage and the record
 * agree: given (all languages), partial, failed (the speaker failed), suppressed (silent activation, stealth or
 * disabled, with the reason) or pending. Incidents recorded before this release have no warning state (NULL).
 */
export const warning: Migration = {
  version: 3,
  name: 'warning state, reason and timing on incidents',
  up(db) {
    db.exec(`
      ALTER TABLE incidents ADD COLUMN warning_state TEXT
        CHECK (warning_state IN ('pending', 'given', 'partial', 'failed', 'suppressed'));
      ALTER TABLE incidents ADD COLUMN warning_reason TEXT;
      ALTER TABLE incidents ADD COLUMN warning_started_at TEXT;
      ALTER TABLE incidents ADD COLUMN warning_started_media_ms REAL;
      ALTER TABLE incidents ADD COLUMN warning_duration_ms INTEGER;
      ALTER TABLE incidents ADD COLUMN warning_languages TEXT;
    `);
  },
};
