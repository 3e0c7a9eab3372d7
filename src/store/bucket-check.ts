/**
 * The start-up check of the evidence bucket: it exists, Object Lock is enabled (which also makes it versioned), it
 * is versioned, and it has a default retention rule in COMPLIANCE mode (every object this code writes carries its
 * own retention; the default is the net under anything written another way). Each problem is named with its fix.
 */
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import type { BucketFacts, ObjectStore } from './port.ts';

/** What is wrong with a bucket for evidence, each with the fix; empty when nothing is. Pure. */
export function bucketProblems(bucket: string, f: BucketFacts, minimumDays: number): string[] {
  if (!f.exists) {
    return [
      `bucket ${bucket} does not exist: create it with Object Lock enabled (aws s3api create-bucket --bucket ${bucket} ` +
        '--object-lock-enabled-for-bucket); Object Lock cannot be added to an existing bucket on every store',
    ];
  }
  const problems: string[] = [];
  if (!f.objectLockEnabled) {
    problems.push(
      `bucket ${bucket} has no Object Lock: evidence could be deleted or overwritten; create a new bucket with ` +
        'Object Lock enabled (--object-lock-enabled-for-bucket) and point the dock at it',
    );
  }
  if (f.versioning !== 'Enabled') {
    problems.push(
      `bucket ${bucket} versioning is ${f.versioning === 'Off' ? 'off' : 'suspended'}: an overwrite would replace ` +
        `evidence; enable it (aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled)`,
    );
  }
  const rule = `aws s3api put-object-lock-configuration --bucket ${bucket} --object-lock-configuration '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"COMPLIANCE","Days":${minimumDays}}}}'`;
  if (f.objectLockEnabled && f.defaultRetention === null) {
    problems.push(`bucket ${bucket} has no default retention rule: add one in COMPLIANCE mode (${rule})`);
  } else if (f.defaultRetention !== null && f.defaultRetention.mode !== 'COMPLIANCE') {
    problems.push(
      `bucket ${bucket}'s default retention is ${f.defaultRetention.mode}, which privileged users can lift: make it COMPLIANCE (${rule})`,
    );
  }
  return problems;
}

/** Checks `store`'s bucket; STORE_BUCKET listing every problem, or STORE_UNREACHABLE when it does not answer. */
export async function checkBucket(store: ObjectStore, bucket: string, minimumDays: number): Promise<BucketFacts> {
  const facts = await store.bucketFacts();
  const problems = bucketProblems(bucket, facts, minimumDays);
  if (problems.length > 0) {
    throw new BodycamError(
      ErrorCode.STORE_BUCKET,
      `${store.describe} cannot hold evidence:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      { bucket, problems },
    );
  }
  return facts;
}
