import type { Database } from '../../lib/sqlite.ts';
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
  warningState: WarningState | null;
  warningReason: string | null;
  /** Wall-clock ISO time and capture-timeline ms when the warning started playing. */
  warningStartedAt: string | null;
  warningStartedMediaMs: number | null;
  warningDurationMs: number | null;
  /** Languages played, in order (JSON array). */
  warningLanguages: string | null;
}

export type WarningState = 'pending' | 'given' | 'partial' | 'failed' | 'suppressed';

/** How the warning of an incident ended. */
export interface WarningOutcome {
  state: Exclude<WarningState, 'pending'>;
  reason: string | null;
  startedAt: string | null;
  startedMediaMs: number | null;
  durationMs: number | null;
  languages: readonly string[];
}

export type NewIncident = Pick<
  IncidentRow,
  'id' | 'trigger' | 'activatedAt' | 'activationMediaMs' | 'prerollRequestedMs' | 'prerollActualMs' | 'firstMediaMs'
> & {
  /** 'pending' when it is to be spoken, else 'suppressed' with the reason. */
  warning: { state: 'pending' } | { state: 'suppressed'; reason: string };
};

/** What the recorder and recovery need of the incidents. */
export interface IncidentStore {
  /** The incident row and its activation event in one transaction: one fsync on the activation path, not two. */
  open(row: NewIncident, activationEvent: Record<string, unknown>): void;
  close(id: string, state: 'closed' | 'interrupted', stopMediaMs: number | null, reason: string): void;
  inState(state: IncidentState): IncidentRow[];
}

/** What the warning needs of the incidents. */
export interface WarningStore {
  setWarning(id: string, outcome: WarningOutcome): void;
}

const COLS = `id, trigger, state, activated_at AS activatedAt, activation_media_ms AS activationMediaMs,
  preroll_requested_ms AS prerollRequestedMs, preroll_actual_ms AS prerollActualMs, first_media_ms AS firstMediaMs,
  stopped_at AS stoppedAt, stop_media_ms AS stopMediaMs, stop_reason AS stopReason,
  warning_state AS warningState, warning_reason AS warningReason, warning_started_at AS warningStartedAt,
  warning_started_media_ms AS warningStartedMediaMs, warning_duration_ms AS warningDurationMs,
  warning_languages AS warningLanguages`;

export class Incidents implements IncidentStore, WarningStore {
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
           preroll_actual_ms, first_media_ms, warning_state, warning_reason) VALUES (?, ?, 'recording', ?, ?, ?, ?, ?, ?, ?)`,
        row.id,
        row.trigger,
        row.activatedAt,
        row.activationMediaMs,
        row.prerollRequestedMs,
        row.prerollActualMs,
        row.firstMediaMs,
        row.warning.state,
        row.warning.state === 'suppressed' ? row.warning.reason : null,
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

  setWarning(id: string, w: WarningOutcome): void {
    this.#db.run(
      `UPDATE incidents SET warning_state = ?, warning_reason = ?, warning_started_at = ?, warning_started_media_ms = ?,
         warning_duration_ms = ?, warning_languages = ? WHERE id = ?`,
      w.state,
      w.reason,
      w.startedAt,
      w.startedMediaMs,
      w.durationMs,
      JSON.stringify(w.languages),
      id,
    );
  }

  /** Incidents with a closing manifest the dock has not acknowledged yet. */
  closingsAwaitingOffload(): string[] {
    return this.#db
      .all<{ id: string }>(
        `SELECT id FROM incidents WHERE closing_offloaded_at IS NULL
         AND id IN (SELECT incident_id FROM manifests WHERE kind = 'incident') ORDER BY id`,
      )
      .map((r) => r.id);
  }

  /** Incidents whose closing has not reached a dock yet. */
  countOnCard(): number {
    return (
      this.#db.get<{ n: number }>('SELECT COUNT(*) AS n FROM incidents WHERE closing_offloaded_at IS NULL')?.n ?? 0
    );
  }

  markClosingOffloaded(id: string): void {
    this.#db.run(
      'UPDATE incidents SET closing_offloaded_at = ? WHERE id = ?',
      new Date(this.#wallNow()).toISOString(),
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
