/**
 * The vault's index of incidents: one row per incident found in the bucket, built from its manifests and object
 * metadata alone (`rebuild`), so it can be dropped and rebuilt from the bucket at any time. Plain SQL that SQLite and
 * PostgreSQL both run: TEXT and BIGINT columns, 0/1 INTEGER flags, `?` placeholders (the PostgreSQL driver numbers
 * them). One difference: text compares byte-wise on both (SQLite's BINARY default; `COLLATE "C"` on PostgreSQL, whose
 * database default may be a language's collation), so ISO times compare as time and lists sort the same way.
 */
import type { SqlDialect } from './sql.ts';

export const INDEX_SCHEMA_VERSION = 1;

/** Verification state: `unverified` until the evidence verifier can read a bucket per incident. */
export type VerificationState = 'verified' | 'failed' | 'unverified';

/** The statements that create the index (each idempotent) in `dialect`. */
export function indexSchema(dialect: SqlDialect): readonly string[] {
  const text = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  return [
    `CREATE TABLE IF NOT EXISTS index_meta (key ${text} PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS incidents (
    organisation ${text} NOT NULL,
    device ${text} NOT NULL,
    incident ${text} NOT NULL,
    closed INTEGER NOT NULL,
    activated_at ${text},
    stopped_at ${text},
    preroll_ms BIGINT,
    warning TEXT,
    clock_source TEXT,
    clock_offset_ms BIGINT,
    segments BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    verification TEXT NOT NULL,
    minimum_until ${text},
    delete_due ${text},
    held INTEGER NOT NULL,
    PRIMARY KEY (organisation, device, incident)
  )`,
    'CREATE INDEX IF NOT EXISTS incidents_time ON incidents (activated_at)',
  ];
}

/** One incident as the index holds it. */
export interface IncidentRow {
  organisation: string;
  device: string;
  incident: string;
  /** The closing manifest is in the bucket. */
  closed: boolean;
  activatedAt: string | null;
  stoppedAt: string | null;
  prerollMs: number | null;
  /** The warning's state from the closing manifest (`given`, `failed`, …), null before it closes. */
  warning: string | null;
  clockSource: string | null;
  clockOffsetMs: number | null;
  segments: number;
  bytes: number;
  verification: VerificationState;
  /** Latest minimum-until and delete-due over the incident's objects (ISO), null when none carries them. */
  minimumUntil: string | null;
  deleteDue: string | null;
  /** Some object of the incident is under a legal hold. */
  held: boolean;
}
