import type { Migration } from '../../../lib/migration.ts';

/**
 * Every signing key this camera has used, and whether a dock has confirmed it. A key the camera made for itself at
 * start (a camera upgraded from 0.1.0, which had none) is unknown to its dock until the camera announces it at its
 * next docking and the dock confirms it (`confirmed_at`, `confirmed_by`: the dock's key id).
 */
export const deviceKeys: Migration = {
  version: 7,
  name: 'device signing keys and their confirmation by a dock',
  up(db) {
    db.exec(`
      CREATE TABLE device_keys (
        key_id TEXT PRIMARY KEY,
        public_pem TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('provisioned', 'created-at-start')),
        release TEXT NOT NULL,
        first_used_at TEXT NOT NULL,
        confirmed_at TEXT,
        confirmed_by TEXT
      );
    `);
  },
};
