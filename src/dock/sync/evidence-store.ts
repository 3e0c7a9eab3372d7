/**
 * Where the dock keeps verified evidence. An interface, so an S3-compatible store (with object lock) can stand in
 * for the filesystem one later; the filesystem layout is the one `bodycam verify` reads:
 * `<root>/<device>/device.pub`, `<root>/<device>/audit.jsonl`, `<root>/<device>/<incident>/<NNNN>.mp4.age` with its
 * `.manifest.json`, and `<root>/<device>/<incident>/incident.manifest.json`.
 */
import { appendFile, mkdir, open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { INCIDENT_MANIFEST, manifestFileFor } from '../../evidence/manifest.ts';
import { DEVICE_KEY_FILE } from '../../evidence/verify.ts';
import { fsyncDir, writeFileDurably } from '../../lib/fs.ts';

export interface EvidenceStore {
  /** Moves a verified segment (a local file) into the store, with its manifest. */
  putSegment(device: string, incident: string, file: string, source: string, manifestText: string): Promise<void>;
  putClosing(device: string, incident: string, manifestText: string): Promise<void>;
  /** Appends verified audit lines (each ending in a newline). */
  appendAudit(device: string, lines: string): Promise<void>;
  putDeviceKey(device: string, pem: string): Promise<void>;
}

export class FilesystemEvidenceStore implements EvidenceStore {
  readonly root: string;

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
    await writeFileDurably(`${manifestFileFor(target)}.tmp`, Buffer.from(manifestText));
    await rename(`${manifestFileFor(target)}.tmp`, manifestFileFor(target));
    await rename(source, target);
    await fsyncDir(dir);
    await fsyncDir(path.dirname(source));
  }

  async putClosing(device: string, incident: string, manifestText: string): Promise<void> {
    const dir = await this.#dir(device, incident);
    await writeFileDurably(path.join(dir, `${INCIDENT_MANIFEST}.tmp`), Buffer.from(manifestText));
    await rename(path.join(dir, `${INCIDENT_MANIFEST}.tmp`), path.join(dir, INCIDENT_MANIFEST));
    await fsyncDir(dir);
  }

  async appendAudit(device: string, lines: string): Promise<void> {
    const file = path.join(this.root, device, 'audit.jsonl');
    await mkdir(path.dirname(file), { recursive: true });
    await appendFile(file, lines);
    const fh = await open(file, 'r');
    await fh.datasync().finally(() => fh.close());
  }

  async putDeviceKey(device: string, pem: string): Promise<void> {
    await mkdir(path.join(this.root, device), { recursive: true });
    await writeFile(path.join(this.root, device, DEVICE_KEY_FILE), pem);
  }

  async #dir(device: string, incident: string): Promise<string> {
    const dir = path.join(this.root, device, incident);
    await mkdir(dir, { recursive: true });
    return dir;
  }
}
