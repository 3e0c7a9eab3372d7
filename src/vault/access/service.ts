/**
 * The custody service's one door to footage: every request for access is decided by the policy (policy/decide.ts)
 * and written to the signed custody log before it is answered, grant or refusal; a prosecutor's decision and a share
 * are recorded the same way; a grant lets its holder fetch the incident's ciphertext for a while, and each view,
 * download or export is logged. The web pages and `bodycam vault access` both go through here, so they decide alike.
 * Nothing here holds a key that opens footage: what it serves is the stored age ciphertext.
 */
import { type KeyObject, randomUUID } from 'node:crypto';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { ObjectStore } from '../../store/port.ts';
import type { Account } from '../accounts/accounts.ts';
import { CustodyLogWriter } from '../custody-log.ts';
import { type CustodyAction, custodyText, type SignedCustodyRecord, type TouchedObject } from '../custody-record.ts';
import { incidentDetail } from '../index/query.ts';
import type { IncidentRow } from '../index/schema.ts';
import type { SqlClient } from '../index/sql.ts';
import { incidentVersions } from '../operations.ts';
import { DEFAULT_POLICY, type Decision, decideAccess, type Policy } from '../policy/decide.ts';
import { AccessRecords, type Grant, type IncidentRef } from './records.ts';

export interface CustodyServiceOptions {
  db: SqlClient;
  store: ObjectStore;
  /** The bucket prefix the evidence is under (as the docks were given). */
  prefix: string;
  /** Signs the custody log (Ed25519, from provisioning). */
  key: KeyObject;
  /** How long each log record is locked (COMPLIANCE), in days. */
  lockDays: number;
  now?: () => number;
  /** Per organisation; DEFAULT_POLICY for any other. */
  policies?: Readonly<Record<string, Policy>>;
  /** How long a grant lets its holder fetch the footage. */
  grantMs?: number;
  /** Who asks through this service: the web pages or the command line (written into every record). */
  via: 'web' | 'cli';
}

export const GRANT_MS = 4 * 3_600_000;

export type AccessOutcome = { decision: Decision; grant: Grant | null; row: IncidentRow | null };

type Who = Pick<Account, 'name' | 'role' | 'organisation' | 'disabled'>;

export class CustodyService {
  readonly #o: CustodyServiceOptions;
  readonly #records: AccessRecords;
  readonly #now: () => number;
  readonly #writers = new Map<string, CustodyLogWriter>();

  private constructor(o: CustodyServiceOptions, records: AccessRecords) {
    this.#o = o;
    this.#records = records;
    this.#now = o.now ?? Date.now;
  }

  static async open(o: CustodyServiceOptions): Promise<CustodyService> {
    return new CustodyService(o, await AccessRecords.open(o.db));
  }

  get records(): AccessRecords {
    return this.#records;
  }

  policyOf(organisation: string): Policy {
    return this.#o.policies?.[organisation] ?? DEFAULT_POLICY;
  }

  /** The incident's row, or null when the index does not hold it (never stored, or deleted after its retention). */
  incident(ref: IncidentRef): Promise<IncidentRow | null> {
    return incidentDetail(this.#o.db, ref.organisation, ref.device, ref.incident);
  }

  /** Decides a request, logs it (grant or refusal), and on a grant records it for `grantMs`. */
  async request(who: Who, ref: IncidentRef, reason: string, authorisation?: string): Promise<AccessOutcome> {
    const now = this.#now();
    const row = await this.incident(ref);
    const deleted = row === null || (row.deleteDue !== null && Date.parse(row.deleteDue) <= now && !row.held);
    const decision = decideAccess(
      {
        account: who,
        incident: {
          organisation: ref.organisation,
          incident: ref.incident,
          recordedMs: row?.activatedAt === null || row === null ? now : Date.parse(row.activatedAt),
          deleted,
        },
        reason,
        ...(authorisation === undefined ? {} : { authorisation }),
        now,
      },
      { authorisations: await this.#records.authorisations(ref), shares: await this.#records.shares(ref) },
      this.policyOf(ref.organisation),
    );
    if (!decision.granted) {
      await this.#log(who, ref, 'access-refuse', reason, { why: decision.why, ...authorisationDetail(authorisation) });
      return { decision, grant: null, row };
    }
    const grant: Grant = {
      id: randomUUID(),
      account: who.name,
      ref,
      basis: decision.basis,
      reference: decision.reference ?? null,
      reason,
      grantedMs: now,
      untilMs: now + (this.#o.grantMs ?? GRANT_MS),
    };
    await this.#log(who, ref, 'access-grant', reason, {
      basis: decision.basis,
      verification: row?.verification ?? 'unverified',
      grant: grant.id,
      until: new Date(grant.untilMs).toISOString(),
      ...authorisationDetail(decision.reference),
    });
    await this.#records.addGrant(grant);
    return { decision, grant, row };
  }

  /** Records a prosecutor's decision on the incident; refused (and logged) unless `who` is its organisation's prosecutor. */
  async authorise(
    who: Who,
    ref: IncidentRef,
    reference: string,
    reason: string,
    untilMs: number | null,
  ): Promise<void> {
    const ok = !who.disabled && who.role === 'prosecutor' && who.organisation === ref.organisation;
    const refText = reference.trim();
    if (!ok || refText === '') {
      const why = ok
        ? 'a decision needs its reference'
        : `only a prosecutor of ${ref.organisation} records a decision on its footage`;
      await this.#log(who, ref, 'access-refuse', reason, { why, refused: 'authorise', reference: refText });
      throw new BodycamError(ErrorCode.ACCESS_REFUSED, why);
    }
    await this.#log(who, ref, 'authorise', reason, {
      reference: refText,
      ...(untilMs === null ? {} : { until: new Date(untilMs).toISOString() }),
    });
    await this.#records.addAuthorisation(
      ref,
      { incident: ref.incident, reference: refText, recordedBy: who, untilMs },
      this.#now(),
    );
  }

  /** Shares the incident with another organisation; refused (and logged) unless the policy lets `who` share it. */
  async share(who: Who, ref: IncidentRef, withOrganisation: string, reason: string): Promise<void> {
    const policy = this.policyOf(ref.organisation);
    const ok = !who.disabled && who.organisation === ref.organisation && policy.shareRoles.includes(who.role);
    if (!ok || withOrganisation === ref.organisation || reason.trim().length < policy.minReasonChars) {
      const why = !ok
        ? `only a ${policy.shareRoles.join(', ')} of ${ref.organisation} shares its footage`
        : withOrganisation === ref.organisation
          ? 'an incident is its own organisation’s already'
          : `a share needs its reason (at least ${policy.minReasonChars} characters)`;
      await this.#log(who, ref, 'access-refuse', reason, { why, refused: 'share', with: withOrganisation });
      throw new BodycamError(ErrorCode.ACCESS_REFUSED, why);
    }
    await this.#log(who, ref, 'share', reason, { with: withOrganisation });
    await this.#records.addShare(ref, { incident: ref.incident, withOrganisation, sharedBy: who }, this.#now());
  }

  /**
   * Sets or releases the legal hold on every stored version of the incident's objects: refused (and logged) unless
   * the policy lets `who` hold its organisation's footage; recorded in the log before the store is touched, as
   * `bodycam vault hold` does, so a crash leaves a record of an unfinished hold, never a hold without a record.
   */
  async hold(who: Who, ref: IncidentRef, on: boolean, reason: string): Promise<TouchedObject[]> {
    const policy = this.policyOf(ref.organisation);
    const ok = !who.disabled && who.organisation === ref.organisation && policy.holdRoles.includes(who.role);
    const what = on ? 'hold-set' : 'hold-release';
    if (!ok || reason.trim().length < policy.minReasonChars) {
      const why = ok
        ? `a legal hold needs its reason (at least ${policy.minReasonChars} characters)`
        : `only a ${policy.holdRoles.join(' or ')} of ${ref.organisation} holds its footage`;
      await this.#log(who, ref, 'access-refuse', reason, { why, refused: what });
      throw new BodycamError(ErrorCode.ACCESS_REFUSED, why);
    }
    const root = { prefix: this.#o.prefix, organisation: ref.organisation };
    const objects = await incidentVersions(this.#o.store, root, ref.incident, ref.device);
    await this.#log(who, ref, what, reason, {}, objects);
    for (const o of objects) await this.#o.store.setLegalHold(o.key, o.versionId, on);
    await this.#o.db.run('UPDATE incidents SET held = ? WHERE organisation = ? AND device = ? AND incident = ?', [
      on ? 1 : 0,
      ref.organisation,
      ref.device,
      ref.incident,
    ]);
    return objects;
  }

  /** The account's running grant on the incident, or null. */
  liveGrant(who: Who, ref: IncidentRef): Promise<Grant | null> {
    return who.disabled ? Promise.resolve(null) : this.#records.liveGrant(who.name, ref, this.#now());
  }

  /** Logs a use of a grant: footage viewed, downloaded or exported. */
  async used(who: Who, grant: Grant, action: 'view' | 'download' | 'export', objects: TouchedObject[]): Promise<void> {
    await this.#log(who, grant.ref, action, grant.reason, { grant: grant.id }, objects);
  }

  /** A refusal that happened before any decision (no grant for a fetch, no such incident): logged all the same. */
  async refused(who: Who, ref: IncidentRef, what: string, why: string): Promise<void> {
    await this.#log(who, ref, 'access-refuse', '', { why, refused: what });
  }

  history(ref: IncidentRef): Promise<SignedCustodyRecord[]> {
    return this.#records.history(ref);
  }

  async #log(
    who: Who,
    ref: IncidentRef,
    action: CustodyAction,
    reason: string,
    detail: Record<string, string>,
    objects: TouchedObject[] = [],
  ): Promise<SignedCustodyRecord> {
    const organisation = ref.organisation;
    let writer = this.#writers.get(organisation);
    if (writer === undefined) {
      writer = new CustodyLogWriter(this.#o.store, { prefix: this.#o.prefix, organisation });
      this.#writers.set(organisation, writer);
    }
    const signed = await writer.append({
      record: {
        operator: `${who.name} (${who.role}, ${who.organisation})`,
        action,
        reason,
        incident: ref.incident,
        objects,
        detail: { device: ref.device, via: this.#o.via, ...detail },
      },
      key: this.#o.key,
      nowMs: this.#now(),
      lockDays: this.#o.lockDays,
    });
    await this.#records.mirror(organisation, signed, custodyText(signed));
    return signed;
  }
}

function authorisationDetail(reference: string | undefined): Record<string, string> {
  return reference === undefined || reference.trim() === '' ? {} : { authorisation: reference.trim() };
}
