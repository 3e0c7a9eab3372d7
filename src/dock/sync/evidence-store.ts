/**
 * Where the dock keeps verified evidence. An interface, so an S3-compatible store (with object lock) can stand in
 * for the filesystem one; the filesystem layout is the one `bodycam verify` reads, built by src/evidence/paths.ts:
 * per device its key, audit log and docking records (the dock's signed chain), and per incident its segments with
 * their manifests and the closing manifest.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  auditLogFile,
  closingManifestFile,
  deviceKeyFile,
  dockDeviceDir,
  dockIncidentDir,
  dockingsLogFile,
  manifestFileFor,
  tmpFileFor,
} from '../../evidence/paths.ts';
import { errnoCode } from '../../lib/errors.ts';
import { appendLinesDurably, fsyncDir, sha256OfFile, writeFileDurably } from '../../lib/fs.ts';

export interface EvidenceStore {
  /** Moves a verified segment (a local file) into the store, with its manifest. */
  putSegment(device: string, incident: string, file: string, source: string, manifestText: string): Promise<void>;
  putClosing(device: string, incident: string, manifestText: string): Promise<void>;
  /** Appends verified audit lines (each ending in a newline). */
  appendAudit(device: string, lines: string): Promise<void>;
  /** Appends one docking record line (`dockings.jsonl`), durably. */
  appendDocking(device: string, line: string): Promise<void>;
  /** The last complete line of the device's docking records, or null when there are none. */
  lastDocking(device: string): Promise<string | null>;
  putDeviceKey(device: string, pem: string): Promise<void>;
  /** Does the store hold this segment with exactly this size and SHA-256 (checked now, not from memory)? */
  holdsSegment(
    device: string,
    incident: string,
    file: string,
    expect: { bytes: number; sha256: string },
  ): Promise<boolean>;
  /** Does the store hold exactly this closing manifest? */
  holdsClosing(device: string, incident: string, manifestText: string): Promise<boolean>;
}

/** Files whose hash was checked are not hashed again while they stay the same file (their change time included). */
const HASHED_MAX = 10_000;

export class FilesystemEvidenceStore implements EvidenceStore {
  readonly root: string;
  /** Segment file → the stat stamp it had when its hash matched. */
  readonly #hashed = new Map<string, string>();

  constructor(root: string) {
    this.root = root;
  }

  async putSegment(
    device: string,
    incident: string,
    file: string,
    source: string,
    manifestText: string,
  ): Promise<void> {
    const dir = await this.#dir(device, incident);
    const target = path.join(dir, file);
    const manifest = manifestFileFor(target);
    await writeFileDurably(tmpFileFor(manifest), Buffer.from(manifestText));
    await rename(tmpFileFor(manifest), manifest);
    await rename(source, target);
    await fsyncDir(dir);
    await fsyncDir(path.dirname(source));
  }

  async putClosing(device: string, incident: string, manifestText: string): Promise<void> {
    const dir = await this.#dir(device, incident);
    const closing = closingManifestFile(dir);
    await writeFileDurably(tmpFileFor(closing), Buffer.from(manifestText));
    await rename(tmpFileFor(closing), closing);
    await fsyncDir(dir);
  }

  async appendAudit(device: string, lines: string): Promise<void> {
    await this.#append(auditLogFile(dockDeviceDir(this.root, device)), lines);
  }

  async appendDocking(device: string, line: string): Promise<void> {
    await this.#append(dockingsLogFile(dockDeviceDir(this.root, device)), line);
  }

  async lastDocking(device: string): Promise<string | null> {
    let text: string;
    try {
      text = await readFile(dockingsLogFile(dockDeviceDir(this.root, device)), 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return null;
      throw e;
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    return complete.trimEnd().split('\n').at(-1) || null;
  }

  async #append(file: string, text: string): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await appendLinesDurably(file, text);
  }

  async putDeviceKey(device: string, pem: string): Promise<void> {
    const dir = dockDeviceDir(this.root, device);
    await mkdir(dir, { recursive: true });
    await writeFile(deviceKeyFile(dir), pem);
  }

  async holdsSegment(
    device: string,
    incident: string,
    file: string,
    expect: { bytes: number; sha256: string },
  ): Promise<boolean> {
    const target = path.join(dockIncidentDir(this.root, device, incident), file);
    const st = await stat(target, { bigint: true }).catch(() => null);
    if (st === null || !st.isFile() || st.size !== BigInt(expect.bytes)) return false;
    const stamp = `${expect.sha256}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    if (this.#hashed.get(target) === stamp) return true;
    const actual = await sha256OfFile(target).catch(() => null);
    if (actual?.sha256 !== expect.sha256 || actual.bytes !== expect.bytes) return false;
    this.#hashed.delete(target);
    this.#hashed.set(target, stamp);
    if (this.#hashed.size > HASHED_MAX) this.#hashed.delete(this.#hashed.keys().next().value ?? '');
    return true;
  }

  async holdsClosing(device: string, incident: string, manifestText: string): Promise<boolean> {
    const file = closingManifestFile(dockIncidentDir(this.root, device, incident));
    const text = await readFile(file, 'utf8').catch(() => null);
    return text === manifestText;
  }

  async #dir(device: string, incident: string): Promise<string> {
    const dir = dockIncidentDir(this.root, device, incident);
    await mkdir(dir, { recursive: true });
    return dir;
  }
}
