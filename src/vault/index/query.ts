/**
 * Queries on the index: incidents by organisation, device, activation time range and legal hold, and one incident's
 * row. The same SQL on SQLite and PostgreSQL; times are ISO 8601 UTC text, which sorts as time (byte-wise on both,
 * schema.ts). Lists are in activation order, incidents without a closing manifest (no activation time) last: the
 * order is spelled out, since SQLite puts NULL first and PostgreSQL last. The filter's times are brought to the
 * stored form (`toISOString`, milliseconds and `Z`) first: compared as text, `10:00:00Z` would sort after
 * `10:00:00.000Z`, the same instant.
 */
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { IncidentRow, VerificationState } from './schema.ts';
import type { SqlClient, SqlParam } from './sql.ts';

export interface IncidentFilter {
  organisation?: string;
  device?: string;
  /** Activated at or after / before this ISO 8601 time: a date (UTC midnight), or a time with `Z` or an offset. */
  from?: string;
  to?: string;
  held?: boolean;
}

interface Raw {
  organisation: string;
  device: string;
  incident: string;
  closed: number | string;
  activated_at: string | null;
  stopped_at: string | null;
  preroll_ms: number | string | null;
  warning: string | null;
  clock_source: string | null;
  clock_offset_ms: number | string | null;
  segments: number | string;
  bytes: number | string;
  verification: VerificationState;
  minimum_until: string | null;
  delete_due: string | null;
  held: number | string;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toRow(r: Raw): IncidentRow {
  return {
    organisation: r.organisation,
    device: r.device,
    incident: r.incident,
    closed: Number(r.closed) === 1,
    activatedAt: r.activated_at,
    stoppedAt: r.stopped_at,
    prerollMs: num(r.preroll_ms),
    warning: r.warning,
    clockSource: r.clock_source,
    clockOffsetMs: num(r.clock_offset_ms),
    segments: Number(r.segments),
    bytes: Number(r.bytes),
    verification: r.verification,
    minimumUntil: r.minimum_until,
    deleteDue: r.delete_due,
    held: Number(r.held) === 1,
  };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `value` in the stored form; a filter that is not an unambiguous time is refused, naming it. */
export function storedTime(filter: 'from' | 'to', value: string): string {
  const ms = ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    throw new BodycamError(
      ErrorCode.USAGE,
      `the '${filter}' filter is not an ISO 8601 date or time with a zone (Z or ±hh:mm): ${JSON.stringify(value)}`,
    );
  return new Date(ms).toISOString();
}

export async function listIncidents(db: SqlClient, f: IncidentFilter = {}): Promise<IncidentRow[]> {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (f.organisation !== undefined) {
    where.push('organisation = ?');
    params.push(f.organisation);
  }
  if (f.device !== undefined) {
    where.push('device = ?');
    params.push(f.device);
  }
  if (f.from !== undefined) {
    where.push('activated_at >= ?');
    params.push(storedTime('from', f.from));
  }
  if (f.to !== undefined) {
    where.push('activated_at < ?');
    params.push(storedTime('to', f.to));
  }
  if (f.held !== undefined) {
    where.push('held = ?');
    params.push(f.held ? 1 : 0);
  }
  const clause = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
  const rows = await db.all<Raw>(
    `SELECT * FROM incidents${clause} ORDER BY activated_at NULLS LAST, organisation, device, incident`,
    params,
  );
  return rows.map(toRow);
}

export async function incidentDetail(
  db: SqlClient,
  organisation: string,
  device: string,
  incident: string,
): Promise<IncidentRow | null> {
  const rows = await db.all<Raw>('SELECT * FROM incidents WHERE organisation = ? AND device = ? AND incident = ?', [
    organisation,
    device,
    incident,
  ]);
  const r = rows[0];
  return r === undefined ? null : toRow(r);
}
