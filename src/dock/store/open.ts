/**
 * The evidence store dock.json asks for: the filesystem one (DOCKDIR/evidence), or the S3 one, whose client is
 * loaded only then. The bucket is checked at start: a bucket that cannot hold evidence (missing, no Object Lock,
 * not versioned, no default retention) stops the dock with an error naming each problem and its fix; a store that
 * does not answer is logged, and the dock starts anyway (what it cannot store stays at the dock, and on the camera,
 * until the store answers), and the bucket is checked before the first write instead.
 */
import path from 'node:path';
import { ErrorCode, isBodycamError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { checkBucket } from '../../store/bucket-check.ts';
import { openS3Store } from '../../store/open-s3.ts';
import type { DockLayout, StoreConfig } from '../layout.ts';
import { type EvidenceStore, FilesystemEvidenceStore } from '../sync/evidence-store.ts';
import { S3EvidenceStore } from './s3-evidence-store.ts';

export interface OpenedStore {
  store: EvidenceStore;
  /** Where it keeps evidence, for logs and status. */
  where: string;
  close(): void;
}

export async function openEvidenceStore(config: StoreConfig, layout: DockLayout, log: Logger): Promise<OpenedStore> {
  if (config.kind === 'filesystem') {
    return { store: new FilesystemEvidenceStore(layout.evidenceDir), where: layout.evidenceDir, close: () => {} };
  }
  const objects = await openS3Store({
    endpoint: config.endpoint,
    region: config.region,
    bucket: config.bucket,
    credentialsFile: path.resolve(layout.dir, config.credentialsFile),
    profile: config.profile,
  });
  let checked: Promise<void> | null = null;
  const bucketChecked = (): Promise<void> => {
    checked ??= checkBucket(objects, config.bucket, config.minimumDays).then(
      () => undefined,
      (e: unknown) => {
        checked = null; // asked again at the next write
        throw e;
      },
    );
    return checked;
  };
  try {
    await bucketChecked();
  } catch (e) {
    if (!isBodycamError(e, ErrorCode.STORE_UNREACHABLE)) {
      objects.close();
      throw e;
    }
    log.warn(
      { store: objects.describe, err: e },
      'the evidence store does not answer: its bucket is checked before the first write',
    );
  }
  const prefix = config.prefix === '' ? '' : `${config.prefix}/`;
  return {
    store: new S3EvidenceStore({
      store: objects,
      root: { prefix: config.prefix, organisation: config.organisation },
      policy: { minimumDays: config.minimumDays, deleteAfterMonths: config.deleteAfterMonths },
      bucketChecked,
    }),
    where: `s3://${config.bucket}/${prefix}${config.organisation}/ at ${config.endpoint}`,
    close: () => objects.close(),
  };
}
