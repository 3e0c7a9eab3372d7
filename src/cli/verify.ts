import type { KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadPublicKey } from '../evidence/keys.ts';
import { formatReport, verifyDirectory } from '../evidence/verify.ts';
import { BodycamError, ErrorCode, isBodycamError } from '../lib/errors.ts';

export interface VerifyOptions {
  json: boolean;
  /** `DEVICE=FILE`, or `FILE` for a single device's directory. */
  key: string[];
}

/**
 * `bodycam verify PATH`: checks a camera's storage directory or a dock's evidence directory offline, with public
 * keys only. Exit 0 when everything verifies, 1 when anything does not (the report names each segment and why),
 * 2 on a usage error.
 */
export async function verifyCommand(root: string, opts: VerifyOptions): Promise<void> {
  const publicKeys = keysFromSpecs(root, opts.key);
  let report: Awaited<ReturnType<typeof verifyDirectory>>;
  try {
    report = await verifyDirectory(root, { publicKeys });
  } catch (e) {
    if (isBodycamError(e, 'EVIDENCE_UNREADABLE')) throw new BodycamError(ErrorCode.USAGE, e.message);
    throw e;
  }
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  process.exitCode = report.ok ? 0 : 1;
}

/** Public keys from `--key DEVICE=FILE` or `--key FILE` (the single device of `root`). */
export function keysFromSpecs(root: string, specs: readonly string[]): Map<string, KeyObject> {
  const publicKeys = new Map<string, KeyObject>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const file = eq < 0 ? spec : spec.slice(eq + 1);
    const device = eq < 0 ? singleDevice(root) : spec.slice(0, eq);
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (e) {
      throw new BodycamError(ErrorCode.USAGE, `cannot read the key ${file}: ${(e as Error).message}`);
    }
    try {
      publicKeys.set(device, loadPublicKey(pem));
    } catch (e) {
      throw new BodycamError(ErrorCode.USAGE, `${file} is not a device public key: ${(e as Error).message}`);
    }
  }
  return publicKeys;
}

/** The device id of a single camera's storage directory, from its manifests (for `--key FILE`). */
function singleDevice(root: string): string {
  const footage = path.join(root, 'footage');
  try {
    for (const incident of readdirSync(footage)) {
      for (const name of readdirSync(path.join(footage, incident))) {
        if (!name.endsWith('.manifest.json')) continue;
        const env = JSON.parse(readFileSync(path.join(footage, incident, name), 'utf8')) as {
          payload?: { device?: unknown };
        };
        if (typeof env.payload?.device === 'string') return env.payload.device;
      }
    }
  } catch {
    // fall through
  }
  throw new BodycamError(
    ErrorCode.USAGE,
    `cannot tell which device --key belongs to in ${root}; give it as --key DEVICE=FILE`,
  );
}
