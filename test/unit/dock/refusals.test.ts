/**
 * The dock's records of refused offers (src/dock/sync/progress.ts) and its view of enrolment records
 * (src/dock/enrolled.ts), on a real SQLite database and real files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnrolledDevices } from '../../../src/dock/enrolled.ts';
import { deviceFiles } from '../../../src/dock/layout.ts';
import { Progress } from '../../../src/dock/sync/progress.ts';
import { generateDeviceKeys } from '../../../src/evidence/keys.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'bodycam-refusals-'));
const offer = (i: number) => ({
  incident: `inc-${i}`,
  seq: 0,
  file: '0000.mp4.age',
  bytes: 1000,
  sha256: 'ab'.repeat(32),
  reason: `malformed-manifest: number ${i}`,
});

describe('refused offers', () => {
  it('are written in one transaction: a bad row leaves none of the batch', () => {
    const p = Progress.open(tmp());
    const bad = { ...offer(2), incident: null as unknown as string }; // NOT NULL fails mid-batch
    expect(() => p.refuseAll('cam', [offer(1), bad, offer(3)])).toThrow();
    expect(p.transfer('cam', 'inc-1', 0)).toBeUndefined();
    p.refuseAll('cam', [offer(1), offer(3)]);
    expect(p.transfer('cam', 'inc-1', 0)).toMatchObject({ state: 'refused', reason: 'malformed-manifest: number 1' });
    expect(p.transfer('cam', 'inc-3', 0)).toMatchObject({ state: 'refused' });
    p.close();
  });

  it('never turn a stored segment into a refused one', () => {
    const p = Progress.open(tmp());
    const row = { device: 'cam', ...offer(1), chainSeq: 0, manifestHash: 'cd'.repeat(32) };
    p.begin(row);
    p.finish('cam', 'inc-1', 0, 'stored', null);
    p.refuseAll('cam', [{ ...offer(1), sha256: 'ef'.repeat(32), reason: 'bad-signature: forged' }]);
    expect(p.transfer('cam', 'inc-1', 0)).toMatchObject({ state: 'stored', reason: null, sha256: 'ab'.repeat(32) });
    expect(p.storedBytes('cam')).toBe(1000);
    p.close();
  });

  it('keep the newest few per camera, whatever a camera offers', () => {
    const p = Progress.open(tmp());
    p.seen('cam');
    p.seen('other');
    p.refuseAll(
      'cam',
      Array.from({ length: 30 }, (_, i) => offer(i)),
      10,
    );
    p.refuseAll('other', [offer(99)], 10);
    p.refuseAll('cam', [offer(100), offer(101)], 10);
    const [cam, other] = p.summary();
    expect(cam?.refused).toBe(10);
    expect(cam?.refusals.map((r) => r.incident)).toContain('inc-101');
    expect(other?.refused).toBe(1);
    p.close();
  });
});

describe('enrolment records', () => {
  it('are read as they are now: a withdrawn camera at once, a re-enrolled one with its new key', () => {
    const dir = tmp();
    const enrolled = new EnrolledDevices(dir);
    expect(enrolled.key('cam-a')).toBeNull();
    const files = deviceFiles(dir, 'cam-a');
    mkdirSync(files.dir, { recursive: true });
    const first = generateDeviceKeys();
    writeFileSync(files.pub, first.publicPem);
    const a = enrolled.key('cam-a');
    expect(a?.pem).toBe(first.publicPem);
    expect(enrolled.key('cam-a')).toBe(a); // the same file: not read again
    rmSync(files.dir, { recursive: true });
    expect(enrolled.key('cam-a')).toBeNull();
    mkdirSync(files.dir, { recursive: true });
    const second = generateDeviceKeys();
    writeFileSync(files.pub, second.publicPem);
    expect(enrolled.key('cam-a')?.pem).toBe(second.publicPem);
    writeFileSync(files.pub, 'not a key');
    expect(enrolled.key('cam-a')).toBeNull();
  });
});
