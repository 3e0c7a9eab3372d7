/**
 * The vault's index of incidents: one row per incident found in the bucket, built from its manifests and object
 * metadata alone (`rebuild`), so it can be dropped and rebuilt from the bucket at any time. Plain SQL that SQLite and
 * PostgreSQL both run: TEXT and BIGINT columns, `?` placeholders (the client numbers them for PostgreSQL).
 */
export const INDEX_SCHEMA_VERSION = 1;

/** Verification state: `unverified` until the evidence verifier can read a bucket per incident. */
export type VerificationState = 'verified' | 'failed' | 'unverified';

export const INDEX_SCHEMA: readonly string[] = [
  'CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
  `CREATE TABLE IF NOT EXISTS incidents (
    organisation TEXT NOT NULL,
    device TEXT NOT NULL,
    incident TEXT NOT NULL,
    closed INTEGER NOT NULL,
    activated_at TEXT,
    stopped_at TEXT,
    preroll_ms BIGINT,
    warning TEXT,
    clock_source TEXT,
    clock_offset_ms BIGINT,
    segments BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    verification TEXT NOT NULL,
    minimum_until TEXT,
    delete_due TEXT,
    held INTEGER NOT NULL,
    PRIMARY KEY (organisation, device, incident)
  )`,
  'CREATE INDEX IF NOT EXISTS incidents_time ON incidents (activated_at)',
];

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
