import Database from 'better-sqlite3';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import { SCHEMA, SCHEMA_VERSION } from './schema.sql.ts';

export type IncidentState = 'recording' | 'closed' | 'interrupted';
export type SegmentState = 'open' | 'closed' | 'recovered' | 'lost';

export interface IncidentRow {
  id: string;
  trigger: string;
  state: IncidentState;
  activatedAt: string;
  activationMediaMs: number;
  prerollRequestedMs: number;
  prerollActualMs: number;
  firstMediaMs: number;
  stoppedAt: string | null;
  stopMediaMs: number | null;
  stopReason: string | null;
}

export interface SegmentRow {
  id: number;
  incidentId: string;
  seq: number;
  path: string;
  state: SegmentState;
  firstMediaMs: number;
  endMediaMs: number;
  frames: number;
  fragments: number;
  bytes: number;
  sha256: string | null;
  openedAt: string;
  closedAt: string | null;
}

export interface SegmentProgress {
  endMediaMs: number;
  frames: number;
  fragments: number;
  bytes: number;
}

const INCIDENT_COLS = `id, trigger, state, activated_at AS activatedAt, activation_media_ms AS activationMediaMs,
  preroll_requested_ms AS prerollRequestedMs, preroll_actual_ms AS prerollActualMs, first_media_ms AS firstMediaMs,
  stopped_at AS stoppedAt, stop_media_ms AS stopMediaMs, stop_reason AS stopReason`;
const SEGMENT_COLS = `id, incident_id AS incidentId, seq, path, state, first_media_ms AS firstMediaMs,
  end_media_ms AS endMediaMs, frames, fragments, bytes, sha256, opened_at AS openedAt, closed_at AS closedAt`;

/** The SQLite index of incidents, segments and events (WAL, synchronous=FULL: it is evidence metadata). */
export class IndexDb {
  readonly #db: Database.Database;
  readonly #now: () => Date;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(file: string, options: { readonly?: boolean; now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date());
    try {
      if (options.readonly === true) {
        // Readers (`bodycam list`) run beside the daemon: WAL lets them see committed rows without locking it out.
        this.#db = new Database(file, { readonly: true, fileMustExist: true });
        this.#db.pragma('busy_timeout = 5000');
        return;
      }
      this.#db = new Database(file);
      this.#db.pragma('busy_timeout = 5000');
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.pragma('foreign_keys = ON');
      this.#db.exec(SCHEMA);
      this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } catch (e) {
      throw new BodycamError(
        ErrorCode.STORAGE_INDEX,
        `cannot open the index ${file}: ${(e as Error).message}`,
        { file },
        {
          cause: e,
        },
      );
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #iso(): string {
    return this.#now().toISOString();
  }

  /** The incident row and its activation event in one transaction: one fsync on the activation path, not two. */
  insertIncident(
    row: Omit<IncidentRow, 'state' | 'stoppedAt' | 'stopMediaMs' | 'stopReason'>,
    event: Record<string, unknown>,
  ): void {
    this.#guard(() =>
      this.#db.transaction(() => {
        this.#insertIncident(row);
        this.addEvent('activation', event, row.id);
      })(),
    );
  }

  #insertIncident(row: Omit<IncidentRow, 'state' | 'stoppedAt' | 'stopMediaMs' | 'stopReason'>): void {
    this.#run(
      `INSERT INTO incidents (id, trigger, state, activated_at, activation_media_ms, preroll_requested_ms,
         preroll_actual_ms, first_media_ms) VALUES (?, ?, 'recording', ?, ?, ?, ?, ?)`,
      row.id,
      row.trigger,
      row.activatedAt,
      row.activationMediaMs,
      row.prerollRequestedMs,
      row.prerollActualMs,
      row.firstMediaMs,
    );
  }

  closeIncident(id: string, state: 'closed' | 'interrupted', stopMediaMs: number | null, reason: string): void {
    this.#run(
      'UPDATE incidents SET state = ?, stopped_at = ?, stop_media_ms = ?, stop_reason = ? WHERE id = ?',
      state,
      this.#iso(),
      stopMediaMs,
      reason,
      id,
    );
  }

  insertSegment(incidentId: string, seq: number, path: string, firstMediaMs: number): number {
    const info = this.#run(
      `INSERT INTO segments (incident_id, seq, path, state, first_media_ms, end_media_ms, opened_at)
       VALUES (?, ?, ?, 'open', ?, ?, ?)`,
      incidentId,
      seq,
      path,
      firstMediaMs,
      firstMediaMs,
      this.#iso(),
    );
    return Number(info.lastInsertRowid);
  }

  /** Progress of an open segment, written after each sync so the index trails the disk by at most one sync. */
  updateSegmentProgress(id: number, p: SegmentProgress): void {
    this.#run(
      'UPDATE segments SET end_media_ms = ?, frames = ?, fragments = ?, bytes = ? WHERE id = ?',
      p.endMediaMs,
      p.frames,
      p.fragments,
      p.bytes,
      id,
    );
  }

  finishSegment(id: number, state: 'closed' | 'recovered' | 'lost', p: SegmentProgress, sha256: string | null): void {
    this.#run(
      `UPDATE segments SET state = ?, end_media_ms = ?, frames = ?, fragments = ?, bytes = ?, sha256 = ?,
         closed_at = ? WHERE id = ?`,
      state,
      p.endMediaMs,
      p.frames,
      p.fragments,
      p.bytes,
      sha256,
      this.#iso(),
      id,
    );
  }

  addEvent(kind: string, data: Record<string, unknown> = {}, incidentId: string | null = null): void {
    this.#run(
      'INSERT INTO events (at, kind, incident_id, data) VALUES (?, ?, ?, ?)',
      this.#iso(),
      kind,
      incidentId,
      JSON.stringify(data),
    );
  }

  /** One write through a cached statement; SQLite failures become STORAGE_FULL or STORAGE_INDEX. */
  #run(sql: string, ...params: unknown[]): Database.RunResult {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    const prepared = stmt;
    return this.#guard(() => prepared.run(...params));
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof Database.SqliteError)) throw e;
      // A full disk must reach the officer as such; it is not a corrupt index.
      const full = e.code === 'SQLITE_FULL';
      throw new BodycamError(
        full ? ErrorCode.STORAGE_FULL : ErrorCode.STORAGE_INDEX,
        `${full ? 'storage is full; the index' : 'the index'} could not be written: ${e.message}`,
        { sqlite: e.code },
        { cause: e },
      );
    }
  }

  incidents(): IncidentRow[] {
    return this.#db.prepare(`SELECT ${INCIDENT_COLS} FROM incidents ORDER BY activated_at, id`).all() as IncidentRow[];
  }

  incidentsInState(state: IncidentState): IncidentRow[] {
    return this.#db.prepare(`SELECT ${INCIDENT_COLS} FROM incidents WHERE state = ?`).all(state) as IncidentRow[];
  }

  segmentsOf(incidentId: string): SegmentRow[] {
    return this.#db
      .prepare(`SELECT ${SEGMENT_COLS} FROM segments WHERE incident_id = ? ORDER BY seq`)
      .all(incidentId) as SegmentRow[];
  }

  segmentsInState(state: SegmentState): SegmentRow[] {
    return this.#db
      .prepare(`SELECT ${SEGMENT_COLS} FROM segments WHERE state = ? ORDER BY id`)
      .all(state) as SegmentRow[];
  }
}
