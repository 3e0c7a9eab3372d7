/**
 * `bodycam verify s3://BUCKET/PREFIX --s3-endpoint URL --s3-credentials FILE --organisation ORG`: the organisation's
 * evidence in the bucket, copied into a private temporary directory in a dock's evidence layout (src/vault/bucket-view.ts)
 * and verified there by the same verifier, with the same keys from outside; what only the bucket shows (an object
 * rewritten or hidden, one not locked, one whose bytes differ from the SHA-256 it was stored with, audit batches
 * that do not continue one another) is reported beside it. The report names the bucket, never the copy.
 */
import type { GivenKeys } from '../evidence/anchors.ts';
import { type VerifyReport, verifyDirectory } from '../evidence/verify.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { loadCredentials } from '../store/credentials.ts';
import { viewBucket } from '../vault/bucket-view.ts';
import { type StoreFlags, storeFromFlags } from './dock-store.ts';

export async function verifyBucket(flags: StoreFlags & { store: string }, keys: GivenKeys): Promise<VerifyReport> {
  const section = storeFromFlags(flags, process.cwd());
  if (section.kind !== 's3') throw new BodycamError(ErrorCode.USAGE, 'verify: give s3://BUCKET/PREFIX');
  const credentials = await loadCredentials(section.credentialsFile);
  const { S3ObjectStore } = await import('../store/s3.ts');
  const store = new S3ObjectStore({
    endpoint: section.endpoint,
    region: section.region ?? 'us-east-1',
    bucket: section.bucket,
    credentials,
  });
  const root = { prefix: section.prefix, organisation: section.organisation };
  const where = `s3://${section.bucket}/${section.prefix === '' ? '' : `${section.prefix}/`}${section.organisation}/`;
  try {
    const view = await viewBucket(store, root);
    try {
      const report = await verifyDirectory(view.evidence, keys);
      const copied = [...view.objects.values()].reduce((n, keys) => n + keys.length, 0);
      report.root = `${where} at ${section.endpoint}`;
      report.layout = {
        kind: report.layout.kind,
        seen: [
          `${copied} object(s) read from the bucket; audit batches joined as audit.jsonl, docking records as dockings.jsonl`,
        ],
        evidence: where,
      };
      report.findings.unshift(...view.findings);
      report.ok = report.findings.every((f) => f.severity !== 'error');
      return report;
    } finally {
      await view.remove();
    }
  } finally {
    store.close();
  }
}
