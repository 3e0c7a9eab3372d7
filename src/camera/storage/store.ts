import path from 'node:path';
import { Database } from '../../lib/sqlite.ts';
import { RELEASE } from '../../lib/version.ts';
import { DeviceKeys } from './device-keys.ts';
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
  readonly deviceKeys: DeviceKeys;

  private constructor(db: Database, storageDir: string, wallNow: () => number, tap: EventTap | undefined) {
    this.db = db;
    this.events = new EventLog(db, wallNow, tap);
    this.manifests = new Manifests(db);
    this.incidents = new Incidents(db, this.events, wallNow);
    this.segments = new Segments(db, storageDir, wallNow);
    this.deviceKeys = new DeviceKeys(db, wallNow);
  }

  /**
   * Opens `<storageDir>/index.sqlite`, migrating it to this release's schema and recording this release as its writer
   * (read-only: neither). An index from a newer release is refused, naming both releases.
   */
  static open(
    storageDir: string,
    options: { readonly?: boolean; wallNow?: () => number; onEvent?: EventTap } = {},
  ): CameraStore {
    const db = Database.open(path.join(storageDir, INDEX_FILE), {
      migrations: MIGRATIONS,
      readonly: options.readonly === true,
      release: RELEASE,
    });
    return new CameraStore(db, storageDir, options.wallNow ?? Date.now, options.onEvent);
  }

  close(): void {
    this.db.close();
  }
}
