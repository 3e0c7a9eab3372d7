/**
 * Reads one device's evidence directory into memory for the verifier: every incident directory, its segment files
 * (`*.age`), their manifests and the closing manifest, parsed and hashed. Segment contents are not read here.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../lib/errors.ts';
import { type Envelope, envelopeHash } from './envelope.ts';
import { INCIDENT_MANIFEST, MANIFEST_SUFFIX, type ManifestPayload, parseManifest } from './manifest.ts';
import type { DeviceFindings } from './report.ts';

/**
 * `valid`: signed by the device key. `bad`: claims the device and its key id but the signature fails (altered).
 * `unchecked`: no key to check against. `foreign`: another device's (device field or key id differ).
 */
export type ManifestStatus = 'valid' | 'bad' | 'unchecked' | 'foreign';

/** A parsed manifest file and where it sits. */
export interface ManifestRecord {
  /** The incident directory it sits in. */
  dir: string;
  /** Its own file name's subject: the segment file name, or `incident.manifest.json` for a closing manifest. */
  file: string;
  /** Relative to the checked root: the segment file, or the closing manifest file. */
  target: string;
  env: Envelope<ManifestPayload>;
  hash: string;
  status: ManifestStatus;
}

/** What an incident directory holds. */
export interface IncidentScan {
  id: string;
  abs: string;
  rel: string;
  /** Names of all regular files present (symbolic links are not followed: a linked segment counts as missing). */
  files: Set<string>;
  /** Names of the segment files (`*.age`) present. */
  segmentFiles: Set<string>;
  /** Names of the segment files that have a manifest file, readable or not. */
  manifested: Set<string>;
  segments: ManifestRecord[];
  closing: ManifestRecord | null;
  /** A closing manifest file exists (even if unreadable). */
  hasClosingFile: boolean;
  /** Work files of a segment being written (`*.age.partial`, `.tail`, `.tail.tmp`). */
  work: string[];
}

/** Manifests are a few kilobytes; anything far larger is not one and is not read into memory. */
const MAX_MANIFEST_BYTES = 1 << 20;
const WORK_FILE = /\.age\.(partial|tail|tail\.tmp)$/;
const SKIPPED_DIRS = new Set(['lost+found']);

/** Joins path parts with `/`, the separator of relative paths in reports. */
export function relJoin(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** The subdirectories of `dir` worth looking into (not hidden, not `lost+found`), sorted. */
export async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !SKIPPED_DIRS.has(e.name))
    .map((e) => e.name)
    .sort();
}

async function readManifest(
  abs: string,
  dir: string,
  file: string,
  target: string,
  f: DeviceFindings,
): Promise<ManifestRecord | null> {
  const where = { incident: dir, segment: target };
  try {
    const info = await stat(abs);
    if (info.size > MAX_MANIFEST_BYTES) {
      f.error('malformed', `the manifest file is ${info.size} bytes, far more than any manifest`, where);
      return null;
    }
    const env = parseManifest(await readFile(abs, 'utf8'));
    return { dir, file, target, env, hash: envelopeHash(env), status: 'unchecked' };
  } catch (e) {
    const errno = errnoCode(e);
    if (errno !== undefined) f.error('unreadable', `the manifest file cannot be read (${errno})`, where);
    else f.error('malformed', `the manifest file is not a valid manifest: ${(e as Error).message}`, where);
    return null;
  }
}

async function scanIncident(abs: string, rel: string, id: string, f: DeviceFindings): Promise<IncidentScan> {
  const scan: IncidentScan = {
    id,
    abs,
    rel,
    files: new Set(),
    segmentFiles: new Set(),
    manifested: new Set(),
    segments: [],
    closing: null,
    hasClosingFile: false,
    work: [],
  };
  let entries: Dirent[];
  try {
    entries = await readdir(abs, { withFileTypes: true });
  } catch (e) {
    f.error('unreadable', `the incident directory cannot be read (${errnoCode(e) ?? String(e)})`, { incident: id });
    return scan;
  }
  const names = entries.filter((e) => e.isFile()).map((e) => e.name);
  scan.files = new Set(names);
  for (const name of names.sort()) {
    if (name === INCIDENT_MANIFEST) {
      scan.hasClosingFile = true;
      const target = relJoin(rel, name);
      scan.closing = await readManifest(path.join(abs, name), id, name, target, f);
    } else if (name.endsWith(MANIFEST_SUFFIX)) {
      const file = name.slice(0, -MANIFEST_SUFFIX.length);
      scan.manifested.add(file);
      const record = await readManifest(path.join(abs, name), id, file, relJoin(rel, file), f);
      if (record !== null) scan.segments.push(record);
    } else if (name.endsWith('.age')) {
      scan.segmentFiles.add(name);
    } else if (WORK_FILE.test(name)) {
      scan.work.push(name);
    }
  }
  return scan;
}

/**
 * The incidents of a device directory: under `footage/` when it has one (a camera's storage directory), else its
 * subdirectories (a device directory in a dock's evidence store). Directories holding nothing are left out.
 */
export async function scanIncidents(deviceAbs: string, deviceRel: string, f: DeviceFindings): Promise<IncidentScan[]> {
  let base = deviceAbs;
  let baseRel = deviceRel;
  let ids: string[];
  try {
    ids = await subdirectories(deviceAbs);
    if (ids.includes('footage')) {
      base = path.join(deviceAbs, 'footage');
      baseRel = relJoin(deviceRel, 'footage');
      ids = await subdirectories(base);
    }
  } catch (e) {
    f.error('unreadable', `the directory cannot be read (${errnoCode(e) ?? String(e)})`, { segment: baseRel || '.' });
    return [];
  }
  const incidents: IncidentScan[] = [];
  for (const id of ids) {
    const scan = await scanIncident(path.join(base, id), relJoin(baseRel, id), id, f);
    if (scan.hasClosingFile || scan.manifested.size > 0 || scan.segmentFiles.size > 0 || scan.work.length > 0) {
      incidents.push(scan);
    }
  }
  return incidents;
}
