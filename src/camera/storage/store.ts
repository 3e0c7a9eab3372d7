import path from 'node:path';
import { Database } from './database.ts';
import { EventLog } from './event-log.ts';
import { Incidents } from './incidents.ts';
import { Segments } from './segments.ts';

export const INDEX_FILE = 'index.sqlite';

/** The camera's index: one database, one small repository per concern. */
export class CameraStore {
  readonly db: Database;
  readonly events: EventLog;
  readonly incidents: Incidents;
  readonly segments: Segments;

  private constructor(db: Database, storageDir: string, wallNow: () => number) {
    this.db = db;
    this.events = new EventLog(db, wallNow);
    this.incidents = new Incidents(db, this.events, wallNow);
    this.segments = new Segments(db, storageDir, wallNow);
  }

  /** Opens `<storageDir>/index.sqlite`, migrating it to this release's schema (read-only: no migration). */
  static open(storageDir: string, options: { readonly?: boolean; wallNow?: () => number } = {}): CameraStore {
    const db = Database.open(path.join(storageDir, INDEX_FILE), options.readonly === true ? { readonly: true } : {});
    return new CameraStore(db, storageDir, options.wallNow ?? Date.now);
  }

  close(): void {
    this.db.close();
  }
}
