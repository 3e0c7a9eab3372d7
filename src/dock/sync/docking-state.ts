/**
 * What the dock knows for its docking records (src/evidence/docking.ts), in `dock.sqlite`: every manifest of each
 * camera's chain it holds verified (chainSeq and hash), the last record it signed for each camera, the heads that
 * record vouches for, and whether the camera last seen no longer extends them (a card rolled back or replaced).
 */
import type { ChainHead } from '../../evidence/envelope.ts';
import type { Migration } from '../../lib/migration.ts';
import type { Database } from '../../lib/sqlite.ts';

export const DOCKING_MIGRATION: Migration = {
  version: 2,
  name: 'manifests held, docking records, rollbacks',
  up(db) {
    db.exec(`
      CREATE TABLE manifests (
        device TEXT NOT NULL, chain_seq INTEGER NOT NULL, hash TEXT NOT NULL,
        PRIMARY KEY (device, chain_seq)
      );
      INSERT OR IGNORE INTO manifests (device, chain_seq, hash)
        SELECT device, chain_seq, manifest_hash FROM transfers
        WHERE state = 'stored' AND chain_seq IS NOT NULL AND manifest_hash IS NOT NULL;
      CREATE TABLE dockings (
        device TEXT PRIMARY KEY,
        record_seq INTEGER NOT NULL, record_hash TEXT NOT NULL, signed_at TEXT NOT NULL,
        chain_seq INTEGER, chain_hash TEXT, audit_seq INTEGER, audit_hash TEXT,
        rollback TEXT
      );
    `);
  },
};

/** The last record signed for a camera: its own head in the dock's chain of records, and what it vouches for. */
export interface LastDocking {
  record: ChainHead;
  signedAt: string;
  chain: ChainHead | null;
  audit: ChainHead | null;
  /** Why the camera last seen no longer extends it, or null. */
  rollback: string | null;
}

interface Row {
  recordSeq: number;
  recordHash: string;
  signedAt: string;
  chainSeq: number | null;
  chainHash: string | null;
  auditSeq: number | null;
  auditHash: string | null;
  rollback: string | null;
}

const head = (seq: number | null, hash: string | null): ChainHead | null =>
  seq === null || hash === null ? null : { seq, hash };

export class DockingState {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** A manifest of `device`'s chain is now held (stored and verified). */
  held(device: string, chainSeq: number, hash: string): void {
    this.#db.run('INSERT OR IGNORE INTO manifests (device, chain_seq, hash) VALUES (?, ?, ?)', device, chainSeq, hash);
  }

  /** The hash of the manifest held at `chainSeq`, if any. */
  heldAt(device: string, chainSeq: number): string | undefined {
    return this.#db.get<{ h: string }>(
      'SELECT hash AS h FROM manifests WHERE device = ? AND chain_seq = ?',
      device,
      chainSeq,
    )?.h;
  }

  /** The highest chainSeq held, or -1. */
  highestHeld(device: string): number {
    return (
      this.#db.get<{ n: number | null }>('SELECT max(chain_seq) AS n FROM manifests WHERE device = ?', device)?.n ?? -1
    );
  }

  /** The highest chainSeq with every manifest 0…it held, from `from` (a head known to be contiguous), and its hash. */
  contiguousHead(device: string, from: ChainHead | null): ChainHead | null {
    let at = from;
    const rows = this.#db.all<{ seq: number; hash: string }>(
      'SELECT chain_seq AS seq, hash FROM manifests WHERE device = ? AND chain_seq > ? ORDER BY chain_seq',
      device,
      from?.seq ?? -1,
    );
    for (const r of rows) {
      if (r.seq !== (at?.seq ?? -1) + 1) break;
      at = { seq: r.seq, hash: r.hash };
    }
    return at;
  }

  last(device: string): LastDocking | null {
    const r = this.#db.get<Row>(
      `SELECT record_seq AS recordSeq, record_hash AS recordHash, signed_at AS signedAt, chain_seq AS chainSeq,
         chain_hash AS chainHash, audit_seq AS auditSeq, audit_hash AS auditHash, rollback
       FROM dockings WHERE device = ?`,
      device,
    );
    if (r === undefined) return null;
    return {
      record: { seq: r.recordSeq, hash: r.recordHash },
      signedAt: r.signedAt,
      chain: head(r.chainSeq, r.chainHash),
      audit: head(r.auditSeq, r.auditHash),
      rollback: r.rollback,
    };
  }

  /** Records that `record` was signed (and written to the store) for `device`. */
  signed(device: string, d: Omit<LastDocking, 'rollback'>): void {
    this.#db.run(
      `INSERT INTO dockings (device, record_seq, record_hash, signed_at, chain_seq, chain_hash, audit_seq, audit_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(device) DO UPDATE SET record_seq = excluded.record_seq, record_hash = excluded.record_hash,
         signed_at = excluded.signed_at, chain_seq = excluded.chain_seq, chain_hash = excluded.chain_hash,
         audit_seq = excluded.audit_seq, audit_hash = excluded.audit_hash`,
      device,
      d.record.seq,
      d.record.hash,
      d.signedAt,
      d.chain?.seq ?? null,
      d.chain?.hash ?? null,
      d.audit?.seq ?? null,
      d.audit?.hash ?? null,
    );
  }

  /** Notes (or clears, with null) that the camera no longer extends what was recorded. */
  setRollback(device: string, why: string | null): void {
    this.#db.run('UPDATE dockings SET rollback = ? WHERE device = ?', why, device);
  }
}
