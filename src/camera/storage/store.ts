import { statSync } from 'node:fs';
import path from 'node:path';
import { Database } from '../../lib/sqlite.ts';
import { EventLog, type EventTap } from './event-log.ts';
import { Incidents } from './incidents.ts';
import { Manifests } from './manifests.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { Segments } from './segments.ts';

export const INDEX_FILE = 'index.sqlite';

/** The camera's index: one database, one small repository per concern. */
export class CameraStore {
  readonly db: Database;
  readonly events: EventLog;
  readonly incidents: Incidents;
  readonly segments: Segments;
  readonly manifests: Manifests;
  readonly #file: string;

  private constructor(db: Database, storageDir: string, wallNow: () => number, tap: EventTap | undefined) {
    this.db = db;
    this.#file = path.join(storageDir, INDEX_FILE);
    this.events = new EventLog(db, wallNow, tap);
    this.manifests = new Manifests(db);
    this.incidents = new Incidents(db, this.events, wallNow);
    this.segments = new Segments(db, storageDir, wallNow);
  }

  /** Opens `<storageDir>/index.sqlite`, migrating it to this release's schema (read-only: no migration). */
  static open(
    storageDir: string,
    options: { readonly?: boolean; wallNow?: () => number; onEvent?: EventTap } = {},
  ): CameraStore {
    const db = Database.open(path.join(storageDir, INDEX_FILE), {
      migrations: MIGRATIONS,
      readonly: options.readonly === true,
    });
    return new CameraStore(db, storageDir, options.wallNow ?? Date.now, options.onEvent);
  }

  /** What the card holds that the storage reserve is sized from (docs/design.md §18). */
  contents(): { segmentsOnCard: number; incidentsOnCard: number; walBytesNow: number } {
    let walBytesNow = 0;
    try {
      walBytesNow = statSync(`${this.#file}-wal`).size;
    } catch {
      // no write-ahead log yet
    }
    return { segmentsOnCard: this.segments.countOnCard(), incidentsOnCard: this.incidents.countOnCard(), walBytesNow };
  }

  close(): void {
    this.db.close();
  }
}
