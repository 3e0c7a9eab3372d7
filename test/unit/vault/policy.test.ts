import { describe, expect, it } from 'vitest';
import { type AccessRequest, type Authorisation, decideAccess, type Share } from '../../../src/vault/policy/decide.ts';

const DAY = 86_400_000;
const RECORDED = Date.UTC(2026, 5, 1, 10);
const investigator = { name: 'j.peeters', role: 'investigator' as const, organisation: 'pz5339', disabled: false };
const prosecutor = { name: 'p.maes', role: 'prosecutor' as const, organisation: 'pz5339' };
const incident = {
  organisation: 'pz5339',
  incident: 'cam1-20260601T100000Z-a1b2',
  recordedMs: RECORDED,
  deleted: false,
};
const reason = 'PV 2026/1234: assault at the station';
const decision: Authorisation = {
  incident: incident.incident,
  reference: 'NOT/2026/77',
  recordedBy: prosecutor,
  untilMs: null,
};

const ask = (days: number, change: Partial<AccessRequest> = {}): AccessRequest => ({
  account: investigator,
  incident,
  reason,
  now: RECORDED + days * DAY,
  ...change,
});
const none = { authorisations: [], shares: [] };

describe('the access policy', () => {
  it.each([
    ['day 0', 0],
    ['day 29', 29],
    ['the last millisecond of day 30', 30 - 1 / DAY],
  ])('grants its own organisation on %s with a reason', (_when, days) => {
    expect(decideAccess(ask(days), none)).toEqual({ granted: true, basis: 'own-organisation' });
  });

  it.each([
    ['day 30', 30],
    ['day 31', 31],
    ['month 11', 330],
  ])('refuses on %s without a prosecutor’s decision, and says what is needed', (_when, days) => {
    const d = decideAccess(ask(days), none);
    expect(d).toMatchObject({ granted: false, why: expect.stringMatching(/only under a prosecutor's decision/) });
  });

  it('grants on day 31 under a recorded prosecutor’s decision named by its reference', () => {
    const known = { authorisations: [decision], shares: [] };
    expect(decideAccess(ask(31, { authorisation: ' NOT/2026/77 ' }), known)).toEqual({
      granted: true,
      basis: 'prosecutor-authorisation',
      reference: 'NOT/2026/77',
    });
  });

  it.each([
    ['a reference not recorded', { authorisation: 'NOT/2026/78' }, [decision]],
    [
      'a decision recorded by an investigator',
      { authorisation: 'NOT/2026/77' },
      [{ ...decision, recordedBy: { ...prosecutor, role: 'investigator' as const } }],
    ],
    [
      'a prosecutor of another organisation',
      { authorisation: 'NOT/2026/77' },
      [{ ...decision, recordedBy: { ...prosecutor, organisation: 'pz5340' } }],
    ],
    ['a decision for another incident', { authorisation: 'NOT/2026/77' }, [{ ...decision, incident: 'other' }]],
    ['a decision that ran out', { authorisation: 'NOT/2026/77' }, [{ ...decision, untilMs: RECORDED + 31 * DAY - 1 }]],
  ])('refuses on day 31 with %s', (_what, change, authorisations) => {
    const d = decideAccess(ask(31, change), { authorisations, shares: [] });
    expect(d.granted).toBe(false);
  });

  it('refuses another organisation, even within 30 days, unless the incident was shared with it by a supervisor', () => {
    const other = { ...investigator, organisation: 'fedpol' };
    expect(decideAccess(ask(2, { account: other }), none)).toMatchObject({
      granted: false,
      why: expect.stringMatching(/another organisation/),
    });
    const share: Share = {
      incident: incident.incident,
      withOrganisation: 'fedpol',
      sharedBy: { ...prosecutor, role: 'supervisor' },
    };
    expect(decideAccess(ask(2, { account: other }), { authorisations: [], shares: [share] })).toEqual({
      granted: true,
      basis: 'shared',
    });
    // Shared by an investigator (not allowed to share), or by another organisation: nothing.
    const byInvestigator = { ...share, sharedBy: { ...share.sharedBy, role: 'investigator' as const } };
    const byStranger = { ...share, sharedBy: { ...share.sharedBy, organisation: 'pz5340' } };
    for (const s of [byInvestigator, byStranger]) {
      expect(decideAccess(ask(2, { account: other }), { authorisations: [], shares: [s] }).granted).toBe(false);
    }
    // Shared, after 30 days: the prosecutor's decision is still needed.
    expect(decideAccess(ask(31, { account: other }), { authorisations: [], shares: [share] }).granted).toBe(false);
  });

  it.each([
    ['no reason', { reason: '' }, /needs its reason/],
    ['a reason of one word', { reason: 'looking' }, /needs its reason/],
    ['an auditor', { account: { ...investigator, role: 'auditor' as const } }, /auditor role does not open footage/],
    ['a disabled account', { account: { ...investigator, disabled: true } }, /disabled/],
    ['a deleted incident', { incident: { ...incident, deleted: true } }, /deleted/],
  ])('refuses %s, saying why', (_what, change, why) => {
    expect(decideAccess(ask(1, change), { authorisations: [decision], shares: [] })).toMatchObject({
      granted: false,
      why: expect.stringMatching(why),
    });
  });
});
