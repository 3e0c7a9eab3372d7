/**
 * The S3 evidence store against the real thing: Ceph's RADOS Gateway with Object Lock (one cluster for this file).
 * What is checked goes through a raw S3 client, not the code under test: every object under COMPLIANCE retention of
 * at least 30 days from its recording, deletion of a version refused to the bucket's owner (also the gateway's
 * administrator), retention that cannot be shortened, legal hold set and released, a tampered object visible as a
 * new version beside the original, and a multipart upload resumed after the gateway was SIGKILLed mid-upload.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3EvidenceStore } from '../../../src/dock/store/s3-evidence-store.ts';
import { DEFAULT_RETENTION } from '../../../src/evidence/retention.ts';
import { checkBucket } from '../../../src/store/bucket-check.ts';
import type { PartInput } from '../../../src/store/port.ts';
import type { S3ObjectStore } from '../../../src/store/s3.ts';
import { putVerified } from '../../../src/store/verified-put.ts';
import {
  CEPH_MISSING,
  CEPH_SKIP,
  type CephCluster,
  createBucket,
  objectStore,
  rawClient,
  startCeph,
} from '../../harness/ceph.ts';
import { incomingFile, makeRecording, type Recording } from '../../harness/recording.ts';
import { wrapStore } from '../../harness/store-wrap.ts';

const DAY = 86_400_000;
const describeCeph = describe.skipIf(CEPH_MISSING.length > 0);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-s3it-'));
const root = { prefix: 'bodycam', organisation: 'pz5339' };
let ceph: CephCluster;
let raw: S3Client;
const opened: S3ObjectStore[] = [];

beforeAll(async () => {
  if (CEPH_MISSING.length > 0) return;
  ceph = await startCeph();
  raw = rawClient(ceph);
}, 90_000);
afterAll(async () => {
  for (const s of opened) s.close();
  raw?.destroy();
  await ceph?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function store(bucket: string): S3ObjectStore {
  const s = objectStore(ceph, bucket);
  opened.push(s);
  return s;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
async function read(bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const out = await raw.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
  );
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}
async function refusal(op: Promise<unknown>): Promise<string> {
  try {
    await op;
    return 'accepted';
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** Docks `rec` into `bucket` through the S3 evidence store; returns the keys written. */
async function dock(bucket: string, rec: Recording): Promise<string[]> {
  const evidence = new S3EvidenceStore({ store: store(bucket), root, policy: DEFAULT_RETENTION });
  await evidence.putDeviceKey(rec.device, rec.publicPem);
  for (const seg of rec.segments) {
    await evidence.putSegment(rec.device, rec.incident, seg.file, await incomingFile(dir, seg), seg.manifestText);
  }
  await evidence.putClosing(rec.device, rec.incident, rec.closingText);
  await evidence.appendAudit(rec.device, rec.auditLines.join(''));
  const keys: string[] = [];
  for await (const e of store(bucket).list('bodycam/')) keys.push(e.key);
  return keys;
}

describeCeph(`S3 evidence store on Ceph RGW ${CEPH_MISSING.length > 0 ? CEPH_SKIP : ''}`, () => {
  it('checks the bucket at start: each problem named, a good bucket passes', async () => {
    await createBucket(ceph, 'good-bucket');
    await createBucket(ceph, 'plain-bucket', { objectLock: false });
    await createBucket(ceph, 'no-default', { defaultRetention: null });
    await expect(checkBucket(store('good-bucket'), 'good-bucket', 30)).resolves.toMatchObject({
      objectLockEnabled: true,
      versioning: 'Enabled',
      defaultRetention: { mode: 'COMPLIANCE', days: 30 },
    });
    const problem = async (bucket: string) =>
      (await refusal(checkBucket(store(bucket), bucket, 30))).split('\n').slice(1);
    expect(await problem('missing-bucket')).toEqual([expect.stringContaining('bucket missing-bucket does not exist')]);
    expect(await problem('plain-bucket')).toEqual([
      expect.stringContaining('has no Object Lock'),
      expect.stringContaining('versioning is off'),
    ]);
    expect(await problem('no-default')).toEqual([expect.stringContaining('has no default retention rule')]);
    // Ceph 16 takes an object that asks for retention into a bucket without Object Lock (unlocked, unversioned):
    // the answer has no version id, so it does not count as stored.
    const put = putVerified(store('plain-bucket'), {
      key: 'k',
      source: Buffer.from('x'),
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + DAY) },
      metadata: {},
      contentType: 'x',
    });
    await expect(put).rejects.toMatchObject({
      code: 'STORE_BUCKET',
      message: expect.stringContaining('not versioned'),
    });
  });

  it('the store itself refuses a body whose SHA-256 or MD5 is not the one sent with it', async () => {
    await createBucket(ceph, 'evidence-g');
    const s = store('evidence-g');
    const body = Buffer.from('segment bytes');
    const input = {
      key: 'k',
      source: body,
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + DAY) } as const,
      metadata: {},
      contentType: 'x',
    };
    await expect(putVerified(s, { ...input, sha256: sha256(Buffer.from('other')) })).rejects.toMatchObject({
      code: 'STORE_MISMATCH',
      message: expect.stringContaining('XAmzContentSHA256Mismatch'),
    });
    const wrongMd5 = s.put({
      key: 'k',
      body,
      size: body.length,
      md5: createHash('md5').update('other').digest(),
      sha256: createHash('sha256').update(body).digest(),
      retention: input.retention,
      metadata: {},
      contentType: 'x',
    });
    await expect(wrongMd5).rejects.toMatchObject({
      code: 'STORE_MISMATCH',
      message: expect.stringContaining('BadDigest'),
    });
    expect(await s.head('k')).toBeNull();
    await expect(putVerified(s, { ...input, sha256: sha256(body) })).resolves.toMatchObject({ already: false });
  });

  it('a docked incident: every object under COMPLIANCE retention of at least 30 days from its recording', async () => {
    await createBucket(ceph, 'evidence-a');
    const rec = makeRecording({ startMs: Date.now() - 20 * 60_000 });
    const keys = await dock('evidence-a', rec);
    expect(keys).toHaveLength(2 * rec.segments.length + 3);
    for (const key of keys) {
      const r = await raw.send(new GetObjectRetentionCommand({ Bucket: 'evidence-a', Key: key }));
      expect(r.Retention?.Mode, key).toBe('COMPLIANCE');
      const until = r.Retention?.RetainUntilDate?.getTime() ?? 0;
      const head = await store('evidence-a').head(key);
      const recorded = Date.parse(head?.metadata['recorded'] ?? '');
      expect(recorded, key).toBeGreaterThanOrEqual(Date.now() - 25 * 60_000);
      expect(until - recorded, key).toBeGreaterThanOrEqual(30 * DAY);
      expect(until, key).toBeGreaterThan(Date.now() + 29 * DAY);
      expect(head?.metadata['delete-due'], key).toBeDefined();
    }
    const seg = rec.segments[0];
    const segKey = `bodycam/pz5339/${rec.device}/${rec.incident}/${seg?.file}`;
    expect(sha256(await read('evidence-a', segKey))).toBe(sha256(seg?.bytes ?? Buffer.alloc(0)));
  });

  it('refuses a versioned DELETE of any of them, to the owner and administrator, even asking to bypass', async () => {
    await createBucket(ceph, 'evidence-b');
    const rec = makeRecording({ sizes: [1000] });
    for (const key of await dock('evidence-b', rec)) {
      const head = await store('evidence-b').head(key);
      const versionId = head?.versionId ?? '';
      for (const bypass of [false, true]) {
        const del = raw.send(
          new DeleteObjectCommand({
            Bucket: 'evidence-b',
            Key: key,
            VersionId: versionId,
            BypassGovernanceRetention: bypass,
          }),
        );
        expect(await refusal(del), key).toMatch(/^AccessDenied: forbidden by object lock/);
      }
      await expect(store('evidence-b').delete(key, versionId)).rejects.toMatchObject({ code: 'STORE_DENIED' });
      expect((await store('evidence-b').head(key, versionId))?.versionId).toBe(versionId);
    }
  });

  it('refuses shortening a retention or leaving COMPLIANCE; allows extending it', async () => {
    await createBucket(ceph, 'evidence-c');
    const rec = makeRecording({ sizes: [800] });
    const key = `bodycam/pz5339/${rec.device}/${rec.incident}/0000.mp4.age`;
    await dock('evidence-c', rec);
    const head = await store('evidence-c').head(key);
    const until = head?.retention?.retainUntil.getTime() ?? 0;
    const set = (mode: 'COMPLIANCE' | 'GOVERNANCE', ms: number) =>
      raw.send(
        new PutObjectRetentionCommand({
          Bucket: 'evidence-c',
          Key: key,
          VersionId: head?.versionId,
          Retention: { Mode: mode, RetainUntilDate: new Date(ms) },
        }),
      );
    expect(await refusal(set('COMPLIANCE', until - 10 * DAY))).toMatch(/^AccessDenied: .*shortens/);
    expect(await refusal(set('GOVERNANCE', until + DAY))).toMatch(/^AccessDenied: .*COMPLIANCE to GOVERNANCE/);
    const shorter = { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + DAY) } as const;
    await expect(store('evidence-c').setRetention(key, head?.versionId ?? '', shorter)).rejects.toMatchObject({
      code: 'STORE_DENIED',
    });
    expect(await refusal(set('COMPLIANCE', until + 5 * DAY))).toBe('accepted');
    const r = await raw.send(new GetObjectRetentionCommand({ Bucket: 'evidence-c', Key: key }));
    expect(r.Retention?.RetainUntilDate?.getTime()).toBe(until + 5 * DAY);
  });

  it('sets and releases a legal hold', async () => {
    await createBucket(ceph, 'evidence-d');
    const rec = makeRecording({ sizes: [600] });
    const key = `bodycam/pz5339/${rec.device}/${rec.incident}/0000.mp4.age`;
    await dock('evidence-d', rec);
    const s = store('evidence-d');
    const head = await s.head(key);
    const versionId = head?.versionId ?? '';
    expect(await s.legalHold(key, versionId)).toBe(false);
    const hold = async () =>
      (await raw.send(new GetObjectLegalHoldCommand({ Bucket: 'evidence-d', Key: key, VersionId: versionId })))
        .LegalHold?.Status;
    await s.setLegalHold(key, versionId, true);
    expect(await hold()).toBe('ON');
    expect(await s.legalHold(key, versionId)).toBe(true);
    await s.setLegalHold(key, versionId, false);
    expect(await hold()).toBe('OFF');
    expect(await s.legalHold(key, versionId)).toBe(false);
  });

  it('a tampered object shows as a new version with another SHA-256 beside the original; a delete only hides it', async () => {
    await createBucket(ceph, 'evidence-e');
    const rec = makeRecording({ sizes: [1200] });
    const key = `bodycam/pz5339/${rec.device}/${rec.incident}/0000.mp4.age`;
    await dock('evidence-e', rec);
    const original = await store('evidence-e').head(key);
    const forged = randomBytes(1200);
    await raw.send(
      new PutObjectCommand({ Bucket: 'evidence-e', Key: key, Body: forged, Metadata: original?.metadata ?? {} }),
    );
    const versions = [];
    for await (const v of store('evidence-e').listVersions(key)) if (v.key === key) versions.push(v);
    expect(versions.map((v) => [v.versionId === original?.versionId, v.isLatest])).toEqual([
      [false, true],
      [true, false],
    ]);
    expect(sha256(await read('evidence-e', key))).toBe(sha256(forged));
    expect(sha256(await read('evidence-e', key, original?.versionId))).toBe(
      sha256(rec.segments[0]?.bytes ?? Buffer.alloc(0)),
    );
    // The dock stores the same segment again (a retry): it finds other bytes under the name and writes nothing.
    const evidence = new S3EvidenceStore({ store: store('evidence-e'), root, policy: DEFAULT_RETENTION });
    const seg = rec.segments[0];
    if (seg === undefined) throw new Error('no segment');
    await expect(
      evidence.putSegment(rec.device, rec.incident, seg.file, await incomingFile(dir, seg), seg.manifestText),
    ).rejects.toMatchObject({ code: 'STORE_CONFLICT' });

    const marker = await store('evidence-e').delete(key);
    expect(marker.deleteMarker).toBe(true);
    expect(await store('evidence-e').head(key)).toBeNull();
    expect((await store('evidence-e').head(key, original?.versionId))?.size).toBe(1200);
  });

  it('resumes a multipart upload after the gateway was SIGKILLed mid-upload, sending only the missing parts', async () => {
    await createBucket(ceph, 'evidence-f');
    const bytes = randomBytes(18 * 1024 * 1024 + 12_345);
    const file = path.join(dir, 'large.mp4.age');
    writeFileSync(file, bytes);
    const plan = { partBytes: 5 * 1024 * 1024, multipartAboveBytes: 8 * 1024 * 1024 };
    const input = {
      key: 'bodycam/pz5339/cam/inc/0000.mp4.age',
      source: file,
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + 30 * DAY) } as const,
      metadata: { recorded: new Date().toISOString() },
      contentType: 'application/octet-stream',
    };
    const s = store('evidence-f');
    const sent: number[] = [];
    const killing = wrapStore(s, {
      putPart: async (p: PartInput) => {
        sent.push(p.partNumber);
        const etag = await s.putPart(p);
        if (p.partNumber === 2) await ceph.killGateway();
        return etag;
      },
    });
    await expect(putVerified(killing, input, plan)).rejects.toMatchObject({ code: 'STORE_UNREACHABLE' });
    expect(sent).toEqual([1, 2, 3]);
    await ceph.startGateway();

    const resent: number[] = [];
    const counting = wrapStore(s, {
      putPart: (p: PartInput) => {
        resent.push(p.partNumber);
        return s.putPart(p);
      },
    });
    const out = await putVerified(counting, input, plan);
    expect(resent).toEqual([3, 4]);
    expect(out.size).toBe(bytes.length);
    expect(sha256(await read('evidence-f', input.key))).toBe(sha256(bytes));
    expect(await s.uploads(input.key)).toEqual([]);
    const r = await raw.send(new GetObjectRetentionCommand({ Bucket: 'evidence-f', Key: input.key }));
    expect(r.Retention?.Mode).toBe('COMPLIANCE');
    const versions = [];
    for await (const v of s.listVersions(input.key)) versions.push(v.versionId);
    expect(versions).toHaveLength(1);
  }, 120_000);
});
