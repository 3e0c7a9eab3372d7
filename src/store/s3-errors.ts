/**
 * S3 errors as BodycamErrors, decided from the error's name and HTTP status (never its message: Ceph RGW often sends
 * no message, which the SDK reports as "UnknownError"). Pure, so the table of cases is tested without a store.
 */
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';

/** What an S3 client error says: its name (S3 error code or Node error), HTTP status, system error code, message. */
export interface S3ErrorFacts {
  name: string;
  status: number | undefined;
  errno: string | undefined;
  message: string;
}

/** Which STORE_ code an S3 error is. */
export function storeErrorCode(f: S3ErrorFacts): ErrorCode {
  if (f.name === 'NoSuchBucket') return ErrorCode.STORE_BUCKET;
  if (f.name === 'BadDigest' || f.name === 'XAmzContentSHA256Mismatch' || f.name === 'InvalidDigest') {
    return ErrorCode.STORE_MISMATCH;
  }
  if (f.status === 403 || f.name === 'AccessDenied' || f.name === 'InvalidAccessKeyId') return ErrorCode.STORE_DENIED;
  if (f.name === 'SignatureDoesNotMatch') return ErrorCode.STORE_DENIED;
  // No HTTP answer at all (refused, reset, timed out), or the service said it cannot serve now.
  if (f.status === undefined || f.status >= 500 || f.name === 'TimeoutError' || f.name === 'RequestTimeout') {
    return ErrorCode.STORE_UNREACHABLE;
  }
  return ErrorCode.STORE_FAILED;
}

/** The facts of an error thrown by the SDK (or by Node under it). */
export function s3ErrorFacts(e: unknown): S3ErrorFacts {
  const o = (typeof e === 'object' && e !== null ? e : {}) as {
    name?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  return {
    name: typeof o.name === 'string' ? o.name : 'Error',
    status: o.$metadata?.httpStatusCode,
    errno: errnoCode(e),
    message: typeof o.message === 'string' ? o.message : String(e),
  };
}

/** A BodycamError for `e`, naming the operation, the bucket and key, and what to do. */
export function storeError(
  e: unknown,
  op: string,
  bucket: string,
  key: string | undefined,
  where: string,
): BodycamError {
  if (e instanceof BodycamError) return e;
  const f = s3ErrorFacts(e);
  const code = storeErrorCode(f);
  const what = `${op}${key === undefined ? '' : ` of ${key}`} in ${where}`;
  const said = [
    f.name,
    f.errno,
    f.status === undefined ? undefined : `HTTP ${f.status}`,
    f.message === 'UnknownError' ? undefined : f.message,
  ]
    .filter((x) => x !== undefined && x !== '')
    .join(', ');
  const hint: Record<ErrorCode, string> = {
    [ErrorCode.STORE_BUCKET]: `bucket ${bucket} does not exist; create it with Object Lock enabled`,
    [ErrorCode.STORE_MISMATCH]: 'the store received other bytes than were sent; nothing was stored',
    [ErrorCode.STORE_DENIED]: 'the store refused it',
    [ErrorCode.STORE_UNREACHABLE]: 'the store did not answer (or could not serve now); try again later',
  } as Record<ErrorCode, string>;
  return new BodycamError(
    code,
    `${what} failed (${said}): ${hint[code] ?? 'the store refused the request'}`,
    {
      op,
      bucket,
      key,
      s3: f.name,
      status: f.status,
    },
    { cause: e },
  );
}
