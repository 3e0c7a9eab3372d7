/**
 * `s3://BUCKET/PREFIX` locations and the names inside them. Bucket names follow S3's rules (3–63 lower-case letters,
 * digits, dots and dashes, starting and ending with a letter or digit, not an IP address); a prefix is a list of
 * path segments that are names (letters, digits, `.`, `_`, `-`; not `.` or `..`), joined by `/`, possibly empty.
 */

export interface S3Location {
  bucket: string;
  /** No leading or trailing slash; '' for the bucket's root. */
  prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** One segment of a key: what the evidence layout uses for organisations, devices, incidents and files. */
export const KEY_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Why `name` is not a bucket name, or undefined when it is one. */
export function bucketProblem(name: string): string | undefined {
  if (!BUCKET.test(name)) {
    return `"${name}" is not a bucket name (3–63 lower-case letters, digits, "." and "-", starting and ending with a letter or digit)`;
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name) || name.includes('..')) return `"${name}" is not a bucket name`;
  return undefined;
}

/** Why `prefix` is not a key prefix, or undefined when it is one ('' is). */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  const bad = prefix.split('/').find((seg) => !KEY_SEGMENT.test(seg) || seg === '.' || seg === '..');
  if (bad === undefined) return undefined;
  return `"${prefix}" is not a key prefix: each part between "/" must be a name (letters, digits, ".", "_", "-"), got "${bad}"`;
}

/** Parses `s3://BUCKET[/PREFIX][/]`; a message naming what is wrong otherwise. */
export function parseS3Url(text: string): { ok: S3Location } | { error: string } {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(text);
  if (m === null) return { error: `"${text}" is not an s3://BUCKET/PREFIX location` };
  const bucket = m[1] ?? '';
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  const problem = bucketProblem(bucket) ?? prefixProblem(prefix);
  return problem === undefined ? { ok: { bucket, prefix } } : { error: problem };
}

/** Why `endpoint` is not an http(s) URL of an S3 service, or undefined. */
export function endpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `"${endpoint}" is not a URL (e.g. https://s3.example.org or http://127.0.0.1:7480)`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${endpoint}" must start with https:// or http://`;
  if (url.username !== '' || url.password !== '')
    return `"${endpoint}" must not carry credentials (use the credentials file)`;
  if (url.search !== '' || url.hash !== '' || (url.pathname !== '/' && url.pathname !== '')) {
    return `"${endpoint}" must be the service's root URL, without a path (the bucket is given separately)`;
  }
  return undefined;
}
