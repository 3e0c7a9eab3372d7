import type { KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
 * `bodycam verify PATH`: checks a camera's storage directory, a dock directory (its evidence, against the keys
 * enrolled there) or an evidence directory offline, with public keys only. Exit 0 when everything verifies, 1 when anything does not (the report names each segment and why),
 * 2 on a usage error.
 */
export async function verifyCommand(path_: string, opts: VerifyOptions): Promise<void> {
  // A dock directory: its evidence store, checked against the keys recorded at enrollment (not found in the store).
  const dock = existsSync(path.join(path_, 'dock.json'));
  const root = dock ? path.join(path_, 'evidence') : path_;
  const publicKeys = dock ? enrolledKeys(path_) : new Map<string, KeyObject>();
  for (const [device, key] of keysFromSpecs(root, opts.key)) publicKeys.set(device, key);
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

/** The signing keys of the cameras enrolled at a dock (DOCKDIR/devices/<id>/device.pub). */
function enrolledKeys(dockDir: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const devices = path.join(dockDir, 'devices');
  for (const id of existsSync(devices) ? readdirSync(devices) : []) {
    const file = path.join(devices, id, 'device.pub');
    if (existsSync(file)) keys.set(id, loadPublicKey(readFileSync(file, 'utf8')));
  }
  return keys;
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
