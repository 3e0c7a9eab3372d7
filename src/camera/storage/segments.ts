import path from 'node:path';
import type { Database } from '../../lib/sqlite.ts';

export type SegmentState = 'open' | 'closed' | 'recovered' | 'lost';

export interface SegmentRow {
  id: number;
  incidentId: string;
  seq: number;
  /** Absolute path (stored relative to the storage directory). */
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
  /** When the dock's receipt arrived and the file was deleted; null while it is on the camera. */
  offloadedAt: string | null;
}

export interface SegmentProgressRow {
  endMediaMs: number;
  frames: number;
  fragments: number;
  bytes: number;
}

/** What the recorder and recovery need of the segments. */
export interface SegmentStore {
  /** A new open segment; `relativePath` is under the storage directory. Returns its row id. */
  insert(incidentId: string, seq: number, relativePath: string, firstMediaMs: number): number;
  /** Progress of an open segment, written after each sync so the index trails the disk by at most one sync. */
  progress(id: number, p: SegmentProgressRow): void;
  finish(id: number, state: 'closed' | 'recovered' | 'lost', p: SegmentProgressRow, sha256: string | null): void;
  /** Removes an open segment that never held a byte: its file could not be created. */
  discard(id: number): void;
  inState(state: SegmentState): SegmentRow[];
}

const COLS = `id, incident_id AS incidentId, seq, path, state, first_media_ms AS firstMediaMs,
  end_media_ms AS endMediaMs, frames, fragments, bytes, sha256, opened_at AS openedAt, closed_at AS closedAt, offloaded_at AS offloadedAt`;

export class Segments implements SegmentStore {
  readonly #db: Database;
  readonly #storageDir: string;
  readonly #wallNow: () => number;

  constructor(db: Database, storageDir: string, wallNow: () => number) {
    this.#db = db;
    this.#storageDir = storageDir;
    this.#wallNow = wallNow;
  }

  insert(incidentId: string, seq: number, relativePath: string, firstMediaMs: number): number {
    const info = this.#db.run(
      `INSERT INTO segments (incident_id, seq, path, state, first_media_ms, end_media_ms, opened_at)
       VALUES (?, ?, ?, 'open', ?, ?, ?)`,
      incidentId,
      seq,
      relativePath,
      firstMediaMs,
      firstMediaMs,
      this.#iso(),
    );
    return Number(info.lastInsertRowid);
  }

  progress(id: number, p: SegmentProgressRow): void {
    this.#db.run(
      'UPDATE segments SET end_media_ms = ?, frames = ?, fragments = ?, bytes = ? WHERE id = ?',
      p.endMediaMs,
      p.frames,
      p.fragments,
      p.bytes,
      id,
    );
  }

  finish(id: number, state: 'closed' | 'recovered' | 'lost', p: SegmentProgressRow, sha256: string | null): void {
    this.#db.run(
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

  /** Only an `open` row with no bytes: nothing of it exists to recover, nor to lose. */
  discard(id: number): void {
    this.#db.run(`DELETE FROM segments WHERE id = ? AND state = 'open' AND bytes = 0`, id);
  }

  /** Segments waiting for the dock: sealed or recovered, signed, not yet offloaded; oldest first. */
  awaitingOffload(): SegmentRow[] {
    return this.#resolve(
      this.#db.all<SegmentRow>(
        `SELECT ${COLS} FROM segments s
         WHERE s.state IN ('closed', 'recovered') AND s.offloaded_at IS NULL
           AND EXISTS (SELECT 1 FROM manifests m
                       WHERE m.kind = 'segment' AND m.incident_id = s.incident_id AND m.segment_seq = s.seq)
         ORDER BY s.incident_id, s.seq`,
      ),
    );
  }

  /** Segments whose file is still on the card (not offloaded, not lost). */
  countOnCard(): number {
    return (
      this.#db.get<{ n: number }>("SELECT COUNT(*) AS n FROM segments WHERE offloaded_at IS NULL AND state != 'lost'")
        ?.n ?? 0
    );
  }

  markOffloaded(id: number): void {
    this.#db.run('UPDATE segments SET offloaded_at = ? WHERE id = ?', this.#iso(), id);
  }

  ofIncident(incidentId: string): SegmentRow[] {
    return this.#resolve(
      this.#db.all<SegmentRow>(`SELECT ${COLS} FROM segments WHERE incident_id = ? ORDER BY seq`, incidentId),
    );
  }

  inState(state: SegmentState): SegmentRow[] {
    return this.#resolve(this.#db.all<SegmentRow>(`SELECT ${COLS} FROM segments WHERE state = ? ORDER BY id`, state));
  }

  #resolve(rows: SegmentRow[]): SegmentRow[] {
    for (const r of rows) r.path = path.resolve(this.#storageDir, r.path);
    return rows;
  }

  #iso(): string {
    return new Date(this.#wallNow()).toISOString();
  }
}
