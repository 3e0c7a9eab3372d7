/**
 * An S3 store from where it is and the file its keys are in: the one way every command and the dock open one. The
 * AWS SDK is loaded only here, when a store is opened, so commands that need none never pay for it.
 */
import { loadCredentials } from './credentials.ts';
import type { S3ObjectStore } from './s3.ts';

export interface S3Target {
  endpoint: string;
  /** Default us-east-1 (what Ceph's gateway and most S3 services accept when they do not care). */
  region?: string;
  bucket: string;
  /** An AWS shared-credentials file, as an absolute path or relative to the working directory. */
  credentialsFile: string;
  profile?: string;
}

export async function openS3Store(t: S3Target): Promise<S3ObjectStore> {
  const credentials = await loadCredentials(t.credentialsFile, t.profile);
  const { S3ObjectStore } = await import('./s3.ts');
  return new S3ObjectStore({ endpoint: t.endpoint, region: t.region ?? 'us-east-1', bucket: t.bucket, credentials });
}
