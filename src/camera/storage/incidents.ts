import type { Database } from './database.ts';
import type { EventLog } from './event-log.ts';

export type IncidentState = 'recording' | 'closed' | 'interrupted';

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

export type NewIncident = Omit<IncidentRow, 'state' | 'stoppedAt' | 'stopMediaMs' | 'stopReason'>;

/** What the recorder and recovery need of the incidents. */
export interface IncidentStore {
  /** The incident row and its activation event in one transaction: one fsync on the activation path, not two. */
  open(row: NewIncident, activationEvent: Record<string, unknown>): void;
  close(id: string, state: 'closed' | 'interrupted', stopMediaMs: number | null, reason: string): void;
  inState(state: IncidentState): IncidentRow[];
}

const COLS = `id, trigger, state, activated_at AS activatedAt, activation_media_ms AS activationMediaMs,
  preroll_requested_ms AS prerollRequestedMs, preroll_actual_ms AS prerollActualMs, first_media_ms AS firstMediaMs,
  stopped_at AS stoppedAt, stop_media_ms AS stopMediaMs, stop_reason AS stopReason`;

export class Incidents implements IncidentStore {
  readonly #db: Database;
  readonly #events: EventLog;
  readonly #wallNow: () => number;

  constructor(db: Database, events: EventLog, wallNow: () => number) {
    this.#db = db;
    this.#events = events;
    this.#wallNow = wallNow;
  }

  open(row: NewIncident, activationEvent: Record<string, unknown>): void {
    this.#db.transaction(() => {
      this.#db.run(
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
      this.#events.append('activation', activationEvent, row.id);
    });
  }

  close(id: string, state: 'closed' | 'interrupted', stopMediaMs: number | null, reason: string): void {
    this.#db.run(
      'UPDATE incidents SET state = ?, stopped_at = ?, stop_media_ms = ?, stop_reason = ? WHERE id = ?',
      state,
      new Date(this.#wallNow()).toISOString(),
      stopMediaMs,
      reason,
      id,
    );
  }

  all(): IncidentRow[] {
    return this.#db.all<IncidentRow>(`SELECT ${COLS} FROM incidents ORDER BY activated_at, id`);
  }

  inState(state: IncidentState): IncidentRow[] {
    return this.#db.all<IncidentRow>(`SELECT ${COLS} FROM incidents WHERE state = ? ORDER BY activated_at, id`, state);
  }

  get(id: string): IncidentRow | undefined {
    return this.#db.get<IncidentRow>(`SELECT ${COLS} FROM incidents WHERE id = ?`, id);
  }
}
