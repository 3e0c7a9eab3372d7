/**
 * "Safe to undock" at the dock: the camera's newest claim (counts and heads, from its inventory) against the dock's
 * last signed docking record, as a table; the claim kept in dock.sqlite; the inventory's `holding` checked.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Claim, CONNECTED_WITHIN_MS, claimOf, dockUndock } from '../../../src/dock/sync/claims.ts';
import type { LastDocking } from '../../../src/dock/sync/docking-state.ts';
import { Progress } from '../../../src/dock/sync/progress.ts';
import { checkInventory } from '../../../src/protocol/checks.ts';

const NOW = Date.parse('2026-12-05T12:00:00Z');
const h = (seq: number) => ({ seq, hash: 'a'.repeat(64) });
const claim: Claim = {
  session: 's1',
  atMs: NOW - 1000,
  recording: false,
  segments: 0,
  closings: 0,
  open: 0,
  chainSeq: 7,
  auditSeq: 20,
};
const docking: LastDocking = { record: h(3), signedAt: 'x', chain: h(7), audit: h(20), rollback: null };

describe('dockUndock', () => {
  it.each([
    ['everything at the dock, the camera heard from a second ago', claim, docking, true, 'safe to undock'],
    ['never docked', null, null, false, 'never docked here'],
    ['recording', { ...claim, recording: true }, docking, false, 'not yet: recording in progress'],
    [
      'two segments and a closing not receipted',
      { ...claim, segments: 2, closings: 1 },
      docking,
      false,
      'not yet: 3 items to hand over',
    ],
    ['an incident owing its closing manifest', { ...claim, open: 1 }, docking, false, 'not yet: 1 item to hand over'],
    ['audit lines past the signed head', { ...claim, auditSeq: 23 }, docking, false, 'not yet: 3 items to hand over'],
    ['a manifest past the signed head', { ...claim, chainSeq: 8 }, docking, false, 'not yet: 1 item to hand over'],
    ['no docking record yet', claim, null, false, 'not yet: 29 items to hand over'],
    [
      'not heard from for longer than a docked camera is silent',
      { ...claim, atMs: NOW - CONNECTED_WITHIN_MS - 1 },
      docking,
      false,
      'not docked',
    ],
    [
      'a release that does not report what it holds',
      { ...claim, recording: null, open: null },
      docking,
      false,
      "cannot tell: the camera's release does not report what it holds; check the camera itself",
    ],
  ] as const)('%s', (_name, c, d, safe, text) => {
    const r = dockUndock(c, d, NOW);
    expect([r.safe, r.text]).toEqual([safe, text]);
  });

  it('says when the camera last spoke', () => {
    expect(dockUndock(claim, docking, NOW)).toMatchObject({ since: '2026-12-05T11:59:59.000Z' });
  });
});

describe('claimOf', () => {
  const inv = { session: 's1', segments: [], incidents: [{ incident: 'i', manifest: {} }], auditHead: 20 };
  it("takes the camera's own counts when it gives them", () => {
    const holding = { recording: false, segments: 9, closings: 2, open: 1 };
    expect(claimOf('s1', NOW, { ...inv, holding, heads: { chain: h(7), audit: h(20) } }, 3)).toEqual({
      session: 's1',
      atMs: NOW,
      recording: false,
      segments: 9,
      closings: 2,
      open: 1,
      chainSeq: 7,
      auditSeq: 20,
    });
  });
  it('counts what an older camera offered, and leaves what it did not say unknown', () => {
    expect(claimOf('s1', NOW, inv, 3)).toMatchObject({
      recording: null,
      segments: 3,
      closings: 1,
      open: null,
      chainSeq: -1,
    });
  });
});

describe('claims in dock.sqlite', () => {
  it('keeps the newest claim per camera, null where an older camera said nothing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-claims-'));
    const p = Progress.open(dir);
    p.claims.record('cam', claim);
    p.claims.record('cam', { ...claim, segments: 4, recording: true });
    p.claims.record('old', { ...claim, recording: null, open: null });
    expect(p.claims.last('cam')).toEqual({ ...claim, segments: 4, recording: true });
    expect(p.claims.last('old')).toMatchObject({ recording: null, open: null });
    expect(p.claims.last('none')).toBeNull();
    p.close();
  });

  it("a chunk in the claim's session moves its last word on, never back, and never another session's", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-claims-'));
    const p = Progress.open(dir);
    p.claims.record('cam', claim);
    p.claims.heard('cam', 's1', NOW + CONNECTED_WITHIN_MS);
    expect(p.claims.last('cam')).toEqual({ ...claim, atMs: NOW + CONNECTED_WITHIN_MS });
    // A long transfer: no inventory for more than CONNECTED_WITHIN_MS, yet the camera is there.
    expect(dockUndock(p.claims.last('cam'), docking, NOW + CONNECTED_WITHIN_MS + 2000).text).toBe('safe to undock');
    p.claims.heard('cam', 's1', NOW);
    p.claims.heard('cam', 'old-session', NOW + 10 * CONNECTED_WITHIN_MS);
    expect(p.claims.last('cam')?.atMs).toBe(NOW + CONNECTED_WITHIN_MS);
    p.close();
  });
});

describe("an inventory's holding", () => {
  const base = { session: 's', segments: [], incidents: [], auditHead: 3 };
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));

  it('is taken when given, absent from an older camera', () => {
    const holding = { recording: true, segments: 2, closings: 1, open: 1 };
    expect(checkInventory(json({ ...base, holding }))).toEqual({ ok: { ...base, holding } });
    expect(checkInventory(json(base))).toEqual({ ok: base });
  });

  it.each([
    ['not an object', 'x'],
    ['recording not a boolean', { recording: 1, segments: 0, closings: 0, open: 0 }],
    ['a negative count', { recording: false, segments: -1, closings: 0, open: 0 }],
    ['a count missing', { recording: false, segments: 0, closings: 0 }],
  ])('refuses %s', (_name, holding) => {
    expect(checkInventory(json({ ...base, holding }))).toHaveProperty('error');
  });
});
