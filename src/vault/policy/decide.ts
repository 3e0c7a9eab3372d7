/**
 * Who may open an incident's footage, and why not: the access policy as one pure decision, tested as a table. The
 * default, as we read the Belgian rules (police function act arts. 25/1–25/8; directive GPI 104): a person of the
 * organisation that recorded it, in a role that works with footage, within the first 30 days of the recording, for a
 * stated reason; after that only under a prosecutor's written, reasoned decision, recorded in the vault by a person
 * with the prosecutor role and named by its reference; nothing once the footage is deleted. Another organisation sees
 * nothing unless an authorised person of the recording organisation shared that incident with it. Every decision,
 * grant or refusal, goes to the access log with its reason (the caller's duty).
 */
import type { Account, Role } from '../accounts/accounts.ts';

/** The organisation's rules; each organisation may have its own (a train operator's differ from a police zone's). */
export interface Policy {
  /** Days after the recording during which the organisation's own people need only a reason. */
  ownAccessDays: number;
  /** Roles that may open footage at all (an auditor reads the access log, not the footage). */
  footageRoles: readonly Role[];
  /** Roles that may share an incident with another organisation. */
  shareRoles: readonly Role[];
  /** Roles that may set or release a legal hold on their organisation's incident. */
  holdRoles: readonly Role[];
  /** The shortest reason accepted, in characters (a case number and a word, at least). */
  minReasonChars: number;
}

export const DEFAULT_POLICY: Policy = {
  ownAccessDays: 30,
  footageRoles: ['investigator', 'supervisor', 'custodian', 'prosecutor'],
  shareRoles: ['supervisor', 'custodian', 'prosecutor'],
  holdRoles: ['custodian', 'prosecutor'],
  minReasonChars: 10,
};

export interface IncidentFacts {
  organisation: string;
  incident: string;
  /** When it was recorded (ms), as the store's retention metadata says. */
  recordedMs: number;
  /** Deleted at expiry: nothing is left to open. */
  deleted: boolean;
}

/** A prosecutor's decision recorded in the vault for one incident. */
export interface Authorisation {
  incident: string;
  /** The decision's reference (e.g. a notice number), as the prosecutor recorded it. */
  reference: string;
  /** Who recorded it: must have been a prosecutor of the incident's organisation. */
  recordedBy: Pick<Account, 'name' | 'role' | 'organisation'>;
  /** Until when it holds (ms), if it says. */
  untilMs: number | null;
}

/** An incident shared with another organisation by a person of the recording one. */
export interface Share {
  incident: string;
  withOrganisation: string;
  sharedBy: Pick<Account, 'name' | 'role' | 'organisation'>;
}

export interface AccessRequest {
  account: Pick<Account, 'name' | 'role' | 'organisation' | 'disabled'>;
  incident: IncidentFacts;
  reason: string;
  /** The authorisation reference the person names, if any. */
  authorisation?: string;
  now: number;
}

export type Decision =
  | { granted: true; basis: 'own-organisation' | 'prosecutor-authorisation' | 'shared'; reference?: string }
  | { granted: false; why: string };

const DAY = 86_400_000;

export function decideAccess(
  r: AccessRequest,
  known: { authorisations: readonly Authorisation[]; shares: readonly Share[] },
  policy: Policy = DEFAULT_POLICY,
): Decision {
  const refuse = (why: string): Decision => ({ granted: false, why });
  const { account: a, incident: i } = r;
  if (a.disabled) return refuse('the account is disabled');
  if (i.deleted) return refuse(`incident ${i.incident} was deleted at the end of its retention: nothing is left`);
  if (!policy.footageRoles.includes(a.role)) return refuse(`the ${a.role} role does not open footage`);
  if ([...r.reason.trim()].length < policy.minReasonChars) {
    return refuse(`every access needs its reason (at least ${policy.minReasonChars} characters: what case, why)`);
  }
  const own = a.organisation === i.organisation;
  if (!own) {
    const shared = known.shares.some(
      (s) =>
        s.incident === i.incident &&
        s.withOrganisation === a.organisation &&
        s.sharedBy.organisation === i.organisation &&
        policy.shareRoles.includes(s.sharedBy.role),
    );
    if (!shared) return refuse(`incident ${i.incident} belongs to another organisation and was not shared with yours`);
  }
  const ageDays = (r.now - i.recordedMs) / DAY;
  if (ageDays < policy.ownAccessDays) return { granted: true, basis: own ? 'own-organisation' : 'shared' };
  if (r.authorisation === undefined || r.authorisation.trim() === '') {
    return refuse(
      `recorded ${Math.floor(ageDays)} days ago: after ${policy.ownAccessDays} days only under a prosecutor's decision (name its reference)`,
    );
  }
  const ref = r.authorisation.trim();
  const found = known.authorisations.find(
    (x) =>
      x.incident === i.incident &&
      x.reference === ref &&
      x.recordedBy.role === 'prosecutor' &&
      x.recordedBy.organisation === i.organisation &&
      (x.untilMs === null || r.now <= x.untilMs),
  );
  if (found === undefined) {
    return refuse(`no prosecutor's decision ${ref} for incident ${i.incident} is recorded here (or it has run out)`);
  }
  return { granted: true, basis: 'prosecutor-authorisation', reference: ref };
}
