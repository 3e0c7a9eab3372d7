import type { Database } from './database.ts';

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
export class EventLog implements EventAppender {
  readonly #db: Database;
  readonly #wallNow: () => number;

  constructor(db: Database, wallNow: () => number) {
    this.#db = db;
    this.#wallNow = wallNow;
  }

  append(kind: string, data: Record<string, unknown> = {}, incidentId: string | null = null): void {
    this.#db.run(
      'INSERT INTO events (at, kind, incident_id, data) VALUES (?, ?, ?, ?)',
      new Date(this.#wallNow()).toISOString(),
      kind,
      incidentId,
      JSON.stringify(data),
    );
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
