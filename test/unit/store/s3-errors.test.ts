import { describe, expect, it } from 'vitest';
import { type S3ErrorFacts, s3ErrorFacts, storeError, storeErrorCode } from '../../../src/store/s3-errors.ts';

const f = (name: string, status: number | undefined, errno?: string): S3ErrorFacts => ({
  name,
  status,
  errno,
  message: 'UnknownError',
});

describe('storeErrorCode', () => {
  it.each([
    [f('NoSuchBucket', 404), 'STORE_BUCKET'],
    [f('BadDigest', 400), 'STORE_MISMATCH'],
    [f('XAmzContentSHA256Mismatch', 400), 'STORE_MISMATCH'],
    [f('AccessDenied', 403), 'STORE_DENIED'],
    [f('InvalidAccessKeyId', 403), 'STORE_DENIED'],
    [f('SignatureDoesNotMatch', 403), 'STORE_DENIED'],
    [f('Error', undefined, 'ECONNREFUSED'), 'STORE_UNREACHABLE'],
    [f('TimeoutError', undefined), 'STORE_UNREACHABLE'],
    [f('InternalError', 500), 'STORE_UNREACHABLE'],
    [f('SlowDown', 503), 'STORE_UNREACHABLE'],
    [f('NoSuchKey', 404), 'STORE_FAILED'],
    [f('InvalidRequest', 400), 'STORE_FAILED'],
  ])('%j → %s', (facts, code) => {
    expect(storeErrorCode(facts)).toBe(code);
  });
});

describe('storeError', () => {
  it('names the operation, key and store, and keeps no "UnknownError" noise', () => {
    const sdkError = Object.assign(new Error('UnknownError'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const e = storeError(sdkError, 'DeleteObject', 'evidence', 'pz/cam/x', 's3://evidence at http://127.0.0.1:1');
    expect(e.code).toBe('STORE_DENIED');
    expect(e.message).toBe(
      'DeleteObject of pz/cam/x in s3://evidence at http://127.0.0.1:1 failed (AccessDenied, HTTP 403): the store refused it',
    );
    expect(e.cause).toBe(sdkError);
  });

  it('reads a Node connection error', () => {
    const sys = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(s3ErrorFacts(sys)).toEqual({
      name: 'Error',
      status: undefined,
      errno: 'ECONNREFUSED',
      message: sys.message,
    });
    expect(storeError(sys, 'PutObject', 'b', 'k', 'w').code).toBe('STORE_UNREACHABLE');
  });
});
