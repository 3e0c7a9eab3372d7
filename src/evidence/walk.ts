/**
 * The one walk of an evidence tree that `verify` and `export` share. `openTree` classifies the path (classify.ts) and
 * lists its devices; `walkDevice` walks one device's directory: every entry is looked at by its own type (lstat,
 * links never followed), anything that has no place in the layout is an error finding naming its path and is not
 * read, incidents are scoped to their device (the device directory at a dock; the config's or the manifests' device
 * on a camera), and every file read is listed with its SHA-256. What export decrypts is exactly what this walk found.
 *
 * Entries a device directory may hold:
 * - a camera's storage: `footage/<incident>/`, `audit.jsonl`, `dockings.jsonl`, `device.pub`, `dock.pub`, the index
 *   (`index.sqlite` and its `-wal`, `-shm`, `-journal`; not evidence, not read) and the daemon's `bodycam.sock`;
 * - a device directory at a dock: `<incident>/`, `audit.jsonl`, `dockings.jsonl`, `device.pub`.
 * An empty `lost+found` (made by mkfs at a file system's root) is a warning; one holding anything is an error.
 */
import path from 'node:path';
import { errnoCode } from '../lib/errors.ts';
import { DEVICE_ID, INCIDENT_ID, isIncidentOf } from '../lib/ids.ts';
import { classify, type Layout } from './classify.ts';
import {
  AUDIT_LOG,
  CONTROL_SOCKET,
  DEVICE_KEY_FILE,
  DOCK_KEY_FILE,
  DOCKINGS_LOG,
  FOOTAGE_DIR,
  INDEX_FILES,
} from './paths.ts';
import { DeviceFindings } from './report.ts';
import { entries, type FileRead, readSmall } from './tree-fs.ts';
import { type FileRef, type IncidentScan, relJoin, scanIncident, unexpected } from './walk-incident.ts';

/** A device's directory in the tree. */
export interface TreeDevice {
  /** The device id ('' until a camera storage's manifests settle it). */
  id: string;
  /** Where the id comes from: the directory's name at a dock, the camera's config, or its manifests. */
  idFrom: 'directory' | 'config' | 'manifests';
  abs: string;
  /** Relative to the evidence root ('' for a camera's storage). */
  rel: string;
  kind: 'camera' | 'dock';
}

export interface Tree {
  layout: Layout;
  devices: TreeDevice[];
  /** Findings about the tree itself, outside any device directory (device ''). */
  findings: DeviceFindings;
}

/** One device's directory, walked. */
export interface DeviceWalk {
  device: TreeDevice;
  audit: FileRef | null;
  dockings: FileRef | null;
  devicePub: { rel: string; pem: string } | null;
  dockPub: { rel: string; pem: string } | null;
  incidents: IncidentScan[];
}

const LOST_FOUND = 'lost+found';

async function lostFound(abs: string, rel: string, f: DeviceFindings): Promise<void> {
  const listed = await entries(abs, 1).catch(() => null);
  if (listed !== null && listed.names.size === 0) {
    f.warn('lost-found', 'an empty lost+found (made with the file system): nothing recovered by fsck', {
      segment: rel,
    });
  } else {
    f.error('unexpected-entry', 'lost+found holds files recovered by fsck: evidence may be among them, not read', {
      segment: rel,
    });
  }
}

/** Classifies `given` and lists its device directories (a dock's evidence root is walked here). */
export async function openTree(given: string): Promise<Tree> {
  const layout = await classify(given);
  const findings = new DeviceFindings('');
  const tree: Tree = { layout, devices: [], findings };
  if (layout.evidenceProblem !== null) {
    findings.error('unreadable', `the evidence directory ${layout.evidenceProblem}`);
    return tree;
  }
  if (layout.kind === 'camera-directory' || layout.kind === 'camera-storage') {
    const fromConfig = layout.device !== null;
    tree.devices.push({
      id: layout.device ?? '',
      idFrom: fromConfig ? 'config' : 'manifests',
      abs: layout.evidence,
      rel: '',
      kind: 'camera',
    });
    return tree;
  }
  let listed: Awaited<ReturnType<typeof entries>>;
  try {
    listed = await entries(layout.evidence);
  } catch (e) {
    findings.error('unreadable', `the evidence directory cannot be read (${errnoCode(e) ?? String(e)})`);
    return tree;
  }
  if (listed.truncated) findings.error('too-many-entries', 'more entries than any dock holds: not all read');
  for (const [name, kind] of listed.names) {
    const abs = path.join(layout.evidence, name);
    if (kind === 'dir' && name === LOST_FOUND) await lostFound(abs, name, findings);
    else if (kind === 'dir' && DEVICE_ID.test(name)) {
      tree.devices.push({ id: name, idFrom: 'directory', abs, rel: name, kind: 'dock' });
    } else unexpected(findings, name, name, kind, "a dock's evidence directory (one directory per device)");
  }
  return tree;
}

async function readKey(abs: string, rel: string, f: DeviceFindings, files: FileRead[]) {
  try {
    const read = await readSmall(abs, 64 * 1024);
    if ('tooLarge' in read) {
      f.error('malformed', `${read.tooLarge} bytes: not a public key`, { segment: rel });
      return null;
    }
    files.push({ file: rel, bytes: read.bytes, sha256: read.sha256 });
    return { rel, pem: read.text };
  } catch (e) {
    f.error('unreadable', `cannot be read (${errnoCode(e) ?? String(e)})`, { segment: rel });
    return null;
  }
}

/** The `device` most manifests name, else the device part most incident ids name; on a tie the lowest. */
function majorityDevice(incidents: readonly IncidentScan[]): string {
  const counts = new Map<string, number>();
  for (const s of incidents) {
    for (const r of [...s.segments, ...(s.closing === null ? [] : [s.closing])]) {
      counts.set(r.env.payload.device, (counts.get(r.env.payload.device) ?? 0) + 1);
    }
  }
  if (counts.size === 0) {
    for (const s of incidents) {
      const device = INCIDENT_ID.exec(s.id)?.[1];
      if (device !== undefined) counts.set(device, (counts.get(device) ?? 0) + 1);
    }
  }
  const ranked = [...counts].sort(([a, n], [b, m]) => m - n || (a < b ? -1 : 1));
  return ranked[0]?.[0] ?? '';
}

interface Pending {
  walk: DeviceWalk;
  incidentDirs: Array<{ name: string; abs: string; rel: string }>;
}

async function incidentDirs(abs: string, rel: string, f: DeviceFindings, into: Pending['incidentDirs']) {
  let listed: Awaited<ReturnType<typeof entries>>;
  try {
    listed = await entries(abs);
  } catch (e) {
    f.error('unreadable', `cannot be read (${errnoCode(e) ?? String(e)})`, { segment: rel || '.' });
    return;
  }
  if (listed.truncated)
    f.error('too-many-entries', 'more incidents than any device holds: not all read', { segment: rel });
  for (const [name, kind] of listed.names) {
    const entryRel = relJoin(rel, name);
    if (kind === 'dir' && INCIDENT_ID.test(name)) into.push({ name, abs: path.join(abs, name), rel: entryRel });
    else {
      const incident = INCIDENT_ID.test(name) ? name : undefined;
      unexpected(f, entryRel, name, kind, `${FOOTAGE_DIR}/ (one directory per incident)`, incident);
    }
  }
}

async function topLevel(p: Pending, f: DeviceFindings, files: FileRead[]): Promise<void> {
  const { device } = p.walk;
  let listed: Awaited<ReturnType<typeof entries>>;
  try {
    listed = await entries(device.abs);
  } catch (e) {
    f.error('unreadable', `the device directory cannot be read (${errnoCode(e) ?? String(e)})`, {
      segment: device.rel || '.',
    });
    return;
  }
  const camera = device.kind === 'camera';
  const what = camera ? "a camera's storage directory" : 'a device directory at a dock';
  if (listed.truncated) f.error('too-many-entries', `more entries than ${what} holds: not all read`);
  for (const [name, kind] of listed.names) {
    const abs = path.join(device.abs, name);
    const rel = relJoin(device.rel, name);
    const file = kind === 'file' && !name.startsWith('.');
    if (file && name === AUDIT_LOG) p.walk.audit = { abs, rel };
    else if (file && name === DOCKINGS_LOG) p.walk.dockings = { abs, rel };
    else if (file && name === DEVICE_KEY_FILE) p.walk.devicePub = await readKey(abs, rel, f, files);
    else if (file && camera && name === DOCK_KEY_FILE) p.walk.dockPub = await readKey(abs, rel, f, files);
    else if (file && camera && INDEX_FILES.has(name)) continue;
    else if (camera && kind === 'socket' && name === CONTROL_SOCKET) continue;
    else if (kind === 'dir' && name === LOST_FOUND && camera) await lostFound(abs, rel, f);
    else if (kind === 'dir' && camera && name === FOOTAGE_DIR) await incidentDirs(abs, rel, f, p.incidentDirs);
    else if (kind === 'dir' && !camera && INCIDENT_ID.test(name)) p.incidentDirs.push({ name, abs, rel });
    else unexpected(f, rel, name, kind, what, INCIDENT_ID.test(name) ? name : undefined);
  }
}

/**
 * Walks one device directory. A camera storage's device id, unknown from the layout, is settled here from its
 * manifests, else its incident ids, else `hint` (the one device a key was given for: a storage with nothing signed
 * yet is whoever its audit log's signatures say); `f.device` is updated. An incident whose id is not of this device
 * is an error (its content is still checked and reported).
 */
export async function walkDevice(
  device: TreeDevice,
  f: DeviceFindings,
  files: FileRead[],
  hint?: string,
): Promise<DeviceWalk> {
  const walk: DeviceWalk = {
    device: { ...device },
    audit: null,
    dockings: null,
    devicePub: null,
    dockPub: null,
    incidents: [],
  };
  const p: Pending = { walk, incidentDirs: [] };
  await topLevel(p, f, files);
  for (const d of p.incidentDirs) {
    walk.incidents.push(await scanIncident(d.abs, d.rel, d.name, device.kind === 'camera', f, files));
  }
  if (walk.device.id === '') walk.device.id = majorityDevice(walk.incidents) || (hint ?? '');
  f.device = walk.device.id;
  for (const s of walk.incidents) {
    if (isIncidentOf(s.id, walk.device.id)) continue;
    const owner = INCIDENT_ID.exec(s.id)?.[1] ?? '?';
    f.error('foreign-incident', `an incident id of device ${owner}, filed under ${walk.device.id}`, {
      incident: s.id,
      segment: s.rel,
    });
  }
  return walk;
}
