/**
 * The evidence layout: every name and path of evidence on a camera's storage and in a dock's evidence store, and the
 * entries `verify` recognises the directories around them by. The camera, the dock, `verify` and `export` build their
 * paths here and nowhere else (test/unit/layout-literals.test.ts fails on such a name written elsewhere in src); the
 * S3 keys of an object store (object-keys.ts) are built from these names.
 *
 * A camera's storage directory (STORAGE, the config's `storage.dir`):
 * ```
 * STORAGE/index.sqlite                                   the index (and its -wal, -shm, -journal; not evidence)
 * STORAGE/audit.jsonl                                    the signed audit log
 * STORAGE/dockings.jsonl                                 the docking records the dock signed and handed over
 * STORAGE/device.pub                                     this device's public key (a copy, never a trust anchor)
 * STORAGE/dock.pub                                       the enrolled dock's public key (a copy, never an anchor)
 * STORAGE/bodycam.sock                                   the daemon's control socket (unless the config moves it)
 * STORAGE/footage/<incident>/NNNN.mp4.age                a segment (age v1), 4 digits or more
 * STORAGE/footage/<incident>/NNNN.mp4.age.manifest.json  its signed manifest
 * STORAGE/footage/<incident>/incident.manifest.json      the incident's closing manifest
 * STORAGE/footage/<incident>/<subject>.receipt.json      the dock's receipt for a segment or the closing manifest
 * ```
 * While a segment is written it has `.partial`, `.tail` and `.tail.tmp` files beside it; records are replaced through
 * `<file>.tmp` and a rename. A dock's evidence store (DOCKDIR/evidence, store kind "filesystem") holds per device
 * `<device>/device.pub`, `audit.jsonl`, `dockings.jsonl` and `<device>/<incident>/` with segments, their manifests
 * and the closing manifest (no receipts). Around them: a camera directory holds `config.json` and `identity/` (the
 * signing key, `device.pub` beside it); a dock directory `dock.json`, `identity/dock.pub`, `evidence/`, the
 * enrolment records `devices/<id>/device.pub`, and transfers under way in `incoming/<device>/<incident>-<file>.part`.
 */
import path from 'node:path';

/** The camera storage's directory of incidents. */
export const FOOTAGE_DIR = 'footage';
/** The camera's index (SQLite) in its storage directory. */
export const INDEX_FILE = 'index.sqlite';
/** The index and the files SQLite keeps beside it. */
export const INDEX_FILES: ReadonlySet<string> = new Set(['', '-wal', '-shm', '-journal'].map((s) => INDEX_FILE + s));
/** A device's signed audit log (format `bodycam-audit/1`). */
export const AUDIT_LOG = 'audit.jsonl';
/** A device's docking records (the dock's signed chain, format `bodycam-docking/1`). */
export const DOCKINGS_LOG = 'dockings.jsonl';
/** A device's public signing key (SPKI PEM). */
export const DEVICE_KEY_FILE = 'device.pub';
/** A dock's public signing key (SPKI PEM): in its `identity/`, and copied into an enrolled camera's storage. */
export const DOCK_KEY_FILE = 'dock.pub';
/** The camera daemon's control socket, in the storage directory unless the config names another place. */
export const CONTROL_SOCKET = 'bodycam.sock';

/** A segment file's suffix (the age v1 format of an fMP4 segment). */
export const SEGMENT_SUFFIX = '.mp4.age';
/** A segment manifest's file: the segment's name and this. */
export const MANIFEST_SUFFIX = '.manifest.json';
/** An incident's closing manifest, in its incident directory. */
export const INCIDENT_MANIFEST = 'incident.manifest.json';
/** A receipt's file: its subject's name (a segment, or the closing manifest) and this. */
export const RECEIPT_SUFFIX = '.receipt.json';
/** Suffixes of a segment's files while it is written (writer and recovery tail), and of a record being replaced. */
export const PARTIAL_SUFFIX = '.partial';
export const TAIL_SUFFIX = '.tail';
export const TMP_SUFFIX = '.tmp';

/** A camera directory (`bodycam init`, `provision`): its config and the directory of its signing key. */
export const CAMERA_CONFIG_FILE = 'config.json';
export const IDENTITY_DIR = 'identity';
/** A dock directory (`bodycam dock init`): its config, evidence store, enrolment records and transfers under way. */
export const DOCK_CONFIG_FILE = 'dock.json';
export const DOCK_EVIDENCE_DIR = 'evidence';
export const DOCK_DEVICES_DIR = 'devices';
export const DOCK_INCOMING_DIR = 'incoming';
/** A transfer under way at a dock. */
export const PART_SUFFIX = '.part';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SEGMENT = `\\d{4,}${escapeRe(SEGMENT_SUFFIX)}`;
/** A segment file's name; group 1 is its sequence number. */
export const SEGMENT_FILE = new RegExp(`^(\\d{4,})${escapeRe(SEGMENT_SUFFIX)}$`);

/** The name of segment `seq` of an incident: `0007.mp4.age`. */
export function segmentFileName(seq: number): string {
  return `${String(seq).padStart(4, '0')}${SEGMENT_SUFFIX}`;
}

/** The manifest file beside a segment file: `0000.mp4.age` → `0000.mp4.age.manifest.json`. */
export function manifestFileFor(segmentFile: string): string {
  return segmentFile + MANIFEST_SUFFIX;
}

/** The receipt beside its subject (a segment file, or a closing manifest file). */
export function receiptFileFor(subjectFile: string): string {
  return subjectFile + RECEIPT_SUFFIX;
}

/** The closing manifest of the incident directory `incidentDir`. */
export function closingManifestFile(incidentDir: string): string {
  return path.join(incidentDir, INCIDENT_MANIFEST);
}

/** Where a segment's ciphertext goes while it is written. */
export function partialFileFor(segmentFile: string): string {
  return segmentFile + PARTIAL_SUFFIX;
}

/** A segment's recovery tail (the pending plaintext sealed as a final chunk, with the progress note). */
export function tailFileFor(segmentFile: string): string {
  return segmentFile + TAIL_SUFFIX;
}

/** Where a recovery tail is written before it replaces the previous one. */
export function tailTmpFileFor(segmentFile: string): string {
  return tmpFileFor(tailFileFor(segmentFile));
}

/** Where a record (manifest, receipt) is written before it is renamed to `file`. */
export function tmpFileFor(file: string): string {
  return file + TMP_SUFFIX;
}

/** A device's audit log, in a camera's storage directory or its directory at a dock. */
export function auditLogFile(deviceDir: string): string {
  return path.join(deviceDir, AUDIT_LOG);
}

/** A device's docking records, in a camera's storage directory or its directory at a dock. */
export function dockingsLogFile(deviceDir: string): string {
  return path.join(deviceDir, DOCKINGS_LOG);
}

/** A device's public key in `dir`: its storage, its directory at a dock, its enrolment record, beside its key. */
export function deviceKeyFile(dir: string): string {
  return path.join(dir, DEVICE_KEY_FILE);
}

/** The dock's public key in `dir` (a camera's storage, a dock's `identity/`). */
export function dockKeyFile(dir: string): string {
  return path.join(dir, DOCK_KEY_FILE);
}

/** The camera's index in its storage directory. */
export function indexFile(storage: string): string {
  return path.join(storage, INDEX_FILE);
}

/** An incident's directory in a camera's storage. */
export function incidentDir(storage: string, incident: string): string {
  return path.join(storage, FOOTAGE_DIR, incident);
}

/** A file of an incident, relative to the camera's storage (`footage/<incident>/<file>`, as the index and audit name it). */
export function footagePath(incident: string, file: string): string {
  return `${FOOTAGE_DIR}/${incident}/${file}`;
}

/** The incident and file a storage-relative `footage/<incident>/<file>` names, or null for anything else. */
export function parseFootagePath(rel: string): { incident: string; file: string } | null {
  const [dir, incident, file, ...rest] = rel.split('/');
  if (dir !== FOOTAGE_DIR || incident === undefined || incident === '' || file === undefined || file === '')
    return null;
  return rest.length === 0 ? { incident, file } : null;
}

/** Segment `seq` of an incident, relative to the camera's storage: `footage/<incident>/<NNNN>.mp4.age`. */
export function segmentPath(incident: string, seq: number): string {
  return footagePath(incident, segmentFileName(seq));
}

/** A device's directory in a dock's evidence store. */
export function dockDeviceDir(evidenceRoot: string, device: string): string {
  return path.join(evidenceRoot, device);
}

/** An incident's directory in a dock's evidence store. */
export function dockIncidentDir(evidenceRoot: string, device: string, incident: string): string {
  return path.join(evidenceRoot, device, incident);
}

/** The file a transfer under way at a dock writes to: `incoming/<device>/<incident>-<file>.part`. */
export function transferFile(incomingDir: string, device: string, incident: string, file: string): string {
  return path.join(incomingDir, device, `${incident}-${file}${PART_SUFFIX}`);
}

/** Whether `name` is the name of a transfer's file (see transferFile). */
export function isTransferFile(name: string): boolean {
  return name.endsWith(PART_SUFFIX);
}

/** What an entry of an incident directory is, by its name; `subject` is the segment (or closing manifest) it serves. */
export type IncidentEntry =
  | { kind: 'segment' }
  | { kind: 'manifest'; subject: string }
  | { kind: 'closing' }
  | { kind: 'receipt'; subject: string }
  | { kind: 'work' };

const SEGMENT_MANIFEST = new RegExp(`^(${SEGMENT})${escapeRe(MANIFEST_SUFFIX)}$`);
const RECEIPT = new RegExp(`^(${SEGMENT}|${escapeRe(INCIDENT_MANIFEST)})${escapeRe(RECEIPT_SUFFIX)}$`);
const WRITING = new RegExp(
  `^${SEGMENT}(?:${[PARTIAL_SUFFIX, TAIL_SUFFIX, TAIL_SUFFIX + TMP_SUFFIX].map(escapeRe).join('|')})$`,
);

/** The kind of an incident directory's entry called `name`, or null for a name that has no place there. */
export function incidentEntry(name: string): IncidentEntry | null {
  if (SEGMENT_FILE.test(name)) return { kind: 'segment' };
  const manifestOf = SEGMENT_MANIFEST.exec(name)?.[1];
  if (manifestOf !== undefined) return { kind: 'manifest', subject: manifestOf };
  if (name === INCIDENT_MANIFEST) return { kind: 'closing' };
  const receiptOf = RECEIPT.exec(name)?.[1];
  if (receiptOf !== undefined) return { kind: 'receipt', subject: receiptOf };
  if (WRITING.test(name)) return { kind: 'work' };
  // A manifest or receipt being replaced: `<record>.tmp`.
  const record = name.endsWith(TMP_SUFFIX) ? incidentEntry(name.slice(0, -TMP_SUFFIX.length)) : null;
  return record !== null && record.kind !== 'segment' && record.kind !== 'work' ? { kind: 'work' } : null;
}

/**
 * A camera's release root (config `update.root`, /var/lib/bodycam-update in the Debian package, whose own /opt/bodycam
 * is the release started while no `current` exists): installed releases side by side, the
 * `current` link the service starts, and the state of the update on trial (src/camera/update). Neither evidence nor
 * keys nor config live here: an update never touches them.
 *
 * ```
 * ROOT/releases/<version>/      one release (package.json, dist/, …) as its signed bundle listed it
 * ROOT/releases/<version>/.signed-manifest.json   the bundle's signed manifest: its files are checked at every start
 * ROOT/current -> releases/<v>  the release the service starts; switched by renaming a new link over it
 * ROOT/update-state.json        the update on trial, and the last outcome of each kind (told to the dock)
 * ROOT/trial-starts             `<version> <n>`: starts of the release on trial counted by the start guard
 * ```
 */
export const RELEASES_DIR = 'releases';
/** The release root of a camera installed from the Debian package (writable to its service; /opt/bodycam is not). */
export const DEFAULT_UPDATE_ROOT = '/var/lib/bodycam-update';
export const CURRENT_LINK = 'current';
export const UPDATE_STATE_FILE = 'update-state.json';
export const TRIAL_STARTS_FILE = 'trial-starts';
/** Inside a slot, the bundle's signed header (a hidden name: no bundle file can have it). */
export const SIGNED_MANIFEST = '.signed-manifest.json';
/** A release's program, inside its slot (or the package's own directory). */
export const RELEASE_ENTRY = path.join('dist', 'cli', 'bodycam.js');
/** A config file's copy kept while a new one is on trial: `<config file>.previous`. */
export const PREVIOUS_SUFFIX = '.previous';
export const releasesDir = (root: string) => path.join(root, RELEASES_DIR);
export const releaseSlot = (root: string, version: string) => path.join(root, RELEASES_DIR, version);
export const currentLink = (root: string) => path.join(root, CURRENT_LINK);
export const updateStateFile = (root: string) => path.join(root, UPDATE_STATE_FILE);
export const trialStartsFile = (root: string) => path.join(root, TRIAL_STARTS_FILE);
export const previousConfigFile = (configFile: string) => `${configFile}${PREVIOUS_SUFFIX}`;
