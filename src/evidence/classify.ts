/**
 * What a path given to `verify` or `export` is, decided from the set of entries it holds (never from one file):
 * - a camera directory: `config.json` and `identity/` (made by `bodycam init` / `provision`); its evidence is the
 *   storage directory its config names, its device id the config's;
 * - a camera's storage directory: `index.sqlite` with `audit.jsonl` or `footage/`;
 * - a dock directory: `dock.json`, `identity/` and `evidence/`; its evidence is `evidence/`, and its enrolment
 *   records (`devices/<id>/device.pub`, `identity/dock.pub`) are trust anchors for it;
 * - a dock's evidence directory: directories named as device ids, at least one holding a device's evidence.
 * Anything else is EVIDENCE_UNREADABLE (a usage error at the command line) naming what was expected.
 */
import path from 'node:path';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { DEVICE_ID, INCIDENT_ID } from '../lib/ids.ts';
import { parseBoundedJson } from './json.ts';
import {
  AUDIT_LOG,
  CAMERA_CONFIG_FILE,
  DEVICE_KEY_FILE,
  DOCK_CONFIG_FILE,
  DOCK_DEVICES_DIR,
  DOCK_EVIDENCE_DIR,
  DOCKINGS_LOG,
  deviceKeyFile,
  dockKeyFile,
  FOOTAGE_DIR,
  IDENTITY_DIR,
  INDEX_FILE,
} from './paths.ts';
import { type EntryKind, entries, readSmall } from './tree-fs.ts';

export type LayoutKind = 'camera-directory' | 'camera-storage' | 'dock-directory' | 'dock-evidence';

/** An enrolment record at a dock: the public key file and its text. */
export interface EnrolmentRecord {
  file: string;
  pem: string;
}

export interface Layout {
  kind: LayoutKind;
  /** The path given, resolved. */
  root: string;
  /** The directory holding the evidence: the camera's storage, the dock's `evidence/`, or `root` itself. */
  evidence: string;
  /** The entries the decision rests on, for the report. */
  seen: string[];
  /** A camera directory's device id (from its config), else null. */
  device: string | null;
  /** A dock directory's enrolment records: each camera's signing key, and the dock's own key. */
  enrolment: { devices: Map<string, EnrolmentRecord>; dock: EnrolmentRecord | null } | null;
  /** The evidence directory is not a plain directory (a link, a file, absent): why. */
  evidenceProblem: string | null;
}

const EXPECTED =
  `a camera directory (${CAMERA_CONFIG_FILE}, ${IDENTITY_DIR}/), a camera storage directory (${INDEX_FILE} with ` +
  `${AUDIT_LOG} or ${FOOTAGE_DIR}/), a dock directory (${DOCK_CONFIG_FILE}, ${IDENTITY_DIR}/, ${DOCK_EVIDENCE_DIR}/) ` +
  "or a dock's evidence directory (one directory per device id)";

function unreadable(message: string, root: string, cause?: unknown): BodycamError {
  return new BodycamError(ErrorCode.EVIDENCE_UNREADABLE, message, { root }, cause === undefined ? {} : { cause });
}

const has = (names: Map<string, EntryKind>, name: string, kind: EntryKind) => names.get(name) === kind;

/** Whether `dir` (a device directory at a dock) holds any of a device's evidence. */
async function looksLikeDevice(dir: string, name: string): Promise<boolean> {
  try {
    const { names } = await entries(dir, 10_000);
    return [...names].some(
      ([n, k]) =>
        (k === 'file' && (n === AUDIT_LOG || n === DEVICE_KEY_FILE || n === DOCKINGS_LOG)) ||
        (k === 'dir' && INCIDENT_ID.exec(n)?.[1] === name),
    );
  } catch {
    return false;
  }
}

/** Why `dir` is not a plain directory (lstat), or null when it is. */
async function notADirectory(dir: string): Promise<string | null> {
  try {
    const { names } = await entries(path.dirname(dir), 10_000);
    const kind = names.get(path.basename(dir));
    if (kind === undefined) return `${dir} does not exist`;
    if (kind === 'symlink') return `${dir} is a symbolic link (not followed)`;
    if (kind !== 'dir') return `${dir} is not a directory`;
    return null;
  } catch (e) {
    return `${dir} cannot be read (${errnoCode(e) ?? String(e)})`;
  }
}

async function cameraConfig(root: string): Promise<{ device: string; storage: string }> {
  const file = path.join(root, CAMERA_CONFIG_FILE);
  let doc: unknown;
  try {
    const read = await readSmall(file, 1 << 20);
    if ('tooLarge' in read) throw new Error(`${read.tooLarge} bytes`);
    doc = parseBoundedJson(read.text, file, 1 << 20);
  } catch (e) {
    throw unreadable(`${file} is not a readable camera config: ${(e as Error).message}`, root, e);
  }
  const c = doc as { device?: { id?: unknown }; storage?: { dir?: unknown } } | null;
  const device = c?.device?.id;
  const storage = c?.storage?.dir;
  if (typeof device !== 'string' || !DEVICE_ID.test(device) || typeof storage !== 'string' || storage === '') {
    throw unreadable(`${file} names no valid device.id and storage.dir`, root);
  }
  return { device, storage: path.resolve(root, storage) };
}

async function enrolment(root: string): Promise<NonNullable<Layout['enrolment']>> {
  const devices = new Map<string, EnrolmentRecord>();
  const devicesDir = path.join(root, DOCK_DEVICES_DIR);
  const listed = await entries(devicesDir).catch(() => null);
  for (const [id, kind] of listed?.names ?? []) {
    if (kind !== 'dir' || !DEVICE_ID.test(id)) continue;
    const file = deviceKeyFile(path.join(devicesDir, id));
    const read = await readSmall(file, 64 * 1024).catch(() => null);
    if (read !== null && 'text' in read) devices.set(id, { file, pem: read.text });
  }
  const dockFile = dockKeyFile(path.join(root, IDENTITY_DIR));
  const dock = await readSmall(dockFile, 64 * 1024).catch(() => null);
  return { devices, dock: dock !== null && 'text' in dock ? { file: dockFile, pem: dock.text } : null };
}

/** Decides what `given` is (see the module comment). */
export async function classify(given: string): Promise<Layout> {
  const root = path.resolve(given);
  let names: Map<string, EntryKind>;
  try {
    names = (await entries(root)).names;
  } catch (e) {
    const why = errnoCode(e) === 'ENOTDIR' ? 'is not a directory' : `cannot be read (${errnoCode(e) ?? String(e)})`;
    throw unreadable(`${root} ${why}; expected ${EXPECTED}`, root, e);
  }
  const base = { root, device: null, enrolment: null, evidenceProblem: null };
  if (has(names, CAMERA_CONFIG_FILE, 'file') && has(names, IDENTITY_DIR, 'dir')) {
    const { device, storage } = await cameraConfig(root);
    const seen = [
      CAMERA_CONFIG_FILE,
      `${IDENTITY_DIR}/`,
      `${path.relative(root, storage) || storage}/ (its storage.dir)`,
    ];
    return {
      ...base,
      kind: 'camera-directory',
      evidence: storage,
      seen,
      device,
      evidenceProblem: await notADirectory(storage),
    };
  }
  if (has(names, DOCK_CONFIG_FILE, 'file') && names.has(IDENTITY_DIR) && names.has(DOCK_EVIDENCE_DIR)) {
    const evidence = path.join(root, DOCK_EVIDENCE_DIR);
    const seen = [DOCK_CONFIG_FILE, `${IDENTITY_DIR}/`, `${DOCK_EVIDENCE_DIR}/`, `${DOCK_DEVICES_DIR}/`];
    return {
      ...base,
      kind: 'dock-directory',
      evidence,
      seen,
      enrolment: await enrolment(root),
      evidenceProblem: await notADirectory(evidence),
    };
  }
  if (has(names, INDEX_FILE, 'file') && (has(names, AUDIT_LOG, 'file') || has(names, FOOTAGE_DIR, 'dir'))) {
    const seen = [INDEX_FILE, ...[AUDIT_LOG, FOOTAGE_DIR].filter((n) => names.has(n))];
    return { ...base, kind: 'camera-storage', evidence: root, seen };
  }
  // A dock's evidence: directories named as device ids, at least one holding a device's evidence, and they are
  // most of what is there (anything else in it is reported by the walk as an error).
  const devices: string[] = [];
  for (const [name, kind] of names) {
    if (kind === 'dir' && DEVICE_ID.test(name) && (await looksLikeDevice(path.join(root, name), name))) {
      devices.push(`${name}/`);
    }
  }
  const others = [...names.keys()].filter((n) => n !== 'lost+found').length - devices.length;
  if (devices.length > 0 && devices.length >= others) {
    return { ...base, kind: 'dock-evidence', evidence: root, seen: devices };
  }
  throw unreadable(`${root} is none of the layouts verify reads; expected ${EXPECTED}`, root);
}
