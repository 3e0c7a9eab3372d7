import type { Database } from '../../lib/sqlite.ts';

export interface EventRow {
  id: number;
  at: string;
  kind: string;
  incidentId: string | null;
  data: Record<string, unknown>;
}

/** What components need of the device's event log: append an entry. */
export interface EventAppender {
  append(kind: string, data?: Record<string, unknown>, incidentId?: string | null): void;
}

/** The device's event log (activations, stops, gaps, faults, dock changes, recoveries): append-only. */
/** Told of every entry once the index has it (the signed audit log keeps a copy of each). */
export type EventTap = (e: {
  at: string;
  kind: string;
  incidentId: string | null;
  data: Record<string, unknown>;
}) => void;

export class EventLog implements EventAppender {
  readonly #db: Database;
  readonly #wallNow: () => number;
  readonly #tap: EventTap | undefined;

  constructor(db: Database, wallNow: () => number, tap?: EventTap) {
    this.#db = db;
    this.#wallNow = wallNow;
    this.#tap = tap;
  }

  append(kind: string, data: Record<string, unknown> = {}, incidentId: string | null = null): void {
    const at = new Date(this.#wallNow()).toISOString();
    this.#db.run(
      'INSERT INTO events (at, kind, incident_id, data) VALUES (?, ?, ?, ?)',
      at,
      kind,
      incidentId,
      JSON.stringify(data),
    );
    this.#tap?.({ at, kind, incidentId, data });
  }

  /** The newest entry of `kind`, if any. */
  last(kind: string): EventRow | undefined {
    const row = this.#db.get<RawEvent>(`SELECT ${COLS} FROM events WHERE kind = ? ORDER BY id DESC LIMIT 1`, kind);
    return row === undefined ? undefined : { ...row, data: parseData(row.data) };
  }

  /** The newest `limit` entries, oldest first; `incidentId` narrows them to one incident. */
  recent(limit: number, incidentId?: string): EventRow[] {
    const rows =
      incidentId === undefined
        ? this.#db.all<RawEvent>(`SELECT ${COLS} FROM events ORDER BY id DESC LIMIT ?`, limit)
        : this.#db.all<RawEvent>(
            `SELECT ${COLS} FROM events WHERE incident_id = ? ORDER BY id DESC LIMIT ?`,
            incidentId,
            limit,
          );
    return rows.reverse().map((r) => ({ ...r, data: parseData(r.data) }));
  }
}

const COLS = 'id, at, kind, incident_id AS incidentId, data';
type RawEvent = Omit<EventRow, 'data'> & { data: string };

function parseData(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { unreadable: text };
  }
}
