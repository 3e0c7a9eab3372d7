/**
 * Where evidence lives in an object store (S3): one bucket holds many sites and organisations, each organisation
 * (police zone or service, configured per dock) under its own name, each device under it.
 *
 * ```
 * <prefix>/<organisation>/<device>/device.pub                          the device's signing key (written once)
 * <prefix>/<organisation>/<device>/audit/<first seq>-<last seq>.jsonl  an audit batch (12 digits each, immutable)
 * <prefix>/<organisation>/<device>/dockings/<seq>.json                 one signed docking record (12 digits)
 * <prefix>/<organisation>/<device>/<incident>/<NNNN>.mp4.age           a segment, beside it its .manifest.json
 * <prefix>/<organisation>/<device>/<incident>/incident.manifest.json   the incident's closing manifest
 * ```
 *
 * Objects cannot be appended to, so the audit log is kept as batches that continue one another, and the dock's chain
 * of docking records as one object per record; the names sort in seq order. Builders refuse a component that is not a plain name; `parseEvidenceKey` names everything under a
 * device, and calls anything else unexpected, for a verifier that treats the unexpected as an error.
 */
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { DEVICE_KEY_FILE, INCIDENT_MANIFEST, MANIFEST_SUFFIX } from './paths.ts';

/** Where one dock's evidence goes: the bucket's prefix ('' for none) and its organisation. */
export interface KeyRoot {
  prefix: string;
  organisation: string;
}

export const DEVICE_KEY_OBJECT = DEVICE_KEY_FILE;
export const AUDIT_FOLDER = 'audit';
export const DOCKINGS_FOLDER = 'dockings';
const SEQ_DIGITS = 12;
const AUDIT_BATCH = /^(\d{12})-(\d{12})\.jsonl$/;
const DOCKING_RECORD = /^(\d{12})\.json$/;

/** Why `part` cannot be one component of a key (a plain file name, not reserved), or undefined. */
export function keyPartProblem(part: string): string | undefined {
  if (part === '' || part === '.' || part === '..' || /[/\\\0]/.test(part)) {
    return `"${part}" is not a plain name (no "/", "\\", NUL, not "." or "..")`;
  }
  return undefined;
}

function part(what: string, value: string): string {
  const problem = keyPartProblem(value);
  if (problem !== undefined)
    throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `${what}: ${problem}`, { [what]: value });
  return value;
}

/** The key prefix of everything of `device` (ends in `/`). */
export function deviceKeyPrefix(root: KeyRoot, device: string): string {
  const base = root.prefix === '' ? '' : `${root.prefix}/`;
  return `${base}${part('organisation', root.organisation)}/${part('device', device)}/`;
}

export function deviceKeyObject(root: KeyRoot, device: string): string {
  return `${deviceKeyPrefix(root, device)}${DEVICE_KEY_OBJECT}`;
}

/** An audit batch holding entries `first`…`last` (inclusive). */
export function auditBatchObject(root: KeyRoot, device: string, first: number, last: number): string {
  if (
    !Number.isSafeInteger(first) ||
    !Number.isSafeInteger(last) ||
    first < 0 ||
    last < first ||
    last >= 10 ** SEQ_DIGITS
  ) {
    throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `audit batch ${first}-${last}: not a range of sequence numbers`);
  }
  const pad = (n: number) => String(n).padStart(SEQ_DIGITS, '0');
  return `${deviceKeyPrefix(root, device)}${AUDIT_FOLDER}/${pad(first)}-${pad(last)}.jsonl`;
}

/** The docking record `seq` of the dock's chain of records for `device`. */
export function dockingObject(root: KeyRoot, device: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq >= 10 ** SEQ_DIGITS) {
    throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `docking record ${seq}: not a sequence number`);
  }
  return `${deviceKeyPrefix(root, device)}${DOCKINGS_FOLDER}/${String(seq).padStart(SEQ_DIGITS, '0')}.json`;
}

/** A file of an incident: a segment, its manifest, or the closing manifest. */
export function incidentObject(root: KeyRoot, device: string, incident: string, file: string): string {
  if (incident === AUDIT_FOLDER || incident === DOCKINGS_FOLDER || incident === DEVICE_KEY_OBJECT) {
    throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `incident: "${incident}" is a reserved name`, { incident });
  }
  return `${deviceKeyPrefix(root, device)}${part('incident', incident)}/${part('file', file)}`;
}

export type EvidenceKey =
  | { kind: 'device-key'; device: string }
  | { kind: 'audit'; device: string; first: number; last: number }
  | { kind: 'docking'; device: string; seq: number }
  | { kind: 'segment'; device: string; incident: string; file: string }
  | { kind: 'manifest'; device: string; incident: string; file: string }
  | { kind: 'closing'; device: string; incident: string }
  | { kind: 'unexpected'; key: string; reason: string };

/** What `key` is in the layout under `root` (anything that does not fit is `unexpected`, with why). */
export function parseEvidenceKey(root: KeyRoot, key: string): EvidenceKey {
  const base = `${root.prefix === '' ? '' : `${root.prefix}/`}${root.organisation}/`;
  const unexpected = (reason: string): EvidenceKey => ({ kind: 'unexpected', key, reason });
  if (!key.startsWith(base)) return unexpected(`not under ${base}`);
  const parts = key.slice(base.length).split('/');
  const bad = parts.find((p) => keyPartProblem(p) !== undefined);
  if (bad !== undefined) return unexpected(keyPartProblem(bad) ?? '');
  const [device = '', second = '', third] = parts;
  if (parts.length === 2) {
    return second === DEVICE_KEY_OBJECT ? { kind: 'device-key', device } : unexpected('a file beside the device key');
  }
  if (parts.length !== 3 || third === undefined) return unexpected('not <device>/<incident>/<file>');
  if (second === AUDIT_FOLDER) {
    const m = AUDIT_BATCH.exec(third);
    const first = Number(m?.[1]);
    const last = Number(m?.[2]);
    if (m === null || last < first) return unexpected('not an audit batch <first>-<last>.jsonl');
    return { kind: 'audit', device, first, last };
  }
  if (second === DOCKINGS_FOLDER) {
    const m = DOCKING_RECORD.exec(third);
    return m === null ? unexpected('not a docking record <seq>.json') : { kind: 'docking', device, seq: Number(m[1]) };
  }
  if (second === DEVICE_KEY_OBJECT) return unexpected('under the device key');
  if (third === INCIDENT_MANIFEST) return { kind: 'closing', device, incident: second };
  if (third.endsWith(MANIFEST_SUFFIX)) return { kind: 'manifest', device, incident: second, file: third };
  return { kind: 'segment', device, incident: second, file: third };
}
