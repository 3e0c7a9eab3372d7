/**
 * The `store` section of dock.json from `bodycam dock init`'s flags: the filesystem by default, or
 * `--store s3://BUCKET/PREFIX --s3-endpoint URL --s3-credentials FILE --organisation ORG [--s3-region R]`.
 * Pure: a USAGE error names the flag and what to give.
 */
import path from 'node:path';
import { ORGANISATION } from '../dock/layout.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { endpointProblem, parseS3Url } from '../store/url.ts';

export interface StoreFlags {
  store?: string;
  s3Endpoint?: string;
  s3Credentials?: string;
  s3Region?: string;
  organisation?: string;
}

/** The section as written to dock.json; the schema fills in the rest (region, profile, retention) with defaults. */
export type StoreSection =
  | { kind: 'filesystem' }
  | {
      kind: 's3';
      endpoint: string;
      bucket: string;
      prefix: string;
      region?: string;
      credentialsFile: string;
      organisation: string;
    };

const usage = (message: string): BodycamError => new BodycamError(ErrorCode.USAGE, message);

/** The store section for `flags`; `cwd` resolves a relative credentials path (dock.json keeps it absolute). */
export function storeFromFlags(flags: StoreFlags, cwd: string): StoreSection {
  const s3Only = (['s3Endpoint', 's3Credentials', 's3Region', 'organisation'] as const).filter(
    (k) => flags[k] !== undefined,
  );
  if (flags.store === undefined || flags.store === 'filesystem') {
    if (s3Only.length > 0) {
      const names = s3Only.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ');
      throw usage(`${names} only go with --store s3://BUCKET/PREFIX`);
    }
    return { kind: 'filesystem' };
  }
  const url = parseS3Url(flags.store);
  if ('error' in url) throw usage(`--store: ${url.error}; give "filesystem" or s3://BUCKET/PREFIX`);
  const missing = [
    ['--s3-endpoint URL', flags.s3Endpoint],
    ['--s3-credentials FILE', flags.s3Credentials],
    ['--organisation ORG', flags.organisation],
  ].filter(([, v]) => v === undefined);
  if (missing.length > 0) throw usage(`--store ${flags.store} needs ${missing.map(([f]) => f).join(', ')}`);
  const endpoint = flags.s3Endpoint ?? '';
  const organisation = flags.organisation ?? '';
  const problem = endpointProblem(endpoint);
  if (problem !== undefined) throw usage(`--s3-endpoint: ${problem}`);
  if (!ORGANISATION.test(organisation)) {
    throw usage(`--organisation: "${organisation}" must be letters, digits, "-" and "_" (at most 64), e.g. pz5339`);
  }
  return {
    kind: 's3',
    endpoint,
    bucket: url.ok.bucket,
    prefix: url.ok.prefix,
    ...(flags.s3Region === undefined ? {} : { region: flags.s3Region }),
    credentialsFile: path.resolve(cwd, flags.s3Credentials ?? ''),
    organisation,
  };
}
