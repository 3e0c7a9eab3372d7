/**
 * Every tampering class against one camera's storage directory: each is caught with the right code, naming the
 * right file, and untouched evidence verifies clean.
 */
import { appendFile, cp, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestChain, manifestFileText, segmentManifest } from '../../../src/evidence/manifest.ts';
import { verifyDirectory } from '../../../src/evidence/verify.ts';
import {
  type DeviceBuilder,
  INC_A,
  INC_B,
  incA,
  keysOf,
  removeTempDirs,
  seg,
  standardDevice,
  summary,
  tempDir,
} from './builder.ts';

let pristine: string;
let device: DeviceBuilder;
let other: string;

afterAll(removeTempDirs);

beforeAll(async () => {
  pristine = await tempDir();
  device = await standardDevice(pristine);
  other = await tempDir();
  await standardDevice(other, 'device', 'cam-0099');
});

/** A fresh copy of the standard device to tamper with. */
async function copy(): Promise<string> {
  const dir = await tempDir('tampered-');
  await cp(pristine, dir, { recursive: true });
  return dir;
}

async function editJson(file: string, edit: (value: Record<string, any>) => void): Promise<void> {
  const value = JSON.parse(await readFile(file, 'utf8'));
  edit(value);
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

describe('verifyDirectory on a tampered copy', () => {
  it('finds nothing wrong with the untouched evidence', async () => {
    const report = await verifyDirectory(await copy(), keysOf(device));
    expect(summary(report)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('names a segment with one flipped byte', async () => {
    const dir = await copy();
    const file = path.join(dir, seg(INC_A, 1));
    const bytes = await readFile(file);
    bytes[1234] = (bytes[1234] ?? 0) ^ 0x01;
    await writeFile(file, bytes);
    const report = await verifyDirectory(dir, keysOf(device));
    expect(summary(report)).toEqual([`error hash-mismatch ${seg(INC_A, 1)}`]);
    expect(report.ok).toBe(false);
    const verified = report.devices[0]?.incidents.flatMap((i) => i.segments.map((s) => [s.file, s.verified]));
    expect(verified?.filter(([, v]) => !v)).toEqual([[seg(INC_A, 1), false]]);
  });

  it('names a truncated segment', async () => {
    const dir = await copy();
    await truncate(path.join(dir, seg(INC_A, 2)), 1000);
    const report = await verifyDirectory(dir, keysOf(device));
    expect(summary(report)).toEqual([`error size-mismatch ${seg(INC_A, 2)}`]);
    expect(report.findings[0]?.message).toMatch(/1000 bytes instead of 2000: truncated/);
  });

  it('names an extended segment', async () => {
    const dir = await copy();
    await appendFile(path.join(dir, seg(INC_B, 1)), Buffer.alloc(16));
    expect(summary(await verifyDirectory(dir, keysOf(device)))).toEqual([`error size-mismatch ${seg(INC_B, 1)}`]);
  });

  it('names both segments of an incident whose contents were swapped', async () => {
    const dir = await copy();
    const [a, b] = [path.join(dir, seg(INC_A, 0)), path.join(dir, seg(INC_A, 1))];
    const [da, db] = [await readFile(a), await readFile(b)];
    await writeFile(a, db);
    await writeFile(b, da);
    const report = await verifyDirectory(dir, keysOf(device));
    expect(summary(report)).toEqual([`error hash-mismatch ${seg(INC_A, 0)}`, `error hash-mismatch ${seg(INC_A, 1)}`]);
    expect(report.findings.find((f) => f.segment === seg(INC_A, 0))?.message).toContain(`content of ${seg(INC_A, 1)}`);
  });

  it('names segments renamed into another order (file and manifest)', async () => {
    const dir = await copy();
    const base = path.join(dir, 'footage', INC_A);
    for (const suffix of ['', '.manifest.json']) {
      await rename(path.join(base, `0000.mp4.age${suffix}`), path.join(base, `tmp${suffix}`));
      await rename(path.join(base, `0001.mp4.age${suffix}`), path.join(base, `0000.mp4.age${suffix}`));
      await rename(path.join(base, `tmp${suffix}`), path.join(base, `0001.mp4.age${suffix}`));
    }
    const report = await verifyDirectory(dir, keysOf(device));
    expect(summary(report)).toEqual([`error misplaced ${seg(INC_A, 0)}`, `error misplaced ${seg(INC_A, 1)}`]);
  });

  it('names a segment whose file was deleted', async () => {
    const dir = await copy();
    await rm(path.join(dir, seg(INC_B, 0)));
    expect(summary(await verifyDirectory(dir, keysOf(device)))).toEqual([`error missing-segment ${seg(INC_B, 0)}`]);
  });

  it('reports a chain gap and an incomplete incident when a segment and its manifest were deleted', async () => {
    const dir = await copy();
    await rm(path.join(dir, seg(INC_A, 1)));
    await rm(path.join(dir, `${seg(INC_A, 1)}.manifest.json`));
    const report = await verifyDirectory(dir, keysOf(device));
    expect(summary(report)).toEqual([
      'error chain-gap -',
      `error incident-incomplete footage/${INC_A}`,
      `error manifest-missing ${seg(INC_A, 1)}.manifest.json`,
    ]);
    expect(report.findings.find((f) => f.code === 'chain-gap')?.message).toMatch(/chainSeq 1 missing, between/);
    expect(report.findings.find((f) => f.code === 'incident-incomplete')?.message).toBe('segment(s) 1 missing');
  });

  it('reports the first segments of a later incident deleted with their manifests as an error, not an offload', async () => {
    const dir = await copy();
    await rm(path.join(dir, seg(INC_B, 0)));
    await rm(path.join(dir, `${seg(INC_B, 0)}.manifest.json`));
    const report = await verifyDirectory(dir, keysOf(device));
    expect(summary(report)).toEqual([
      'error chain-gap -',
      `error incident-incomplete footage/${INC_B}`,
      `error manifest-missing ${seg(INC_B, 0)}.manifest.json`,
    ]);
  });

  it('names a segment copied in with its manifest from another incident', async () => {
    const dir = await copy();
    for (const suffix of ['', '.manifest.json']) {
      await cp(path.join(dir, seg(INC_B, 1) + suffix), path.join(dir, seg(INC_A, 3) + suffix));
    }
    const report = await verifyDirectory(dir, keysOf(device));
    expect(summary(report)).toEqual([`error misplaced ${seg(INC_A, 3)}`, `error misplaced ${seg(INC_A, 3)}`]);
    expect(report.findings.map((f) => f.message).join()).toMatch(new RegExp(`segment 1 of incident ${INC_B}`));
  });

  it('names a segment copied in from another device, signed by its key', async () => {
    const dir = await copy();
    for (const suffix of ['', '.manifest.json']) {
      await cp(path.join(other, seg(incA('cam-0099'), 0) + suffix), path.join(dir, seg(INC_B, 2) + suffix));
    }
    const report = await verifyDirectory(dir, keysOf(device));
    expect(summary(report)).toContain(`error wrong-device ${seg(INC_B, 2)}`);
    expect(report.findings.every((f) => f.segment === seg(INC_B, 2))).toBe(true);
    expect(report.ok).toBe(false);
  });

  const A = (seq: number) => `${seg(INC_A, seq)}.manifest.json`;
  const B = (seq: number) => `${seg(INC_B, seq)}.manifest.json`;
  const closingA = `footage/${INC_A}/incident.manifest.json`;
  const closingB = `footage/${INC_B}/incident.manifest.json`;
  // Each edit is caught on the edited manifest (the segment it describes, or the closing manifest itself); the
  // last column says whether that is the only error (an edited chain position also shows up as a gap).
  it.each<[string, string, string, (p: Record<string, any>) => void, boolean]>([
    ['the segment size', A(0), seg(INC_A, 0), (p) => (p['segment'].bytes += 1), true],
    ['the segment hash', A(1), seg(INC_A, 1), (p) => (p['segment'].sha256 = 'a'.repeat(64)), true],
    ['the wall-clock start', A(2), seg(INC_A, 2), (p) => (p['wall'].first = '2026-03-01T09:00:00.000Z'), true],
    ['the frame count', B(0), seg(INC_B, 0), (p) => (p['media'].frames -= 1), true],
    ['the clock source', B(1), seg(INC_B, 1), (p) => (p['clock'].source = 'rtc'), true],
    ['the pre-roll', A(0), seg(INC_A, 0), (p) => (p['preroll'].actualMs = 0), true],
    ['the ending', A(1), seg(INC_A, 1), (p) => (p['segment'].ending = 'recovered'), true],
    ['the device', A(1), seg(INC_A, 1), (p) => (p['device'] = 'cam-0043'), true],
    ['the incident', A(1), seg(INC_A, 1), (p) => (p['incident'] = INC_B), true],
    ['the prev link', A(2), seg(INC_A, 2), (p) => (p['prev'] = 'b'.repeat(64)), true],
    ['the chain position', A(1), seg(INC_A, 1), (p) => (p['chainSeq'] = 7), false],
    ['the warning', closingB, closingB, (p) => (p['warning'].state = 'suppressed'), true],
    ['the segment list', closingA, closingA, (p) => p['segments'].pop(), true],
  ])('names a manifest whose %s was edited', async (_field, file, named, edit, only) => {
    const dir = await copy();
    await editJson(path.join(dir, file), (m) => edit(m['payload']));
    const report = await verifyDirectory(dir, keysOf(device));
    expect(report.ok).toBe(false);
    expect(summary(report)).toContain(`error bad-signature ${named}`);
    const elsewhere = report.findings.filter((f) => f.severity === 'error' && f.segment !== named);
    expect(elsewhere.length === 0).toBe(only);
  });

  it('names a manifest whose signature was replaced', async () => {
    const dir = await copy();
    await editJson(path.join(dir, A(1)), (m) => {
      m['signature'] = `${'A'.repeat(86)}==`;
    });
    expect(summary(await verifyDirectory(dir, keysOf(device)))).toEqual([`error bad-signature ${seg(INC_A, 1)}`]);
  });

  it('names a manifest whose key id was changed (not signed by this device)', async () => {
    const dir = await copy();
    await editJson(path.join(dir, `${seg(INC_A, 1)}.manifest.json`), (m) => {
      m['keyId'] = '0'.repeat(32);
    });
    expect(summary(await verifyDirectory(dir, keysOf(device)))).toContain(`error wrong-device ${seg(INC_A, 1)}`);
  });

  it('names a segment file that has no manifest', async () => {
    const dir = await copy();
    await writeFile(path.join(dir, seg(INC_B, 5)), 'inserted');
    expect(summary(await verifyDirectory(dir, keysOf(device)))).toEqual([`error unmanifested ${seg(INC_B, 5)}`]);
  });

  it('reports a broken link when a manifest is replaced by another one signed with the device key', async () => {
    const dir = await copy();
    const original = JSON.parse(await readFile(path.join(dir, B(0)), 'utf8'));
    const { chainSeq, prev, format: _f, kind: _k, ...fields } = original.payload;
    const replaced = new ManifestChain({ seq: chainSeq - 1, hash: prev }).append(
      segmentManifest({ ...fields, media: { ...fields.media, frames: 1 } }),
      device.privateKey,
      device.kid,
    );
    await writeFile(path.join(dir, B(0)), manifestFileText(replaced));
    const report = await verifyDirectory(dir, keysOf(device));
    expect(summary(report)).toEqual([
      `error chain-broken ${seg(INC_B, 1)}`,
      `error incident-extra-segment ${seg(INC_B, 0)}`,
      `error incident-incomplete footage/${INC_B}`,
      `error manifest-replaced ${seg(INC_B, 0)}`,
    ]);
  });

  it('reports two different manifests signed for one chain position (a fork)', async () => {
    const dir = await copy();
    const original = JSON.parse(await readFile(path.join(dir, B(1)), 'utf8'));
    const { chainSeq, prev, format: _f, kind: _k, ...fields } = original.payload;
    const fork = new ManifestChain({ seq: chainSeq - 1, hash: prev });
    const forged = fork.append(
      segmentManifest({ ...fields, segment: { ...fields.segment, seq: 2, file: '0002.mp4.age' } }),
      device.privateKey,
      device.kid,
    );
    await cp(path.join(dir, seg(INC_B, 1)), path.join(dir, seg(INC_B, 2)));
    await writeFile(path.join(dir, B(2)), manifestFileText(forged));
    const report = await verifyDirectory(dir, keysOf(device));
    expect(summary(report)).toEqual([
      `error duplicate-seq ${seg(INC_B, 1)}`,
      `error duplicate-seq ${seg(INC_B, 2)}`,
      `error incident-extra-segment ${seg(INC_B, 2)}`,
    ]);
  });
});
