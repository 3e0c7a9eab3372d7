/**
 * One incident directory of the walk: every entry named and typed (lstat), segment files located, manifests and
 * receipts read and parsed (bounded), work files of a segment being written noted; anything else is an error.
 * Segment contents are not read here (the verifier hashes them as streams).
 */
import path from 'node:path';
import { errnoCode } from '../lib/errors.ts';
import { type Envelope, envelopeHash } from './envelope.ts';
import { type ManifestPayload, parseManifest } from './manifest.ts';
import { incidentEntry } from './paths.ts';
import type { DeviceFindings } from './report.ts';
import { MAX_RECORD_CHARS, parseJson } from './schema.ts';
import { type EntryKind, entries, type FileRead, readSmall } from './tree-fs.ts';

/**
 * `valid`: signed by the device's anchor key. `bad`: claims the anchor key but the signature fails (altered).
 * `unchecked`: no anchor to check against. `foreign`: another device's (device field or key id differ).
 */
export type ManifestStatus = 'valid' | 'bad' | 'unchecked' | 'foreign';

/** A parsed manifest file and where it sits. */
export interface ManifestRecord {
  /** The incident directory it sits in. */
  dir: string;
  /** Its subject: the segment file name, or `incident.manifest.json` for a closing manifest. */
  file: string;
  /** Relative to the evidence root: the segment file, or the closing manifest file. */
  target: string;
  env: Envelope<ManifestPayload>;
  hash: string;
  status: ManifestStatus;
}

/** A regular file of the incident directory, where it is. */
export interface FileRef {
  abs: string;
  rel: string;
}

/** What an incident directory holds. */
export interface IncidentScan {
  id: string;
  abs: string;
  rel: string;
  /** The segment files (`NNNN.mp4.age`) present as regular files, by name. */
  segmentFiles: Map<string, FileRef>;
  /** Names of the segment files that have a manifest file, readable or not. */
  manifested: Set<string>;
  segments: ManifestRecord[];
  closing: ManifestRecord | null;
  /** A closing manifest file exists (even if unreadable). */
  hasClosingFile: boolean;
  /** Receipts by their subject (segment file name, or `incident.manifest.json`): the parsed JSON, or null. */
  receipts: Map<string, { rel: string; env: unknown }>;
  /** Work files of a segment or record being written (`.partial`, `.tail`, `.tail.tmp`, `.tmp`). */
  work: string[];
}

/** Joins path parts with `/`, the separator of relative paths in reports. */
export function relJoin(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** Reports an entry that has no place here (hidden, a link, the wrong type, unknown); `incident` it concerns. */
export function unexpected(
  f: DeviceFindings,
  rel: string,
  name: string,
  kind: EntryKind,
  what: string,
  incident?: string,
): void {
  const where = incident === undefined ? { segment: rel } : { incident, segment: rel };
  if (name.startsWith('.')) f.error('unexpected-entry', `a hidden ${kind} in ${what}: not read`, where);
  else if (kind === 'symlink') f.error('unexpected-entry', `a symbolic link in ${what}: not followed`, where);
  else f.error('unexpected-entry', `no ${kind === 'dir' ? 'directory' : kind} of this name belongs in ${what}`, where);
}

async function readRecord(
  abs: string,
  rel: string,
  f: DeviceFindings,
  files: FileRead[],
  where: { incident: string; segment: string },
  what: string,
): Promise<string | null> {
  try {
    const read = await readSmall(abs, MAX_RECORD_CHARS);
    if ('tooLarge' in read) {
      f.error('malformed', `the ${what} file is ${read.tooLarge} bytes, far more than any ${what}`, where);
      return null;
    }
    files.push({ file: rel, bytes: read.bytes, sha256: read.sha256 });
    return read.text;
  } catch (e) {
    f.error('unreadable', `the ${what} file cannot be read (${errnoCode(e) ?? String(e)})`, where);
    return null;
  }
}

async function readManifest(
  scan: IncidentScan,
  name: string,
  subject: string,
  target: string,
  f: DeviceFindings,
  files: FileRead[],
): Promise<ManifestRecord | null> {
  const where = { incident: scan.id, segment: target };
  const text = await readRecord(path.join(scan.abs, name), relJoin(scan.rel, name), f, files, where, 'manifest');
  if (text === null) return null;
  try {
    const env = parseManifest(text);
    return { dir: scan.id, file: subject, target, env, hash: envelopeHash(env), status: 'unchecked' };
  } catch (e) {
    f.error('malformed', `the manifest file is not a valid manifest: ${(e as Error).message}`, where);
    return null;
  }
}

/** Walks one incident directory; `receiptsAllowed` only on a camera (a dock keeps no receipts). */
export async function scanIncident(
  abs: string,
  rel: string,
  id: string,
  receiptsAllowed: boolean,
  f: DeviceFindings,
  files: FileRead[],
): Promise<IncidentScan> {
  const scan: IncidentScan = {
    id,
    abs,
    rel,
    segmentFiles: new Map(),
    manifested: new Set(),
    segments: [],
    closing: null,
    hasClosingFile: false,
    receipts: new Map(),
    work: [],
  };
  let listed: Awaited<ReturnType<typeof entries>>;
  try {
    listed = await entries(abs);
  } catch (e) {
    f.error('unreadable', `the incident directory cannot be read (${errnoCode(e) ?? String(e)})`, { incident: id });
    return scan;
  }
  if (listed.truncated)
    f.error('too-many-entries', 'more entries than any incident holds: not all read', { incident: id });
  for (const [name, kind] of listed.names) {
    const entryRel = relJoin(rel, name);
    const entry = kind === 'file' && !name.startsWith('.') ? incidentEntry(name) : null;
    if (entry === null) {
      unexpected(f, entryRel, name, kind, 'an incident directory', id);
    } else if (entry.kind === 'segment') {
      scan.segmentFiles.set(name, { abs: path.join(abs, name), rel: entryRel });
    } else if (entry.kind === 'manifest') {
      scan.manifested.add(entry.subject);
      const record = await readManifest(scan, name, entry.subject, relJoin(rel, entry.subject), f, files);
      if (record !== null) scan.segments.push(record);
    } else if (entry.kind === 'closing') {
      scan.hasClosingFile = true;
      scan.closing = await readManifest(scan, name, name, entryRel, f, files);
    } else if (entry.kind === 'receipt' && receiptsAllowed) {
      const where = { incident: id, segment: entryRel };
      const text = await readRecord(path.join(abs, name), entryRel, f, files, where, 'receipt');
      let env: unknown = null;
      try {
        env = text === null ? null : parseJson(text, 'the receipt');
      } catch {
        env = null;
      }
      scan.receipts.set(entry.subject, { rel: entryRel, env });
    } else if (entry.kind === 'work') {
      scan.work.push(name);
    } else {
      unexpected(f, entryRel, name, kind, 'an incident directory', id);
    }
  }
  return scan;
}
