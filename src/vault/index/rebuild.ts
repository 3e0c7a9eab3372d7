/**
 * Rebuilds the index from the bucket alone: lists every key under the prefix, groups each incident's objects
 * (organisation / device / incident from the key layout, object-keys.ts), reads its closing manifest when there is
 * one, the retention dates from each object's metadata (retention.ts) and each object's legal hold, and replaces the
 * incident's row. Idempotent: rows come only from what the bucket holds now; rows of incidents no longer listed are
 * removed. Keys that do not fit the layout are counted and named, never indexed. The rows are replaced in one
 * transaction once everything is read: a rebuild that fails leaves the previous index as it was, and a reader sees
 * the index before or after it, never half of it.
 */
import { text } from 'node:stream/consumers';
import { parseManifest } from '../../evidence/manifest.ts';
import { parseEvidenceKey } from '../../evidence/object-keys.ts';
import { RETENTION_METADATA } from '../../evidence/retention.ts';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { ObjectStore } from '../../store/port.ts';
import { CUSTODY_FOLDER } from '../custody-log.ts';
import { INDEX_SCHEMA_VERSION, type IncidentRow, indexSchema, type VerificationState } from './schema.ts';
import type { SqlClient, SqlParam } from './sql.ts';

/** Seam for the evidence verifier: the state of one incident, or `unverified` while no bucket reader exists. */
export type IncidentVerifier = (store: ObjectStore, prefix: string, row: IncidentRow) => Promise<VerificationState>;
export const NOT_YET_VERIFIED: IncidentVerifier = async () => 'unverified';

export interface RebuildReport {
  incidents: number;
  unexpected: Array<{ key: string; reason: string }>;
}

interface Gathered {
  organisation: string;
  device: string;
  incident: string;
  keys: string[];
  closing: string | null;
  segments: number;
  bytes: number;
}

export async function ensureSchema(db: SqlClient): Promise<void> {
  for (const sql of indexSchema(db.dialect)) await db.run(sql);
  // Two first opens at once both insert: the second leaves the first's row.
  await db.run("INSERT INTO index_meta (key, value) VALUES ('schema', ?) ON CONFLICT (key) DO NOTHING", [
    String(INDEX_SCHEMA_VERSION),
  ]);
  const rows = await db.all<{ value: string }>("SELECT value FROM index_meta WHERE key = 'schema'");
  const found = rows[0]?.value;
  if (found !== String(INDEX_SCHEMA_VERSION))
    throw new BodycamError(
      ErrorCode.STORAGE_INDEX,
      `the vault index has schema ${found}, this version reads ${INDEX_SCHEMA_VERSION}: rebuild it into a new database`,
    );
}

async function gather(store: ObjectStore, prefix: string, report: RebuildReport): Promise<Map<string, Gathered>> {
  const base = prefix === '' ? '' : `${prefix}/`;
  const found = new Map<string, Gathered>();
  for await (const entry of store.list(base)) {
    const organisation = entry.key.slice(base.length).split('/')[0] ?? '';
    if (organisation === CUSTODY_FOLDER) continue; // the custody log, not evidence
    const key = parseEvidenceKey({ prefix, organisation }, entry.key);
    if (key.kind === 'unexpected') {
      report.unexpected.push({ key: key.key, reason: key.reason });
      continue;
    }
    if (key.kind !== 'segment' && key.kind !== 'manifest' && key.kind !== 'closing') continue;
    const id = JSON.stringify([organisation, key.device, key.incident]);
    let g = found.get(id);
    if (g === undefined) {
      g = { organisation, device: key.device, incident: key.incident, keys: [], closing: null, segments: 0, bytes: 0 };
      found.set(id, g);
    }
    g.keys.push(entry.key);
    if (key.kind === 'closing') g.closing = entry.key;
    if (key.kind === 'segment') {
      g.segments += 1;
      g.bytes += entry.size;
    }
  }
  return found;
}

async function facts(store: ObjectStore, g: Gathered, report: RebuildReport): Promise<IncidentRow> {
  const row: IncidentRow = {
    organisation: g.organisation,
    device: g.device,
    incident: g.incident,
    closed: g.closing !== null,
    activatedAt: null,
    stoppedAt: null,
    prerollMs: null,
    warning: null,
    clockSource: null,
    clockOffsetMs: null,
    segments: g.segments,
    bytes: g.bytes,
    verification: 'unverified',
    minimumUntil: null,
    deleteDue: null,
    held: false,
  };
  if (g.closing !== null) {
    const closing = g.closing;
    const p = await readClosing(store, closing).catch((e: unknown) => {
      report.unexpected.push({ key: closing, reason: e instanceof Error ? e.message : String(e) });
      return null;
    });
    if (p === null || p.kind !== 'incident' || p.incident !== g.incident || p.device !== g.device) {
      if (p !== null) report.unexpected.push({ key: closing, reason: 'a closing manifest of another incident' });
      row.verification = 'failed';
    } else {
      row.activatedAt = p.activatedAt;
      row.stoppedAt = p.stoppedAt;
      row.prerollMs = p.preroll?.actualMs ?? null;
      row.warning = p.warning.state;
      row.clockSource = p.clock.source;
      row.clockOffsetMs = p.clock.offsetMs;
    }
  }
  for (const key of g.keys) {
    const head = await store.head(key);
    if (head === null) continue;
    const min = head.metadata[RETENTION_METADATA.minimumUntil];
    const due = head.metadata[RETENTION_METADATA.deleteDue];
    if (min !== undefined && (row.minimumUntil === null || min > row.minimumUntil)) row.minimumUntil = min;
    if (due !== undefined && (row.deleteDue === null || due > row.deleteDue)) row.deleteDue = due;
    if (!row.held && (await store.legalHold(key, head.versionId))) row.held = true;
  }
  return row;
}

async function readClosing(store: ObjectStore, key: string) {
  return parseManifest(await text(await store.get(key))).payload;
}

const COLUMNS =
  'organisation, device, incident, closed, activated_at, stopped_at, preroll_ms, warning, clock_source, clock_offset_ms, segments, bytes, verification, minimum_until, delete_due, held';

const INSERT = `INSERT INTO incidents (${COLUMNS}) VALUES (${COLUMNS.split(',')
  .map(() => '?')
  .join(', ')})`;

function rowParams(r: IncidentRow): SqlParam[] {
  return [
    r.organisation,
    r.device,
    r.incident,
    r.closed ? 1 : 0,
    r.activatedAt,
    r.stoppedAt,
    r.prerollMs,
    r.warning,
    r.clockSource,
    r.clockOffsetMs,
    r.segments,
    r.bytes,
    r.verification,
    r.minimumUntil,
    r.deleteDue,
    r.held ? 1 : 0,
  ];
}

export async function rebuild(
  store: ObjectStore,
  db: SqlClient,
  prefix: string,
  verify: IncidentVerifier = NOT_YET_VERIFIED,
): Promise<RebuildReport> {
  await ensureSchema(db);
  const report: RebuildReport = { incidents: 0, unexpected: [] };
  const found = await gather(store, prefix, report);
  const rows: IncidentRow[] = [];
  for (const g of found.values()) {
    const row = await facts(store, g, report);
    if (row.verification !== 'failed') row.verification = await verify(store, prefix, row);
    rows.push(row);
  }
  await db.transaction(async (tx) => {
    await tx.run('DELETE FROM incidents');
    for (const r of rows) await tx.run(INSERT, rowParams(r));
  });
  report.incidents = rows.length;
  return report;
}
