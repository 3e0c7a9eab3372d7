/**
 * The dock's docking records: what it holds of a camera's chain (the contiguous head), a record signed only when
 * that changed and chained to the last one in the store, and a camera whose own heads no longer extend it reported.
 * Also the offer checks that keep one camera out of another's incidents.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dockings, rollbackOf } from '../../../src/dock/sync/dockings.ts';
import { FilesystemEvidenceStore } from '../../../src/dock/sync/evidence-store.ts';
import { Progress } from '../../../src/dock/sync/progress.ts';
import { checkSegmentOffer } from '../../../src/dock/sync/verify-offer.ts';
import { dockingHead, parseDockingLine } from '../../../src/evidence/docking.ts';
import { verifySignature } from '../../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import { DOCKINGS_LOG } from '../../../src/evidence/paths.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { checkInventory } from '../../../src/protocol/checks.ts';
import { DeviceBuilder, removeTempDirs, tempDir } from '../evidence/builder.ts';

afterAll(removeTempDirs);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const h = (seq: number, c = 'a') => ({ seq, hash: c.repeat(64) });

describe('rollbackOf', () => {
  const held = { chainTop: 6, chainAt: (seq: number) => (seq === 6 ? 'a'.repeat(64) : undefined), audit: h(12) };
  it.each<[string, Parameters<typeof rollbackOf>[0], RegExp | null]>([
    ['the same heads', { chain: h(6), audit: h(12) }, null],
    ['heads that extend it', { chain: h(9, 'b'), audit: h(20, 'c') }, null],
    [
      'a chain cut back',
      { chain: h(4, 'b'), audit: h(20) },
      /chain ends at 4, but the dock holds manifests up to chainSeq 6/,
    ],
    ['an empty chain', { chain: null, audit: h(20) }, /chain ends at nothing/],
    ['another manifest at the head', { chain: h(6, 'd'), audit: h(20) }, /chainSeq 6 is not the one the dock holds/],
    [
      'an audit log cut back',
      { chain: h(6), audit: h(11) },
      /audit log ends at entry 11, but the dock holds entries up to 12/,
    ],
    ['another audit entry at the head', { chain: h(6), audit: h(12, 'e') }, /audit entry 12 is not the one/],
  ])('%s', (_what, camera, expected) => {
    const why = rollbackOf(camera, held);
    if (expected === null) expect(why).toBeNull();
    else expect(why).toMatch(expected);
  });
});

describe('Dockings', () => {
  function setup() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-dockings-'));
    dirs.push(dir);
    const progress = Progress.open(dir);
    const store = new FilesystemEvidenceStore(path.join(dir, 'evidence'));
    const keys = generateDeviceKeys();
    const publicKey = loadPublicKey(keys.publicPem);
    const dock = { privateKey: loadPrivateKey(keys.privatePem), keyId: keyId(publicKey) };
    let now = Date.parse('2026-03-01T12:00:00.000Z');
    const dockings = new Dockings({ progress, store, dock, logger: silentLogger(), now: () => (now += 1000) });
    const records = () =>
      readFileSync(path.join(dir, 'evidence', 'cam-1', DOCKINGS_LOG), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => {
          const p = parseDockingLine(l);
          if ('reason' in p) throw new Error(p.reason);
          return p.envelope;
        });
    return { progress, dockings, publicKey, records };
  }

  it('signs what it holds contiguously, only when it changed, chained to the last record in the store', async () => {
    const { progress, dockings, publicKey, records } = setup();
    expect(await dockings.settle('cam-1')).toBeNull(); // nothing held yet
    for (const seq of [0, 1, 3]) progress.dockings.held('cam-1', seq, String(seq).repeat(64));
    progress.seen('cam-1');
    progress.setAuditHead('cam-1', 7, '7'.repeat(64));
    const first = await dockings.settle('cam-1');
    expect(first?.payload).toMatchObject({
      seq: 0,
      prev: null,
      chain: { seq: 1, hash: '1'.repeat(64) },
      audit: { seq: 7 },
    });
    expect(await dockings.settle('cam-1')).toBeNull();
    progress.dockings.held('cam-1', 2, '2'.repeat(64));
    const second = await dockings.settle('cam-1');
    expect(second?.payload).toMatchObject({ seq: 1, chain: { seq: 3 } });
    expect(second?.payload.prev).toBe(first === null ? null : dockingHead(first).hash);
    const stored = records();
    expect(stored).toEqual([first, second]);
    expect(stored.every((r) => verifySignature(r, publicKey))).toBe(true);
    expect(progress.dockings.last('cam-1')).toMatchObject({ record: { seq: 1 }, chain: { seq: 3 }, rollback: null });
    progress.close();
  });

  it('keeps a rollback it notices for dock status, and clears it once the camera extends its record again', async () => {
    const { progress, dockings } = setup();
    progress.dockings.held('cam-1', 0, '0'.repeat(64));
    progress.dockings.held('cam-1', 1, '1'.repeat(64));
    progress.seen('cam-1');
    await dockings.settle('cam-1');
    dockings.compare('cam-1', { chain: { seq: 0, hash: '0'.repeat(64) }, audit: null });
    expect(progress.dockings.last('cam-1')?.rollback).toMatch(/chain ends at 0/);
    dockings.compare('cam-1', { chain: { seq: 2, hash: '2'.repeat(64) }, audit: null });
    expect(progress.dockings.last('cam-1')?.rollback).toBeNull();
    progress.close();
  });
});

describe('the offer checks', () => {
  it("refuse a segment filed under an incident id that is not the camera's, even signed by it", async () => {
    const d = new DeviceBuilder('cam-1', await tempDir());
    const offer = (env: Awaited<ReturnType<DeviceBuilder['segment']>>) => ({
      incident: env.payload.incident,
      seq: 0,
      file: '0000.mp4.age',
      bytes: 10,
      sha256: env.payload.segment.sha256,
      manifest: env,
    });
    const own = await d.segment(d.incident(1), 10, { write: false, audit: false });
    expect(checkSegmentOffer('cam-1', d.publicKey, offer(own))).toHaveProperty('ok');
    // A compromised camera signs whatever it likes: the incident id alone decides.
    for (const incident of ['footage', 'cam-2-20260301T100100Z-0001', 'cam-1x-20260301T100100Z-0001']) {
      const forged = await d.segment(incident, 10, { write: false, audit: false });
      expect(checkSegmentOffer('cam-1', d.publicKey, offer(forged))).toMatchObject({ code: 'foreign-incident' });
    }
  });

  it('take the heads of an inventory when given, and refuse malformed ones', () => {
    const base = { session: 's', segments: [], incidents: [], auditHead: 3 };
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    expect(checkInventory(json(base))).toEqual({ ok: base });
    const heads = { chain: h(5), audit: null };
    expect(checkInventory(json({ ...base, heads }))).toEqual({ ok: { ...base, heads } });
    for (const bad of [
      { chain: { seq: -1, hash: 'a'.repeat(64) }, audit: null },
      { chain: h(1), audit: { seq: 1 } },
      'x',
    ]) {
      expect(checkInventory(json({ ...base, heads: bad }))).toHaveProperty('error');
    }
  });
});
