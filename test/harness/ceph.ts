/**
 * The real object store for integration tests: a single-node Ceph cluster with the RADOS Gateway
 * (scripts/ceph/cluster.ts), one per test file (~3 s to start), plus buckets made as evidence needs them and a raw
 * S3 client as an independent oracle (what the tests read back does not go through the code under test).
 *
 * ```ts
 * const describeCeph = describe.skipIf(CEPH_MISSING.length > 0);
 * let ceph: CephCluster;
 * beforeAll(async () => { ceph = await startCeph(); }, 60_000);
 * afterAll(() => ceph?.stop());
 * await createBucket(ceph, 'evidence');                 // Object Lock, COMPLIANCE 30 days by default
 * const store = objectStore(ceph, 'evidence');          // the S3 driver under test
 * ```
 */
import { accessSync, constants, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CreateBucketCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { CephCluster, S3User } from '../../scripts/ceph/cluster.ts';
import { S3ObjectStore } from '../../src/store/s3.ts';

export { type CephCluster, clusterRss, startCeph } from '../../scripts/ceph/cluster.ts';

const TOOLS = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph', 'setpriv'];

function onPath(tool: string): boolean {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin'];
  return dirs.some((d) => {
    try {
      accessSync(path.join(d, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The cluster's tools that are not installed (scripts/setup.sh installs them). */
export const CEPH_MISSING = TOOLS.filter((t) => !onPath(t));
/** Why Ceph tests are skipped, for the test name. */
export const CEPH_SKIP = `(skipped: ${CEPH_MISSING.join(', ')} missing; scripts/setup.sh installs ceph-mon ceph-osd radosgw ceph-common)`;

/** A raw S3 client for `user` (default the gateway's administrator): the tests' oracle. */
export function rawClient(ceph: CephCluster, user: S3User = ceph.admin): S3Client {
  return new S3Client({
    endpoint: ceph.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
    maxAttempts: 1,
  });
}

export interface BucketOptions {
  /** Object Lock (default true; it also turns versioning on). */
  objectLock?: boolean;
  /** Versioning without Object Lock. */
  versioning?: boolean;
  /** The default retention rule (default COMPLIANCE 30 days; null for none). */
  defaultRetention?: { mode: 'COMPLIANCE' | 'GOVERNANCE'; days: number } | null;
}

/** Creates `name` as `user` (default the administrator). */
export async function createBucket(
  ceph: CephCluster,
  name: string,
  o: BucketOptions = {},
  user?: S3User,
): Promise<void> {
  const s3 = rawClient(ceph, user);
  try {
    const lock = o.objectLock ?? true;
    await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: lock }));
    if (!lock && o.versioning === true) {
      await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    const rule = o.defaultRetention === undefined ? ({ mode: 'COMPLIANCE', days: 30 } as const) : o.defaultRetention;
    if (lock && rule !== null) {
      await s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: name,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: rule.mode, Days: rule.days } },
          },
        }),
      );
    }
  } finally {
    s3.destroy();
  }
}

/** The S3 driver under test on `bucket`, as `user` (default the administrator). */
export function objectStore(ceph: CephCluster, bucket: string, user: S3User = ceph.admin): S3ObjectStore {
  return new S3ObjectStore({
    endpoint: ceph.endpoint,
    region: 'us-east-1',
    bucket,
    credentials: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
  });
}

/** `user`'s keys as an AWS shared-credentials file (0600) in `dir`; returns its path. */
export function credentialsFile(dir: string, user: S3User, name = 's3.credentials'): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    `[default]\naws_access_key_id = ${user.accessKeyId}\naws_secret_access_key = ${user.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  return file;
}
