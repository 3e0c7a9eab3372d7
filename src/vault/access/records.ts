/**
 * What the custody service keeps beside the incident index, in the same database (either driver) and never touched
 * by its rebuild: prosecutors' decisions and shares as recorded (the policy's inputs), the grants the policy gave (what
 * a session may fetch, until when), and a mirror of the custody log's records per incident (an incident's page shows
 * its access history without reading the whole log from the store). Every row here was first written to the signed
 * log in the store, which stays the record: the mirror is for reading, `bodycam vault log` and `verify` check the log.
 */
import type { SignedCustodyRecord } from '../custody-record.ts';
import type { SqlClient, SqlParam } from '../index/sql.ts';
import type { Authorisation, Share } from '../policy/decide.ts';

/** One incident: the index's key. */
export interface IncidentRef {
  organisation: string;
  device: string;
  incident: string;
}

export interface Grant {
  id: string;
  account: string;
  ref: IncidentRef;
  basis: string;
  reference: string | null;
  reason: string;
  grantedMs: number;
  untilMs: number;
}

export function accessSchema(dialect: SqlClient['dialect']): readonly string[] {
  const text = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  const ref = `organisation ${text} NOT NULL, device ${text} NOT NULL, incident ${text} NOT NULL`;
  return [
    `CREATE TABLE IF NOT EXISTS authorisations (${ref}, reference ${text} NOT NULL, recorded_by ${text} NOT NULL,
    recorder_role TEXT NOT NULL, recorder_org ${text} NOT NULL, until_ms BIGINT, at_ms BIGINT NOT NULL,
    PRIMARY KEY (organisation, device, incident, reference))`,
    `CREATE TABLE IF NOT EXISTS shares (${ref}, with_org ${text} NOT NULL, shared_by ${text} NOT NULL,
    sharer_role TEXT NOT NULL, sharer_org ${text} NOT NULL, at_ms BIGINT NOT NULL,
    PRIMARY KEY (organisation, device, incident, with_org))`,
    `CREATE TABLE IF NOT EXISTS grants (id ${text} PRIMARY KEY, account ${text} NOT NULL, ${ref}, basis TEXT NOT NULL,
    reference TEXT, reason TEXT NOT NULL, granted_ms BIGINT NOT NULL, until_ms BIGINT NOT NULL)`,
    'CREATE INDEX IF NOT EXISTS grants_of ON grants (account, organisation, device, incident)',
    `CREATE TABLE IF NOT EXISTS custody_mirror (organisation ${text} NOT NULL, seq BIGINT NOT NULL, device ${text} NOT NULL,
    incident ${text} NOT NULL, record TEXT NOT NULL, PRIMARY KEY (organisation, seq))`,
    'CREATE INDEX IF NOT EXISTS custody_mirror_of ON custody_mirror (organisation, device, incident)',
  ];
}

const refParams = (r: IncidentRef): SqlParam[] => [r.organisation, r.device, r.incident];
const REF_WHERE = 'organisation = ? AND device = ? AND incident = ?';

export class AccessRecords {
  readonly #db: SqlClient;

  private constructor(db: SqlClient) {
    this.#db = db;
  }

  static async open(db: SqlClient): Promise<AccessRecords> {
    for (const sql of accessSchema(db.dialect)) await db.run(sql);
    return new AccessRecords(db);
  }

  async authorisations(ref: IncidentRef): Promise<Authorisation[]> {
    const rows = await this.#db.all<{
      reference: string;
      recorded_by: string;
      recorder_role: string;
      recorder_org: string;
      until_ms: number | string | null;
    }>(`SELECT * FROM authorisations WHERE ${REF_WHERE}`, refParams(ref));
    return rows.map((r) => ({
      incident: ref.incident,
      reference: r.reference,
      recordedBy: { name: r.recorded_by, role: r.recorder_role as never, organisation: r.recorder_org },
      untilMs: r.until_ms === null ? null : Number(r.until_ms),
    }));
  }

  async addAuthorisation(ref: IncidentRef, a: Authorisation, atMs: number): Promise<void> {
    await this.#db.run(
      `INSERT INTO authorisations (organisation, device, incident, reference, recorded_by, recorder_role, recorder_org,
      until_ms, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (organisation, device, incident, reference)
      DO UPDATE SET until_ms = excluded.until_ms, recorded_by = excluded.recorded_by, at_ms = excluded.at_ms`,
      [
        ...refParams(ref),
        a.reference,
        a.recordedBy.name,
        a.recordedBy.role,
        a.recordedBy.organisation,
        a.untilMs,
        atMs,
      ],
    );
  }

  async shares(ref: IncidentRef): Promise<Share[]> {
    const rows = await this.#db.all<{ with_org: string; shared_by: string; sharer_role: string; sharer_org: string }>(
      `SELECT * FROM shares WHERE ${REF_WHERE}`,
      refParams(ref),
    );
    return rows.map((r) => ({
      incident: ref.incident,
      withOrganisation: r.with_org,
      sharedBy: { name: r.shared_by, role: r.sharer_role as never, organisation: r.sharer_org },
    }));
  }

  async addShare(ref: IncidentRef, s: Share, atMs: number): Promise<void> {
    await this.#db.run(
      `INSERT INTO shares (organisation, device, incident, with_org, shared_by, sharer_role, sharer_org, at_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (organisation, device, incident, with_org) DO NOTHING`,
      [...refParams(ref), s.withOrganisation, s.sharedBy.name, s.sharedBy.role, s.sharedBy.organisation, atMs],
    );
  }

  /** Incidents shared with `organisation`. */
  async sharedWith(organisation: string): Promise<IncidentRef[]> {
    return this.#db.all<IncidentRef>('SELECT organisation, device, incident FROM shares WHERE with_org = ?', [
      organisation,
    ]);
  }

  async addGrant(g: Grant): Promise<void> {
    await this.#db.run(
      `INSERT INTO grants (id, account, organisation, device, incident, basis, reference, reason, granted_ms, until_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [g.id, g.account, ...refParams(g.ref), g.basis, g.reference, g.reason, g.grantedMs, g.untilMs],
    );
  }

  /** The account's newest grant on the incident still running at `nowMs`. */
  async liveGrant(account: string, ref: IncidentRef, nowMs: number): Promise<Grant | null> {
    const rows = await this.#db.all<{
      id: string;
      basis: string;
      reference: string | null;
      reason: string;
      granted_ms: number | string;
      until_ms: number | string;
    }>(
      `SELECT * FROM grants WHERE account = ? AND ${REF_WHERE} AND granted_ms <= ? AND until_ms > ?
      ORDER BY granted_ms DESC`,
      [account, ...refParams(ref), nowMs, nowMs],
    );
    const r = rows[0];
    if (r === undefined) return null;
    return {
      id: r.id,
      account,
      ref,
      basis: r.basis,
      reference: r.reference,
      reason: r.reason,
      grantedMs: Number(r.granted_ms),
      untilMs: Number(r.until_ms),
    };
  }

  async mirror(organisation: string, signed: SignedCustodyRecord, text: string): Promise<void> {
    const r = signed.record;
    await this.#db.run(
      `INSERT INTO custody_mirror (organisation, seq, device, incident, record) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (organisation, seq) DO NOTHING`,
      [organisation, r.seq, r.detail?.['device'] ?? '', r.incident, text],
    );
  }

  /** The incident's records as mirrored (its own, and those of its id on no device named), oldest first. */
  async history(ref: IncidentRef): Promise<SignedCustodyRecord[]> {
    const rows = await this.#db.all<{ record: string }>(
      // A hold set from the command line without --device speaks of the incident on every device.
      "SELECT record FROM custody_mirror WHERE organisation = ? AND device IN (?, '') AND incident = ? ORDER BY seq",
      refParams(ref),
    );
    return rows.map((r) => JSON.parse(r.record) as SignedCustodyRecord);
  }
}
