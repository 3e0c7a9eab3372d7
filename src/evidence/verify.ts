/**
 * The offline verifier: checks a directory of evidence with nothing but the devices' public keys, without
 * decrypting anything. It accepts
 * - a camera's storage directory: `device.pub`, `audit.jsonl`, `footage/<incident>/<NNNN>.mp4.age` with
 *   `<NNNN>.mp4.age.manifest.json` beside each, and `footage/<incident>/incident.manifest.json` once closed;
 * - a dock's evidence directory: one subdirectory per device id, laid out the same way but with the incident
 *   directories directly in it (`<device>/<incident>/…`, `<device>/device.pub`, `<device>/audit.jsonl`).
 * A directory holding `device.pub`, `audit.jsonl` or `footage/` is one device; any other is a dock's directory.
 *
 * The device id of a dock's subdirectory is its name; that of a single device directory is the `device` most of its
 * manifests name. A key given in `options.publicKeys` for that id wins over `device.pub`.
 */
import type { KeyObject } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { verifySignature } from './envelope.ts';
import { keyId, loadPublicKey } from './keys.ts';
import { DOCK_KEY_FILE } from './receipt.ts';
import { DeviceFindings, type DeviceResult, type VerifyReport } from './report.ts';
import { type ManifestRecord, relJoin, scanIncidents, subdirectories } from './scan.ts';
import { checkAudit, type DeviceKey } from './verify-audit.ts';
import { checkChain } from './verify-chain.ts';
import { checkIncident } from './verify-incident.ts';

/** Re-exported so that `verify.ts` is the verifier's one entry point. */
export {
  type DeviceResult,
  type Finding,
  type FindingCode,
  formatReport,
  type IncidentResult,
  type Note,
  type SegmentResult,
  type VerifyReport,
} from './report.ts';

/** The file holding a device's public key (SPKI PEM) in its directory. */
export const DEVICE_KEY_FILE = 'device.pub';

/** Options of `verifyDirectory`. */
export interface VerifyOptions {
  /** Public keys by device id, obtained independently of the checked directory (e.g. from provisioning records). */
  publicKeys?: ReadonlyMap<string, KeyObject>;
}

interface Location {
  abs: string;
  rel: string;
  /** Known from the layout (a dock's subdirectory), else null. */
  id: string | null;
}

function unreadable(message: string, root: string, cause?: unknown): BodycamError {
  return new BodycamError(ErrorCode.EVIDENCE_UNREADABLE, message, { root }, cause === undefined ? {} : { cause });
}

async function locations(root: string): Promise<Location[]> {
  let names: string[];
  try {
    if (!(await stat(root)).isDirectory()) throw unreadable(`${root} is not a directory`, root);
    names = await readdir(root);
  } catch (e) {
    if (e instanceof BodycamError) throw e;
    throw unreadable(`${root} cannot be read (${errnoCode(e) ?? String(e)})`, root, e);
  }
  if ([DEVICE_KEY_FILE, 'audit.jsonl', 'footage'].some((n) => names.includes(n))) {
    return [{ abs: root, rel: '', id: null }];
  }
  const devices = await subdirectories(root);
  if (devices.length === 0) {
    throw unreadable(
      `${root} holds no evidence: expected a camera's storage directory (device.pub, audit.jsonl, footage/) or ` +
        "a dock's evidence directory (one subdirectory per device)",
      root,
    );
  }
  return devices.map((name) => ({ abs: path.join(root, name), rel: name, id: name }));
}

function givenKeys(keys: ReadonlyMap<string, KeyObject> | undefined): Map<string, { key: KeyObject; id: string }> {
  const out = new Map<string, { key: KeyObject; id: string }>();
  for (const [device, key] of keys ?? []) {
    if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
      throw new BodycamError(
        ErrorCode.EVIDENCE_KEY,
        `the key given for device ${device} is not an Ed25519 public key`,
        {
          device,
        },
      );
    }
    out.set(device, { key, id: keyId(key) });
  }
  return out;
}

/** The `device` most manifests name; on a tie, that of the manifest lowest in the chain. */
function majorityDevice(records: readonly ManifestRecord[]): string | null {
  const counts = new Map<string, { n: number; low: number }>();
  for (const r of records) {
    const { device, chainSeq } = r.env.payload;
    const c = counts.get(device) ?? { n: 0, low: chainSeq };
    counts.set(device, { n: c.n + 1, low: Math.min(c.low, chainSeq) });
  }
  const ranked = [...counts].sort(([, a], [, b]) => b.n - a.n || a.low - b.low);
  return ranked[0]?.[0] ?? null;
}

async function chooseKey(
  loc: Location,
  given: ReadonlyMap<string, { key: KeyObject; id: string }>,
  f: DeviceFindings,
): Promise<{ source: DeviceResult['keySource']; key: DeviceKey }> {
  const where = { segment: relJoin(loc.rel, DEVICE_KEY_FILE) };
  const mine = given.get(f.device);
  let fromDir: DeviceKey = null;
  try {
    const key = loadPublicKey(await readFile(path.join(loc.abs, DEVICE_KEY_FILE), 'utf8'));
    fromDir = { key, id: keyId(key) };
  } catch (e) {
    const errno = errnoCode(e);
    if (errno !== 'ENOENT') {
      const why = `device.pub is unusable: ${errno ?? (e as Error).message}`;
      if (mine === undefined) f.error('malformed', why, where);
      else f.warn('device-key-differs', why, where);
    }
  }
  if (mine !== undefined) {
    if (fromDir !== null && fromDir.id !== mine.id) {
      const what = `device.pub here is key ${fromDir.id}, not the given key ${mine.id}`;
      f.warn('device-key-differs', `${what}: the key in the directory was replaced, or the wrong key was given`, where);
    }
    return { source: 'given', key: mine };
  }
  if (given.size > 0) {
    f.warn('key-not-given', `no key was given for device ${f.device}; checked against device.pub from the directory`);
  }
  return { source: fromDir === null ? 'none' : 'directory', key: fromDir };
}

function classify(records: readonly ManifestRecord[], key: DeviceKey, owners: Map<string, string>, f: DeviceFindings) {
  for (const r of records) {
    const where = { incident: r.dir, segment: r.target };
    const { device } = r.env.payload;
    if (key !== null && r.env.keyId !== key.id) {
      const owner = owners.get(r.env.keyId);
      const whose = owner === undefined ? `device ${device}` : `device ${owner}, per the given keys`;
      r.status = 'foreign';
      f.error('wrong-device', `signed by key ${r.env.keyId} (${whose}), not by ${f.device}'s key ${key.id}`, where);
    } else if (key !== null && !verifySignature(r.env, key.key)) {
      r.status = 'bad';
      f.error('bad-signature', 'the signature does not match the manifest: altered after signing', where);
    } else if (device !== f.device) {
      r.status = 'foreign';
      f.error('wrong-device', `a manifest of device ${device}, not of ${f.device}`, where);
    } else {
      r.status = key === null ? 'unchecked' : 'valid';
    }
  }
}

/** The dock's public key beside a camera's evidence (for offload receipts), or null. */
async function readDockKey(dir: string): Promise<KeyObject | null> {
  try {
    return loadPublicKey(await readFile(path.join(dir, DOCK_KEY_FILE), 'utf8'));
  } catch {
    return null;
  }
}

async function verifyDevice(loc: Location, given: ReadonlyMap<string, { key: KeyObject; id: string }>) {
  const f = new DeviceFindings(loc.id ?? path.basename(path.resolve(loc.abs)));
  const scans = await scanIncidents(loc.abs, loc.rel, f);
  const records = scans.flatMap((s) => [...s.segments, ...(s.closing === null ? [] : [s.closing])]);
  if (loc.id === null) f.device = majorityDevice(records) ?? f.device;
  const { source, key } = await chooseKey(loc, given, f);
  const owners = new Map([...given].map(([device, k]) => [k.id, device]));
  classify(records, key, owners, f);
  const chained = records.filter((r) => r.status !== 'foreign');
  const lowest = checkChain(chained, f);
  const contents = new Map<string, string>();
  for (const r of chained) if (r.env.payload.kind === 'segment') contents.set(r.env.payload.segment.sha256, r.target);
  const incidents = [];
  const dockKey = await readDockKey(loc.abs);
  for (const scan of scans) incidents.push(await checkIncident(scan, { f, lowest, contents, dockKey }));
  const auditEntries = await checkAudit(loc.abs, loc.rel, key, owners, f);
  if (key === null && (records.length > 0 || auditEntries > 0)) {
    f.error('unknown-key', `no public key for device ${f.device} (none given, no device.pub): signatures unchecked`);
  }
  const result: DeviceResult = {
    device: f.device,
    keySource: source,
    keyId: key?.id ?? null,
    incidents,
    manifests: chained.length,
    auditEntries,
  };
  return { result, findings: f.findings(), notes: f.notes() };
}

/**
 * Verifies every device in `root` (see the module comment for the layouts) and reports what it found. Throws
 * EVIDENCE_UNREADABLE when `root` is not a readable directory holding evidence, EVIDENCE_KEY when a given key is
 * not an Ed25519 public key; everything wrong inside the evidence is a finding, never an exception. Segment files
 * are hashed as streams, one at a time.
 */
export async function verifyDirectory(root: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const given = givenKeys(options.publicKeys);
  const report: VerifyReport = { ok: true, root: path.resolve(root), devices: [], findings: [], notes: [] };
  for (const loc of await locations(root)) {
    const { result, findings, notes } = await verifyDevice(loc, given);
    report.devices.push(result);
    report.findings.push(...findings);
    report.notes.push(...notes);
  }
  report.ok = report.findings.every((f) => f.severity !== 'error');
  return report;
}
