/**
 * Legal hold, expiry and the custody log against Ceph's RADOS Gateway. Time: the objects are written with a
 * retention and dates a few seconds ahead (per-object retention overrides the bucket's default of days), so expiry
 * is reached by waiting seconds, on the gateway's own clock for the lock. The refusal of an early delete is checked
 * with a raw DeleteObject of a version, not through the code under test.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DeleteObjectCommand, GetObjectLegalHoldCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import { incidentObject } from '../../../src/evidence/object-keys.ts';
import { retentionMetadata } from '../../../src/evidence/retention.ts';
import type { S3ObjectStore } from '../../../src/store/s3.ts';
import { putVerified } from '../../../src/store/verified-put.ts';
import { verifyCustodyLog } from '../../../src/vault/custody-log.ts';
import { type Actor, expireObjects, setIncidentHold } from '../../../src/vault/operations.ts';
import {
  CEPH_MISSING,
  type CephCluster,
  createBucket,
  credentialsFile,
  objectStore,
  rawClient,
  startCeph,
} from '../../harness/ceph.ts';

const run = promisify(execFile);
const describeCeph = describe.skipIf(CEPH_MISSING.length > 0);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-vault-'));
const root = { prefix: 'bodycam', organisation: 'pz5339' };
const BUCKET = 'vault';
const pair = generateDeviceKeys();
let ceph: CephCluster;
let raw: S3Client;
let store: S3ObjectStore;

beforeAll(async () => {
  if (CEPH_MISSING.length > 0) return;
  ceph = await startCeph();
  raw = rawClient(ceph);
  await createBucket(ceph, BUCKET);
  store = objectStore(ceph, BUCKET);
}, 90_000);
afterAll(async () => {
  store?.close();
  raw?.destroy();
  await ceph?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeCeph('bodycam vault against Ceph RGW', () => {
  it('hold blocks expire, release lets it delete once due, an early delete is refused, and the log verifies', async () => {
    const t0 = Date.now();
    const until = t0 + 6000;
    const put = (incident: string) =>
      putVerified(store, {
        key: incidentObject(root, 'cam1', incident, 'seg-0001.age'),
        source: Buffer.from(`${incident} bytes`),
        retention: { mode: 'COMPLIANCE', retainUntil: new Date(until) },
        metadata: retentionMetadata({
          recordedMs: t0,
          recordedBy: 'device',
          minimumUntilMs: until,
          deleteDueMs: until,
        }),
        contentType: 'application/octet-stream',
      });
    const inc1 = await put('INC1');
    const inc2 = await put('INC2');
    const actor: Actor = {
      operator: 'insp. Peeters',
      key: loadPrivateKey(pair.privatePem),
      lockDays: 1,
      now: Date.now,
    };

    // Before the minimum: the store refuses a versioned delete, and expire deletes nothing.
    const early = await raw
      .send(new DeleteObjectCommand({ Bucket: BUCKET, Key: inc2.version.key, VersionId: inc2.version.versionId }))
      .then(
        () => 'accepted',
        (e: Error) => e.name,
      );
    expect(early).toBe('AccessDenied');
    expect((await expireObjects(store, root, 'schedule', actor)).deleted).toEqual([]);

    await setIncidentHold(store, root, { incident: 'INC1', reason: 'prosecutor decision 42', on: true }, actor);
    const hold = await raw.send(
      new GetObjectLegalHoldCommand({ Bucket: BUCKET, Key: inc1.version.key, VersionId: inc1.version.versionId }),
    );
    expect(hold.LegalHold?.Status).toBe('ON');

    await sleep(Math.max(0, until - Date.now()) + 1500);
    const due = await expireObjects(store, root, 'schedule', actor);
    expect(due.deleted.map((o) => o.key)).toEqual([inc2.version.key]);
    expect(due.kept.map((k) => k.why)).toEqual(['held']);

    await setIncidentHold(store, root, { incident: 'INC1', reason: 'case closed', on: false }, actor);
    const after = await expireObjects(store, root, 'schedule', actor);
    expect(after.deleted.map((o) => o.key)).toEqual([inc1.version.key]);
    expect(await store.head(inc1.version.key, inc1.version.versionId)).toBeNull();

    const log = await verifyCustodyLog(store, root, loadPublicKey(pair.publicPem));
    expect(log.problems).toEqual([]);
    expect(log.records.map((r) => r.record.action)).toEqual(['hold-set', 'expire', 'hold-release', 'expire']);

    // A custody record cannot be deleted either (locked for a day).
    const [rec] = log.records;
    const recKey = `bodycam/custody/pz5339/${String(rec?.record.seq).padStart(12, '0')}.json`;
    const versions = [];
    for await (const v of store.listVersions(recKey)) versions.push(v);
    const refused = await raw
      .send(new DeleteObjectCommand({ Bucket: BUCKET, Key: recKey, VersionId: versions[0]?.versionId }))
      .then(
        () => 'accepted',
        (e: Error) => e.name,
      );
    expect(refused).toBe('AccessDenied');

    // The command line verifies the same log against the public key, and fails against another.
    const creds = credentialsFile(dir, ceph.admin);
    writeFileSync(path.join(dir, 'pub.pem'), pair.publicPem);
    writeFileSync(path.join(dir, 'other.pem'), generateDeviceKeys().publicPem);
    const args = (key: string) => [
      'src/cli/bodycam.ts',
      'vault',
      'log',
      '--store',
      `s3://${BUCKET}/bodycam`,
      '--s3-endpoint',
      ceph.endpoint,
      '--s3-credentials',
      creds,
      '--organisation',
      'pz5339',
      '--public-key',
      path.join(dir, key),
    ];
    const ok = await run(process.execPath, args('pub.pem'));
    expect(ok.stdout).toContain('custody log verifies: 4 record(s)');
    const bad = await run(process.execPath, args('other.pem')).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    expect(bad).toBe(1);
  }, 120_000);
});
