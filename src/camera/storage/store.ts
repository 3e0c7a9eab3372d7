import { statfsSync, statSync } from 'node:fs';
import { indexFile } from '../../evidence/paths.ts';
import { BodycamError, ErrorCode, isBodycamError } from '../../lib/errors.ts';
import { Database } from '../../lib/sqlite.ts';
import { RELEASE } from '../../lib/version.ts';
import { DeviceKeys } from './device-keys.ts';
import { EventLog, type EventTap } from './event-log.ts';
import { Incidents } from './incidents.ts';
import { Manifests } from './manifests.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { Segments } from './segments.ts';

/** The camera's index: one database, one small repository per concern. */
export class CameraStore {
  readonly db: Database;
  readonly events: EventLog;
  readonly incidents: Incidents;
  readonly segments: Segments;
  readonly manifests: Manifests;
  readonly #file: string;
  readonly deviceKeys: DeviceKeys;

  private constructor(db: Database, storageDir: string, wallNow: () => number, tap: EventTap | undefined) {
    this.db = db;
    this.#file = indexFile(storageDir);
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
    let db: Database;
    try {
      db = Database.open(indexFile(storageDir), {
        migrations: MIGRATIONS,
        readonly: options.readonly === true,
        release: RELEASE,
      });
    } catch (e) {
      throw fullStorage(storageDir, e) ?? e;
    }
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

/** Below this, SQLite cannot make its shared-memory file: an index that will not open is a full card, not a bad one. */
const OPEN_NEEDS_BYTES = 64 * 1024;

/**
 * SQLite reports a full card at open as a disk I/O error. Said plainly instead: a card with no room left at all
 * (its reserve taken by another writer, or filled by a release without one, docs/design.md §18).
 */
function fullStorage(storageDir: string, e: unknown): BodycamError | null {
  if (!isBodycamError(e, 'STORAGE_INDEX')) return null;
  let free: number;
  try {
    const s = statfsSync(storageDir);
    free = s.bavail * s.bsize;
  } catch {
    return null;
  }
  if (free >= OPEN_NEEDS_BYTES) return null;
  return new BodycamError(
    ErrorCode.STORAGE_FULL,
    `the index in ${storageDir} cannot be opened: the storage is full (${free} bytes free). Make room on it ` +
      "(another writer's files, or copy the footage off): the camera keeps its storage reserve from then on",
    { storageDir, freeBytes: free },
    { cause: e },
  );
}
