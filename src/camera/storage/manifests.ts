import type { Database } from '../../lib/sqlite.ts';

export interface ManifestRow {
  chainSeq: number;
  kind: 'segment' | 'incident';
  incidentId: string;
  segmentSeq: number | null;
  /** Path relative to the storage directory. */
  file: string;
  hash: string;
  signedAt: string;
}

const COLS = `chain_seq AS chainSeq, kind, incident_id AS incidentId, segment_seq AS segmentSeq, file, hash,
  signed_at AS signedAt`;

/** The manifest chain's index: which manifests exist, and the head the next one links to. */
export class Manifests {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  head(): { seq: number; hash: string } | null {
    const row = this.#db.get<ManifestRow>(`SELECT ${COLS} FROM manifests ORDER BY chain_seq DESC LIMIT 1`);
    return row === undefined ? null : { seq: row.chainSeq, hash: row.hash };
  }

  add(row: ManifestRow): void {
    this.#db.run(
      'INSERT INTO manifests (chain_seq, kind, incident_id, segment_seq, file, hash, signed_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      row.chainSeq,
      row.kind,
      row.incidentId,
      row.segmentSeq,
      row.file,
      row.hash,
      row.signedAt,
    );
  }

  /** Incidents that have no closing manifest yet, oldest first. */
  incidentsOpenInChain(): string[] {
    return this.#db
      .all<{ id: string }>(
        `SELECT id FROM incidents WHERE id NOT IN (SELECT incident_id FROM manifests WHERE kind = 'incident')
         ORDER BY activated_at, id`,
      )
      .map((r) => r.id);
  }

  ofIncident(incidentId: string): ManifestRow[] {
    return this.#db.all<ManifestRow>(
      `SELECT ${COLS} FROM manifests WHERE incident_id = ? ORDER BY chain_seq`,
      incidentId,
    );
  }
}
