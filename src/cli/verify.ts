import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { GivenKeys } from '../evidence/anchors.ts';
import { loadPublicKey } from '../evidence/keys.ts';
import { formatReport, verifyDirectory } from '../evidence/verify.ts';
import { BodycamError, ErrorCode, isBodycamError } from '../lib/errors.ts';
import { DEVICE_ID } from '../lib/ids.ts';
import type { StoreFlags } from './dock-store.ts';

export interface VerifyOptions extends StoreFlags {
  json: boolean;
  /** `DEVICE=FILE`, or `FILE` for a tree of one device. */
  key: string[];
  /** The dock's public key (its `identity/dock.pub`), for receipts and docking records. */
  dockKey: string[];
  /** With s3://…: the custody log's public key, from provisioning. */
  custodyKey?: string;
}

/**
 * `bodycam verify PATH`: checks a camera directory, a camera's storage, a dock directory (against its enrolment
 * records) or a dock's evidence directory offline, with public keys given from outside it. Exit 0 when everything
 * verifies, 1 when anything does not (the report names each file and why), 2 on a usage error (including a path that
 * is none of those layouts, or a key file inside the evidence).
 */
export async function verifyCommand(path_: string, opts: VerifyOptions): Promise<void> {
  if (!path_.startsWith('s3://')) onlyForBuckets(opts);
  const keys = givenKeys(opts.key, opts.dockKey);
  let report: Awaited<ReturnType<typeof verifyDirectory>>;
  try {
    report = path_.startsWith('s3://')
      ? await (await import('./verify-bucket.ts')).verifyBucket({ ...opts, store: path_ }, keys, custodyKeyOf(opts))
      : await verifyDirectory(path_, keys);
  } catch (e) {
    if (isBodycamError(e, 'EVIDENCE_UNREADABLE') || isBodycamError(e, 'EVIDENCE_KEY')) {
      throw new BodycamError(ErrorCode.USAGE, e.message);
    }
    throw e;
  }
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  process.exitCode = report.ok ? 0 : 1;
}

/** The S3 flags name a bucket: with a directory they are a mistake, said as one. */
export function onlyForBuckets(opts: StoreFlags & { custodyKey?: string }): void {
  const given = (['s3Endpoint', 's3Credentials', 's3Region', 'organisation', 'custodyKey'] as const).filter(
    (k) => opts[k] !== undefined,
  );
  if (given.length > 0) {
    const names = given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ');
    throw new BodycamError(ErrorCode.USAGE, `${names} only go with an s3://BUCKET/PREFIX path`);
  }
}

/** `--custody-key FILE`: the custody log's public key (SPKI PEM) from provisioning, or undefined when not given. */
export function custodyKeyOf(opts: { custodyKey?: string }): KeyObject | undefined {
  return opts.custodyKey === undefined ? undefined : readKey(opts.custodyKey, 'custody log public key');
}

function readKey(file: string, what: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BodycamError(ErrorCode.USAGE, `cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return loadPublicKey(pem);
  } catch (e) {
    throw new BodycamError(ErrorCode.USAGE, `${file} is not a ${what}: ${(e as Error).message}`);
  }
}

/**
 * The keys of `--key DEVICE=FILE` / `--key FILE` (one, for a tree of one device) and `--dock-key FILE`: trust
 * anchors from outside the checked tree (the verifier refuses a key file inside the evidence).
 */
export function givenKeys(specs: readonly string[], dockSpecs: readonly string[]): GivenKeys {
  const devices = new Map<string, KeyObject>();
  const files: string[] = [];
  let single: KeyObject | undefined;
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const device = eq > 0 ? spec.slice(0, eq) : '';
    if (DEVICE_ID.test(device) && eq < spec.length - 1) {
      if (devices.has(device)) throw new BodycamError(ErrorCode.USAGE, `--key ${device}=… is given twice`);
      devices.set(device, readKey(spec.slice(eq + 1), 'device public key'));
      files.push(spec.slice(eq + 1));
    } else {
      if (single !== undefined) {
        throw new BodycamError(ErrorCode.USAGE, 'only one --key FILE without a device name; give --key DEVICE=FILE');
      }
      single = readKey(spec, 'device public key');
      files.push(spec);
    }
  }
  const docks = dockSpecs.map((file) => readKey(file, 'dock public key'));
  files.push(...dockSpecs);
  return { devices, docks, files, ...(single === undefined ? {} : { single }) };
}
