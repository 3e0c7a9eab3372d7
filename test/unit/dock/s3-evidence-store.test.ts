import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { S3EvidenceStore } from '../../../src/dock/store/s3-evidence-store.ts';
import { sha256Hex } from '../../../src/evidence/canonical.ts';
import { dockingHead, dockingLine, signDocking } from '../../../src/evidence/docking.ts';
import { keyId } from '../../../src/evidence/keys.ts';
import { DEFAULT_RETENTION } from '../../../src/evidence/retention.ts';
import { BodycamError, ErrorCode } from '../../../src/lib/errors.ts';
import { MemoryObjectStore } from '../../../src/store/memory.ts';
import { incomingFile, makeRecording } from '../../harness/recording.ts';

const DAY = 86_400_000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-s3es-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = { prefix: 'bodycam', organisation: 'pz5339' };

async function keys(store: MemoryObjectStore): Promise<string[]> {
  const out = [];
  for await (const e of store.list('')) out.push(e.key);
  return out;
}

describe('S3EvidenceStore', () => {
  it('stores a docked incident under <prefix>/<organisation>/<device>/… with retention and dates', async () => {
    const now = Date.now();
    const rec = makeRecording({ startMs: now - 10 * 60_000, auditEntries: 4 });
    const objects = new MemoryObjectStore();
    const store = new S3EvidenceStore({ store: objects, root, policy: DEFAULT_RETENTION, now: () => now });
    await store.putDeviceKey(rec.device, rec.publicPem);
    for (const seg of rec.segments) {
      const source = await incomingFile(dir, seg);
      await store.putSegment(rec.device, rec.incident, seg.file, source, seg.manifestText);
      expect(existsSync(source)).toBe(false);
    }
    await store.putClosing(rec.device, rec.incident, rec.closingText);
    await store.appendAudit(rec.device, rec.auditLines.slice(0, 3).join(''));
    await store.appendAudit(rec.device, rec.auditLines.slice(3).join(''));

    const base = `bodycam/pz5339/${rec.device}`;
    expect(await keys(objects)).toEqual([
      `${base}/audit/000000000000-000000000002.jsonl`,
      `${base}/audit/000000000003-000000000003.jsonl`,
      `${base}/${rec.incident}/0000.mp4.age`,
      `${base}/${rec.incident}/0000.mp4.age.manifest.json`,
      `${base}/${rec.incident}/0001.mp4.age`,
      `${base}/${rec.incident}/0001.mp4.age.manifest.json`,
      `${base}/${rec.incident}/incident.manifest.json`,
      `${base}/device.pub`,
    ]);
    const seg1 = await objects.head(`${base}/${rec.incident}/0001.mp4.age`);
    const recorded = now - 9 * 60_000; // the second segment's first frame
    expect(seg1?.retention).toEqual({ mode: 'COMPLIANCE', retainUntil: new Date(recorded + 30 * DAY) });
    expect(seg1?.metadata).toMatchObject({
      recorded: new Date(recorded).toISOString(),
      'recorded-by': 'device',
      'minimum-until': new Date(recorded + 30 * DAY).toISOString(),
      'delete-due': new Date(recorded).toISOString().replace(/^\d{4}/, (y) => String(Number(y) + 1)),
    });
    const got = [];
    for await (const c of await objects.get(`${base}/${rec.incident}/0001.mp4.age`)) got.push(c as Buffer);
    expect(Buffer.concat(got)).toEqual(rec.segments[1]?.bytes);
    const closing = await objects.head(`${base}/${rec.incident}/incident.manifest.json`);
    expect(closing?.metadata['recorded']).toBe(new Date(now - 10 * 60_000).toISOString());
  });

  it("a camera whose clock was not set: dates from the dock's arrival", async () => {
    const now = Date.now();
    const rec = makeRecording({ startMs: Date.UTC(1970, 0, 1), clock: 'unset', sizes: [100] });
    const objects = new MemoryObjectStore();
    const store = new S3EvidenceStore({ store: objects, root, policy: DEFAULT_RETENTION, now: () => now });
    const seg = rec.segments[0];
    if (seg === undefined) throw new Error('no segment');
    await store.putSegment(rec.device, rec.incident, seg.file, await incomingFile(dir, seg), seg.manifestText);
    const head = await objects.head(`bodycam/pz5339/${rec.device}/${rec.incident}/0000.mp4.age`);
    expect(head?.metadata).toMatchObject({ recorded: new Date(now).toISOString(), 'recorded-by': 'arrival' });
    expect(head?.retention?.retainUntil.getTime()).toBe(now + 30 * DAY);
  });

  it("writes a device's key once: the same key extends its lock, another key is refused", async () => {
    let now = Date.now();
    const objects = new MemoryObjectStore({ now: () => now });
    const store = new S3EvidenceStore({ store: objects, root, policy: DEFAULT_RETENTION, now: () => now });
    const a = makeRecording();
    const b = makeRecording();
    await store.putDeviceKey('cam-7', a.publicPem);
    now += 10 * DAY;
    await store.putDeviceKey('cam-7', a.publicPem);
    expect((await objects.head('bodycam/pz5339/cam-7/device.pub'))?.retention?.retainUntil.getTime()).toBe(
      now + 30 * DAY,
    );
    await expect(store.putDeviceKey('cam-7', b.publicPem)).rejects.toMatchObject({
      code: 'STORE_CONFLICT',
      message: expect.stringContaining('already holds another signing key for device cam-7'),
    });
    const versions = [];
    for await (const v of objects.listVersions('bodycam/pz5339/cam-7/')) versions.push(v.versionId);
    expect(versions).toHaveLength(1);
  });

  it('a segment stored again (a retry after a crash) writes nothing new; other bytes under its name are refused', async () => {
    const rec = makeRecording({ sizes: [500] });
    const objects = new MemoryObjectStore();
    const store = new S3EvidenceStore({ store: objects, root, policy: DEFAULT_RETENTION });
    const seg = rec.segments[0];
    if (seg === undefined) throw new Error('no segment');
    for (let i = 0; i < 2; i++) {
      await store.putSegment(rec.device, rec.incident, seg.file, await incomingFile(dir, seg), seg.manifestText);
    }
    const versions = [];
    for await (const v of objects.listVersions('')) versions.push(v.key);
    expect(versions).toHaveLength(2);
    const tampered = { ...seg, bytes: Buffer.alloc(500, 7) };
    const source = await incomingFile(dir, tampered);
    await expect(store.putSegment(rec.device, rec.incident, seg.file, source, seg.manifestText)).rejects.toMatchObject({
      code: 'STORE_CONFLICT',
    });
    expect(existsSync(source)).toBe(true);
  });

  it('writes nothing before the bucket has passed its check', async () => {
    const rec = makeRecording({ sizes: [100] });
    const objects = new MemoryObjectStore();
    let answers = false;
    const bucketChecked = async () => {
      if (!answers) throw new BodycamError(ErrorCode.STORE_UNREACHABLE, 'no answer');
    };
    const store = new S3EvidenceStore({ store: objects, root, policy: DEFAULT_RETENTION, bucketChecked });
    const seg = rec.segments[0];
    if (seg === undefined) throw new Error('no segment');
    const source = await incomingFile(dir, seg);
    await expect(store.putSegment(rec.device, rec.incident, seg.file, source, seg.manifestText)).rejects.toMatchObject({
      code: 'STORE_UNREACHABLE',
    });
    await expect(store.putDeviceKey(rec.device, rec.publicPem)).rejects.toMatchObject({ code: 'STORE_UNREACHABLE' });
    expect(await keys(objects)).toEqual([]);
    expect(existsSync(source)).toBe(true);
    answers = true;
    await store.putSegment(rec.device, rec.incident, seg.file, source, seg.manifestText);
    expect(await keys(objects)).toHaveLength(2);
  });

  it('refuses audit lines that are not whole entries, and a manifest of the wrong kind', async () => {
    const rec = makeRecording();
    const store = new S3EvidenceStore({ store: new MemoryObjectStore(), root, policy: DEFAULT_RETENTION });
    await expect(store.appendAudit(rec.device, 'not json\n')).rejects.toMatchObject({ code: 'EVIDENCE_FORMAT' });
    await expect(store.appendAudit(rec.device, rec.auditLines[0]?.slice(0, -1) ?? '')).rejects.toMatchObject({
      code: 'EVIDENCE_FORMAT',
    });
    await expect(store.putClosing(rec.device, rec.incident, rec.segments[0]?.manifestText ?? '')).rejects.toMatchObject(
      {
        code: 'EVIDENCE_FORMAT',
      },
    );
  });

  it('keeps docking records one object each and reads back the last; answers what it holds from the store itself', async () => {
    const now = Date.now();
    const rec = makeRecording({ startMs: now - 10 * 60_000, sizes: [300, 200] });
    const objects = new MemoryObjectStore();
    const store = new S3EvidenceStore({ store: objects, root, policy: DEFAULT_RETENTION, now: () => now });
    const dock = generateKeyPairSync('ed25519');
    const dockKeyId = keyId(dock.publicKey);
    expect(await store.lastDocking(rec.device)).toBeNull();
    const heads = { chain: { seq: 1, hash: 'a'.repeat(64) }, audit: null };
    const first = signDocking(
      { device: rec.device, at: new Date(now).toISOString(), ...heads },
      null,
      dock.privateKey,
      dockKeyId,
    );
    const second = signDocking(
      { device: rec.device, at: new Date(now + 1000).toISOString(), ...heads },
      dockingHead(first),
      dock.privateKey,
      dockKeyId,
    );
    await store.appendDocking(rec.device, dockingLine(first));
    await store.appendDocking(rec.device, dockingLine(second));
    const base = `bodycam/pz5339/${rec.device}`;
    expect(await keys(objects)).toEqual([`${base}/dockings/000000000000.json`, `${base}/dockings/000000000001.json`]);
    expect(`${await store.lastDocking(rec.device)}\n`).toBe(dockingLine(second));
    expect((await objects.head(`${base}/dockings/000000000001.json`))?.retention?.mode).toBe('COMPLIANCE');
    // A record is written once: the same seq with other content is refused.
    const forked = signDocking(
      { device: rec.device, at: '2020-01-01T00:00:00.000Z', ...heads },
      null,
      dock.privateKey,
      dockKeyId,
    );
    await expect(store.appendDocking(rec.device, dockingLine(forked))).rejects.toThrow(BodycamError);
    await expect(store.appendDocking(rec.device, 'not a record\n')).rejects.toThrow(/not one/);

    const [a, b] = rec.segments;
    if (a === undefined || b === undefined) throw new Error('no segments');
    const expectA = { bytes: a.bytes.length, sha256: sha256Hex(a.bytes) };
    expect(await store.holdsSegment(rec.device, rec.incident, a.file, expectA)).toBe(false);
    await store.putSegment(rec.device, rec.incident, a.file, await incomingFile(dir, a), a.manifestText);
    expect(await store.holdsSegment(rec.device, rec.incident, a.file, expectA)).toBe(true);
    expect(await store.holdsSegment(rec.device, rec.incident, a.file, { ...expectA, bytes: expectA.bytes + 1 })).toBe(
      false,
    );
    expect(await store.holdsSegment(rec.device, rec.incident, a.file, { ...expectA, sha256: 'b'.repeat(64) })).toBe(
      false,
    );
    expect(
      await store.holdsSegment(rec.device, rec.incident, b.file, { bytes: b.bytes.length, sha256: sha256Hex(b.bytes) }),
    ).toBe(false);
    expect(await store.holdsClosing(rec.device, rec.incident, rec.closingText)).toBe(false);
    await store.putClosing(rec.device, rec.incident, rec.closingText);
    expect(await store.holdsClosing(rec.device, rec.incident, rec.closingText)).toBe(true);
    expect(await store.holdsClosing(rec.device, rec.incident, `${rec.closingText} `)).toBe(false);
  });
});
