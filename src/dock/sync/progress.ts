/**
 * The dock's progress (`dock.sqlite`): for every camera and segment how many bytes are durably received, what was
 * stored or refused and why, every camera's manifest chain head and audit head. MQTT carries nothing the dock
 * cannot ask for again from here, so a broker restart or a camera taken out mid-transfer resumes, never restarts.
 */
import path from 'node:path';
import type { Migration } from '../../lib/migration.ts';
import { Database } from '../../lib/sqlite.ts';
import { BACKLOG_MIGRATION, Backlog } from '../store/backlog.ts';
import { CLAIMS_MIGRATION, Claims } from './claims.ts';
import { DOCKING_MIGRATION, DockingState } from './docking-state.ts';

export const DOCK_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'transfers, incidents, devices',
    up(db) {
      db.exec(`
        CREATE TABLE transfers (
          device TEXT NOT NULL, incident TEXT NOT NULL, seq INTEGER NOT NULL,
          file TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
          chain_seq INTEGER, manifest_hash TEXT,
          received INTEGER NOT NULL DEFAULT 0,
          received_total INTEGER NOT NULL DEFAULT 0,
          state TEXT NOT NULL CHECK (state IN ('receiving', 'stored', 'refused')),
          reason TEXT, updated_at TEXT NOT NULL,
          PRIMARY KEY (device, incident, seq)
        );
        CREATE TABLE incidents (
          device TEXT NOT NULL, incident TEXT NOT NULL, closing_hash TEXT NOT NULL, stored_at TEXT NOT NULL,
          PRIMARY KEY (device, incident)
        );
        CREATE TABLE devices (
          device TEXT PRIMARY KEY, last_seen TEXT, audit_seq INTEGER NOT NULL DEFAULT -1, audit_hash TEXT
        );
      `);
    },
  },
  DOCKING_MIGRATION,
  CLAIMS_MIGRATION,
  BACKLOG_MIGRATION,
];

/** Refusals kept per camera in `transfers` (the newest); the log keeps every one. */
export const REFUSALS_KEPT = 1000;

export interface TransferRow {
  device: string;
  incident: string;
  seq: number;
  file: string;
  bytes: number;
  sha256: string;
  chainSeq: number | null;
  manifestHash: string | null;
  received: number;
  receivedTotal: number;
  state: 'receiving' | 'stored' | 'refused';
  reason: string | null;
  updatedAt: string;
}

const COLS = `device, incident, seq, file, bytes, sha256, chain_seq AS chainSeq, manifest_hash AS manifestHash, received,
  received_total AS receivedTotal, state, reason, updated_at AS updatedAt`;

export class Progress {
  readonly #db: Database;
  /** Manifests held, docking records signed, rollbacks seen (docking-state.ts). */
  readonly dockings: DockingState;
  /** What each camera last said it holds (claims.ts). */
  readonly claims: Claims;
  /** What waits at the dock for the object store (../store/backlog.ts). */
  readonly backlog: Backlog;

  readonly #wallNow: () => number;

  private constructor(db: Database, wallNow: () => number) {
    this.#db = db;
    this.#wallNow = wallNow;
    this.dockings = new DockingState(db);
    this.claims = new Claims(db);
    this.backlog = new Backlog(db);
  }

  /** `wallNow`: the dock's wall clock (its Clock port), for the times it records; default Date.now. */
  static open(dockDir: string, options: { readonly?: boolean; wallNow?: () => number } = {}): Progress {
    return new Progress(
      Database.open(path.join(dockDir, 'dock.sqlite'), {
        migrations: DOCK_MIGRATIONS,
        readonly: options.readonly === true,
      }),
      options.wallNow ?? Date.now,
    );
  }

  #stamp(): string {
    return new Date(this.#wallNow()).toISOString();
  }

  close(): void {
    this.#db.close();
  }

  transfer(device: string, incident: string, seq: number): TransferRow | undefined {
    return this.#db.get<TransferRow>(
      `SELECT ${COLS} FROM transfers WHERE device = ? AND incident = ? AND seq = ?`,
      device,
      incident,
      seq,
    );
  }

  /**
   * Starts (or restarts, for a changed file, or `again` for one the store no longer holds as it should) a transfer;
   * returns the row to resume from.
   */
  begin(
    t: Pick<TransferRow, 'device' | 'incident' | 'seq' | 'file' | 'bytes' | 'sha256' | 'chainSeq' | 'manifestHash'>,
    again = false,
  ): TransferRow {
    const now = this.#stamp();
    const had = this.transfer(t.device, t.incident, t.seq);
    if (again || had === undefined || had.sha256 !== t.sha256 || had.state === 'refused') {
      this.#db.run(
        `INSERT OR REPLACE INTO transfers (device, incident, seq, file, bytes, sha256, chain_seq, manifest_hash, received,
           received_total, state, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'receiving', NULL, ?)`,
        t.device,
        t.incident,
        t.seq,
        t.file,
        t.bytes,
        t.sha256,
        t.chainSeq,
        t.manifestHash,
        had?.receivedTotal ?? 0,
        now,
      );
    }
    return this.transfer(t.device, t.incident, t.seq) as TransferRow;
  }

  /** Bytes now durably in the incoming file (after its fdatasync), and all bytes received so far (resent too). */
  received(device: string, incident: string, seq: number, received: number, receivedTotal: number): void {
    this.#db.run(
      'UPDATE transfers SET received = ?, received_total = ?, updated_at = ? WHERE device = ? AND incident = ? AND seq = ?',
      received,
      receivedTotal,
      this.#stamp(),
      device,
      incident,
      seq,
    );
  }

  finish(device: string, incident: string, seq: number, state: 'stored' | 'refused', reason: string | null): void {
    this.#db.run(
      'UPDATE transfers SET state = ?, reason = ?, updated_at = ? WHERE device = ? AND incident = ? AND seq = ?',
      state,
      reason,
      this.#stamp(),
      device,
      incident,
      seq,
    );
  }

  /**
   * Records refused offers in one transaction (one commit, however many). A segment the dock has stored stays
   * stored: a later offer under its name refused does not hide it. At most `keep` refusals are kept per camera,
   * the newest, so a camera cannot grow the database by offering garbage under ever new names.
   */
  refuseAll(
    device: string,
    rows: ReadonlyArray<Pick<TransferRow, 'incident' | 'seq' | 'file' | 'bytes' | 'sha256'> & { reason: string }>,
    keep = REFUSALS_KEPT,
  ): void {
    if (rows.length === 0) return;
    const now = this.#stamp();
    this.#db.transaction(() => {
      for (const r of rows) {
        this.#db.run(
          `INSERT INTO transfers (device, incident, seq, file, bytes, sha256, state, reason, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, 'refused', ?, ?)
           ON CONFLICT (device, incident, seq) DO UPDATE SET state = 'refused', reason = excluded.reason,
             updated_at = excluded.updated_at WHERE transfers.state != 'stored'`,
          device,
          r.incident,
          r.seq,
          r.file,
          r.bytes,
          r.sha256,
          r.reason,
          now,
        );
      }
      this.#db.run(
        `DELETE FROM transfers WHERE device = ? AND state = 'refused' AND rowid NOT IN
           (SELECT rowid FROM transfers WHERE device = ? AND state = 'refused' ORDER BY updated_at DESC, rowid DESC LIMIT ?)`,
        device,
        device,
        keep,
      );
    });
  }

  /** Bytes of this camera's footage the dock has stored. */
  storedBytes(device: string): number {
    return (
      this.#db.get<{ n: number }>(
        `SELECT coalesce(sum(bytes), 0) AS n FROM transfers WHERE device = ? AND state = 'stored'`,
        device,
      )?.n ?? 0
    );
  }

  storedByChainSeq(device: string, chainSeq: number): TransferRow | undefined {
    return this.#db.get<TransferRow>(
      `SELECT ${COLS} FROM transfers WHERE device = ? AND chain_seq = ? AND state = 'stored'`,
      device,
      chainSeq,
    );
  }

  incidentStored(device: string, incident: string): string | undefined {
    return this.#db.get<{ h: string }>(
      'SELECT closing_hash AS h FROM incidents WHERE device = ? AND incident = ?',
      device,
      incident,
    )?.h;
  }

  storeIncident(device: string, incident: string, closingHash: string): void {
    this.#db.run(
      'INSERT OR REPLACE INTO incidents (device, incident, closing_hash, stored_at) VALUES (?, ?, ?, ?)',
      device,
      incident,
      closingHash,
      this.#stamp(),
    );
  }

  seen(device: string): void {
    this.#db.run(
      'INSERT INTO devices (device, last_seen) VALUES (?, ?) ON CONFLICT(device) DO UPDATE SET last_seen = excluded.last_seen',
      device,
      this.#stamp(),
    );
  }

  auditHead(device: string): { seq: number; hash: string | null } {
    const r = this.#db.get<{ seq: number; hash: string | null }>(
      'SELECT audit_seq AS seq, audit_hash AS hash FROM devices WHERE device = ?',
      device,
    );
    return r ?? { seq: -1, hash: null };
  }

  setAuditHead(device: string, seq: number, hash: string): void {
    this.#db.run('UPDATE devices SET audit_seq = ?, audit_hash = ? WHERE device = ?', seq, hash, device);
  }

  /** Transfers under way or cut off (state `receiving`), per camera, oldest first: what the dock's page shows moving. */
  receiving(): Array<Pick<TransferRow, 'device' | 'incident' | 'file' | 'bytes' | 'received' | 'updatedAt'>> {
    return this.#db.all(
      `SELECT device, incident, file, bytes, received, updated_at AS updatedAt FROM transfers
       WHERE state = 'receiving' ORDER BY device, updated_at`,
    );
  }

  /** The incidents held per camera: segments stored and their bytes, and whether the closing manifest is in. */
  incidentsHeld(): Array<{ device: string; incident: string; segments: number; bytes: number; closed: boolean }> {
    return this.#db
      .all<{ device: string; incident: string; segments: number; bytes: number; closed: number }>(
        `SELECT t.device, t.incident, count(*) AS segments, sum(t.bytes) AS bytes,
           EXISTS (SELECT 1 FROM incidents i WHERE i.device = t.device AND i.incident = t.incident) AS closed
         FROM transfers t WHERE t.state = 'stored' GROUP BY t.device, t.incident ORDER BY t.device, t.incident`,
      )
      .map((r) => ({ ...r, closed: r.closed === 1 }));
  }

  /** Per-camera totals for `bodycam dock status`. */
  summary(): Array<{
    device: string;
    lastSeen: string | null;
    stored: number;
    storedBytes: number;
    receiving: number;
    refused: number;
    receivedTotal: number;
    auditSeq: number;
    incidents: number;
    refusals: Array<{ incident: string; seq: number; reason: string | null }>;
  }> {
    const devices = this.#db.all<{ device: string; lastSeen: string | null; auditSeq: number }>(
      'SELECT device, last_seen AS lastSeen, audit_seq AS auditSeq FROM devices ORDER BY device',
    );
    return devices.map((d) => {
      const rows = this.#db.all<TransferRow>(`SELECT ${COLS} FROM transfers WHERE device = ?`, d.device);
      const stored = rows.filter((r) => r.state === 'stored');
      return {
        ...d,
        stored: stored.length,
        storedBytes: stored.reduce((n, r) => n + r.bytes, 0),
        receiving: rows.filter((r) => r.state === 'receiving').length,
        refused: rows.filter((r) => r.state === 'refused').length,
        receivedTotal: rows.reduce((n, r) => n + r.receivedTotal, 0),
        incidents:
          this.#db.get<{ n: number }>('SELECT count(*) AS n FROM incidents WHERE device = ?', d.device)?.n ?? 0,
        refusals: rows
          .filter((r) => r.state === 'refused')
          .map((r) => ({ incident: r.incident, seq: r.seq, reason: r.reason })),
      };
    });
  }
}
