/**
 * What the dock holds for its object store and has not yet stored there (`dock.sqlite`, table `backlog`): one row per
 * write the store did not take when it came (it did not answer), in arrival order. A segment's bytes wait in the
 * staging directory under a random name the row holds (`staged`); everything else (manifests, audit lines, docking records, a device key) is
 * small and waits in the row. `bodycam dock status` reads the summary from another process.
 */
import type { Migration } from '../../lib/migration.ts';
import type { Database } from '../../lib/sqlite.ts';

export const BACKLOG_MIGRATION: Migration = {
  version: 4,
  name: 'evidence waiting for the object store',
  up(db) {
    db.exec(`
      CREATE TABLE backlog (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        op TEXT NOT NULL CHECK (op IN ('segment', 'closing', 'audit', 'docking', 'device-key')),
        device TEXT NOT NULL, incident TEXT, file TEXT, staged TEXT,
        text TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT,
        at_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        refused INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE last_docking (device TEXT PRIMARY KEY, line TEXT NOT NULL);
    `);
  },
};

export type BacklogOp = 'segment' | 'closing' | 'audit' | 'docking' | 'device-key';

/** One write waiting. `text`: the segment's manifest, or the whole body of anything else. */
export interface BacklogRow {
  id: number;
  op: BacklogOp;
  device: string;
  incident: string | null;
  file: string | null;
  /** A segment's file in the staging directory (a random name, given before the row exists). */
  staged: string | null;
  text: string;
  /** A segment's size (its bytes wait in the staging directory), else the text's. */
  bytes: number;
  sha256: string | null;
  atMs: number;
  attempts: number;
  lastError: string | null;
  /** 1 once the store refused it (not an outage): it waits for an operator, holding back nothing. */
  refused: number;
}

export interface BacklogSummary {
  /** Writes waiting, and of them segments. */
  waiting: number;
  segments: number;
  bytes: number;
  /** When the oldest arrived (dock wall clock, ms), null when nothing waits. */
  oldestMs: number | null;
  /** The store's last answer to the oldest write, when it refused or did not answer. */
  lastError: string | null;
  /** Of the writes waiting, those the store refused (they wait for an operator; the log says why). */
  refused: number;
}

const COLS = `id, op, device, incident, file, staged, text, bytes, sha256, at_ms AS atMs, attempts, last_error AS lastError,
  refused`;

export class Backlog {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  add(row: Omit<BacklogRow, 'id' | 'attempts' | 'lastError' | 'refused'>): number {
    const r = this.#db.run(
      'INSERT INTO backlog (op, device, incident, file, staged, text, bytes, sha256, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      row.op,
      row.device,
      row.incident,
      row.file,
      row.staged,
      row.text,
      row.bytes,
      row.sha256,
      row.atMs,
    );
    return Number(r.lastInsertRowid);
  }

  oldest(): BacklogRow | undefined {
    return this.#db.get<BacklogRow>(`SELECT ${COLS} FROM backlog ORDER BY id LIMIT 1`);
  }

  all(): BacklogRow[] {
    return this.#db.all<BacklogRow>(`SELECT ${COLS} FROM backlog ORDER BY id`);
  }

  isEmpty(): boolean {
    return this.#db.get('SELECT 1 FROM backlog LIMIT 1') === undefined;
  }

  /** Does anything wait for the store to answer (not counting what it refused)? New writes queue behind it. */
  waitsForStore(): boolean {
    return this.#db.get('SELECT 1 FROM backlog WHERE refused = 0 LIMIT 1') !== undefined;
  }

  /** The segment waiting under this name, if one does. */
  segment(device: string, incident: string, file: string): BacklogRow | undefined {
    return this.#db.get<BacklogRow>(
      `SELECT ${COLS} FROM backlog WHERE op = 'segment' AND device = ? AND incident = ? AND file = ? ORDER BY id DESC`,
      device,
      incident,
      file,
    );
  }

  closing(device: string, incident: string): BacklogRow | undefined {
    return this.#db.get<BacklogRow>(
      `SELECT ${COLS} FROM backlog WHERE op = 'closing' AND device = ? AND incident = ? ORDER BY id DESC`,
      device,
      incident,
    );
  }

  /** The newest docking record line waiting for the store. */
  newestDocking(device: string): string | undefined {
    return this.#db.get<{ text: string }>(
      "SELECT text FROM backlog WHERE op = 'docking' AND device = ? AND refused = 0 ORDER BY id DESC LIMIT 1",
      device,
    )?.text;
  }

  /** The store did not take it: it did not answer, or (`refused`) it said no; a refusal stays one until it is stored. */
  failed(id: number, error: string, refused: boolean): void {
    this.#db.run(
      'UPDATE backlog SET attempts = attempts + 1, last_error = ?, refused = max(refused, ?) WHERE id = ?',
      error,
      refused ? 1 : 0,
      id,
    );
  }

  done(id: number): void {
    this.#db.run('DELETE FROM backlog WHERE id = ?', id);
  }

  /** The newest docking record line this dock signed for the device (stored or waiting). */
  lastDocking(device: string): string | undefined {
    return this.#db.get<{ line: string }>('SELECT line FROM last_docking WHERE device = ?', device)?.line;
  }

  setLastDocking(device: string, line: string): void {
    this.#db.run(
      'INSERT INTO last_docking (device, line) VALUES (?, ?) ON CONFLICT(device) DO UPDATE SET line = excluded.line',
      device,
      line,
    );
  }

  /** Writes waiting per camera and incident (null for a camera's own records), and of them refused by the store. */
  waitingByIncident(): Array<{ device: string; incident: string | null; waiting: number; refused: number }> {
    return this.#db.all(
      `SELECT device, incident, count(*) AS waiting, sum(refused) AS refused FROM backlog
       GROUP BY device, incident ORDER BY device, incident`,
    );
  }

  summary(): BacklogSummary {
    const s = this.#db.get<{
      waiting: number;
      segments: number | null;
      bytes: number | null;
      oldestMs: number | null;
      refused: number | null;
    }>(
      `SELECT count(*) AS waiting, sum(op = 'segment') AS segments, sum(bytes) AS bytes, min(at_ms) AS oldestMs,
         sum(refused) AS refused FROM backlog`,
    );
    return {
      waiting: s?.waiting ?? 0,
      segments: s?.segments ?? 0,
      bytes: s?.bytes ?? 0,
      oldestMs: s?.oldestMs ?? null,
      lastError: this.oldest()?.lastError ?? null,
      refused: s?.refused ?? 0,
    };
  }
}
