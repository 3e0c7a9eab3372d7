import type { Migration } from '../../../lib/migration.ts';

/** The schema of release 0.1.0, exactly (its files have user_version 1 and skip this). */
export const initial: Migration = {
  version: 1,
  name: 'incidents, segments and events (release 0.1.0)',
  up(db) {
    db.exec(`
      CREATE TABLE incidents (
        id                    TEXT PRIMARY KEY,
        trigger               TEXT NOT NULL,
        state                 TEXT NOT NULL CHECK (state IN ('recording', 'closed', 'interrupted')),
        activated_at          TEXT NOT NULL,
        activation_media_ms   REAL NOT NULL,
        preroll_requested_ms  INTEGER NOT NULL,
        preroll_actual_ms     INTEGER NOT NULL,
        first_media_ms        REAL NOT NULL,
        stopped_at            TEXT,
        stop_media_ms         REAL,
        stop_reason           TEXT
      );
      CREATE TABLE segments (
        id              INTEGER PRIMARY KEY,
        incident_id     TEXT NOT NULL REFERENCES incidents(id),
        seq             INTEGER NOT NULL,
        path            TEXT NOT NULL UNIQUE,
        state           TEXT NOT NULL CHECK (state IN ('open', 'closed', 'recovered', 'lost')),
        first_media_ms  REAL NOT NULL,
        end_media_ms    REAL NOT NULL,
        frames          INTEGER NOT NULL DEFAULT 0,
        fragments       INTEGER NOT NULL DEFAULT 0,
        bytes           INTEGER NOT NULL DEFAULT 0,
        sha256          TEXT,
        opened_at       TEXT NOT NULL,
        closed_at       TEXT,
        UNIQUE (incident_id, seq)
      );
      CREATE TABLE events (
        id           INTEGER PRIMARY KEY,
        at           TEXT NOT NULL,
        kind         TEXT NOT NULL,
        incident_id  TEXT,
        data         TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX events_kind ON events(kind);
    `);
  },
};
