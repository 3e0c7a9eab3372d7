import type { Migration } from '../../../lib/migration.ts';

interface Row {
  id: number;
  incident_id: string;
  path: string;
}

/**
 * Segment paths relative to the storage directory (`footage/<incident>/<NNNN>.mp4.age`). Release 0.1.0 stored
 * absolute paths, which break when a card is read in another machine or the storage directory moves; the last three
 * path components are the relative path whenever they have that shape, and anything else is kept as it was.
 * Also indexes the states that start-up recovery and the dock look rows up by.
 */
export const relativePaths: Migration = {
  version: 2,
  name: 'storage-relative segment paths; state indexes',
  up(db) {
    const update = db.prepare('UPDATE segments SET path = ? WHERE id = ?');
    for (const row of db.prepare('SELECT id, incident_id, path FROM segments').all() as Row[]) {
      const parts = row.path.split('/');
      const [dir, incident, file] = parts.slice(-3);
      if (parts.length > 3 && dir === 'footage' && incident === row.incident_id && file !== undefined) {
        update.run(`footage/${incident}/${file}`, row.id);
      }
    }
    db.exec(`
      CREATE INDEX segments_state ON segments(state);
      CREATE INDEX incidents_state ON incidents(state);
      CREATE INDEX events_incident ON events(incident_id);
    `);
  },
};
