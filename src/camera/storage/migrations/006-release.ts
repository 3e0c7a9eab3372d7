import type { Migration } from '../../../lib/migration.ts';
import { META_TABLE } from '../../../lib/sqlite.ts';

/**
 * The release that last opened the index for writing (`meta` key `release`), so a release older than the schema can
 * name the one that wrote it when it refuses to open it (a downgrade), and a technician can read it off a card.
 */
export const release: Migration = {
  version: 6,
  name: 'the release that wrote the index',
  up(db) {
    db.exec(META_TABLE);
  },
};
