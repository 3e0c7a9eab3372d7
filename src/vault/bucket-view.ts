/**
 * An organisation's evidence in the bucket, laid out as a dock's evidence directory, so the one verifier (and the one
 * exporter) reads it: `<device>/device.pub`, `<device>/audit.jsonl` (the audit batches joined in sequence order),
 * `<device>/dockings.jsonl` (the docking records, one object each, joined), `<device>/<incident>/<file>`. The copy goes
 * into a private temporary directory and is removed afterwards; the verifier then reports on it as on any directory.
 *
 * What only the bucket can tell is checked here, as findings beside the verifier's: an object that is not evidence,
 * audit batches that overlap or leave a gap, an object that is not under COMPLIANCE retention, one whose bytes do
 * not hash to the SHA-256 it was stored with, and any key with an older version or a delete marker. Evidence objects
 * are written once, so a second version is someone rewriting evidence (the latest is what the verifier checks; the
 * finding names the versions), and a delete marker hides an object that the store still keeps.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type KeyRoot, parseEvidenceKey } from '../evidence/object-keys.ts';
import {
  AUDIT_LOG,
  DEVICE_KEY_FILE,
  DOCK_EVIDENCE_DIR,
  DOCKINGS_LOG,
  INCIDENT_MANIFEST,
  MANIFEST_SUFFIX,
  PART_SUFFIX,
  SEGMENT_FILE,
} from '../evidence/paths.ts';
import type { Finding } from '../evidence/report.ts';
import type { ObjectStore } from '../store/port.ts';
import { SHA256_METADATA } from '../store/verified-put.ts';

export interface BucketView {
  /** The evidence directory to verify (one directory per device). */
  evidence: string;
  /** The object each file of the view came from (`/`-separated paths relative to `evidence`). */
  objects: Map<string, string[]>;
  /** What the bucket itself shows wrong. */
  findings: Finding[];
  /** Removes the copy. */
  remove(): Promise<void>;
}

interface Batch {
  key: string;
  first: number;
  last: number;
}

/** Copies everything under `root` (optionally of one device) into a new private directory and checks the objects. */
export async function viewBucket(store: ObjectStore, root: KeyRoot, only?: string): Promise<BucketView> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bodycam-bucket-'));
  const evidence = path.join(dir, DOCK_EVIDENCE_DIR);
  await mkdir(evidence, { mode: 0o700 });
  const view: BucketView = {
    evidence,
    objects: new Map(),
    findings: [],
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  try {
    await fill(store, root, view, only);
  } catch (e) {
    await view.remove();
    throw e;
  }
  return view;
}

const base = (root: KeyRoot): string => `${root.prefix === '' ? '' : `${root.prefix}/`}${root.organisation}/`;

async function fill(store: ObjectStore, root: KeyRoot, view: BucketView, only: string | undefined): Promise<void> {
  const prefix = only === undefined ? base(root) : `${base(root)}${only}/`;
  const error = (device: string, code: Finding['code'], message: string, segment?: string): void => {
    view.findings.push({ severity: 'error', device, code, message, ...(segment === undefined ? {} : { segment }) });
  };
  const audit = new Map<string, Batch[]>();
  const dockings = new Map<string, { key: string; seq: number }[]>();
  for await (const entry of store.list(prefix)) {
    const k = parseEvidenceKey(root, entry.key);
    if (k.kind === 'unexpected') {
      error('', 'unexpected-entry', `object ${entry.key} is not evidence (${k.reason})`);
      continue;
    }
    // The dock writes only whole segments and their manifests under an incident: anything else (a `.partial`, a
    // `.tail`, a temporary file) would read as a camera's recording under way, so it is named, not copied.
    const stray =
      (k.kind === 'segment' && !SEGMENT_FILE.test(k.file)) ||
      (k.kind === 'manifest' && !SEGMENT_FILE.test(k.file.slice(0, -MANIFEST_SUFFIX.length)));
    if (stray) {
      error(k.device, 'unexpected-entry', `object ${entry.key} is not evidence (the dock writes no such file)`);
      continue;
    }
    if (k.kind === 'audit') {
      audit.set(k.device, [...(audit.get(k.device) ?? []), { key: entry.key, first: k.first, last: k.last }]);
      continue;
    }
    if (k.kind === 'docking') {
      dockings.set(k.device, [...(dockings.get(k.device) ?? []), { key: entry.key, seq: k.seq }]);
      continue;
    }
    const rel =
      k.kind === 'device-key'
        ? `${k.device}/${DEVICE_KEY_FILE}`
        : `${k.device}/${k.incident}/${k.kind === 'closing' ? INCIDENT_MANIFEST : k.file}`;
    await copy(store, entry.key, path.join(view.evidence, ...rel.split('/')), { view, device: k.device, rel });
    view.objects.set(rel, [entry.key]);
  }
  for (const [device, batches] of audit) {
    batches.sort((a, b) => a.first - b.first || a.last - b.last);
    let next = batches[0]?.first ?? 0;
    for (const b of batches) {
      if (b.first !== next) {
        const what = b.first > next ? `a gap: entries ${next}–${b.first - 1} are in no batch` : 'overlapping batches';
        error(device, 'audit-gap', `audit batch ${b.key}: ${what}`);
      }
      next = Math.max(next, b.last + 1);
    }
    const rel = `${device}/${AUDIT_LOG}`;
    await join(store, batches, path.join(view.evidence, device, AUDIT_LOG), { view, device, rel });
  }
  for (const [device, records] of dockings) {
    records.sort((a, b) => a.seq - b.seq);
    const rel = `${device}/${DOCKINGS_LOG}`;
    await join(store, records, path.join(view.evidence, device, DOCKINGS_LOG), { view, device, rel });
  }
  await checkVersions(store, prefix, root, error);
}

/** Where a copied object's findings go. */
interface Into {
  view: BucketView;
  device: string;
  rel: string;
}

/**
 * One object into `file` (its latest version), its bytes hashed on the way and checked against the SHA-256 it was
 * stored with and its lock; returns the bytes when `keep` (small objects that are joined).
 */
async function copy(store: ObjectStore, key: string, file: string, into: Into, keep = false): Promise<Buffer> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const head = await store.head(key);
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  const body = await store.get(key, head?.versionId);
  body.on('data', (c: Buffer) => {
    hash.update(c);
    if (keep) kept.push(c);
  });
  await pipeline(body, createWriteStream(file, { mode: 0o600 }));
  const sha256 = hash.digest('hex');
  const stored = head?.metadata[SHA256_METADATA];
  const push = (code: Finding['code'], message: string) =>
    into.view.findings.push({ severity: 'error', device: into.device, segment: into.rel, code, message });
  if (stored !== undefined && stored !== sha256) {
    push('hash-mismatch', `object ${key} was stored with SHA-256 ${stored}; its bytes now hash to ${sha256}`);
  }
  if (head?.retention?.mode !== 'COMPLIANCE') {
    push(
      'object-unlocked',
      `object ${key} is not under COMPLIANCE retention: anyone with the credentials can delete it`,
    );
  }
  return Buffer.concat(kept);
}

/** Objects that continue one another (audit batches, docking records) joined into one file, in their order. */
async function join(store: ObjectStore, parts: readonly { key: string }[], file: string, into: Into): Promise<void> {
  const texts: Buffer[] = [];
  for (const p of parts) texts.push(await copy(store, p.key, `${file}${PART_SUFFIX}`, into, true));
  await rm(`${file}${PART_SUFFIX}`, { force: true });
  await writeFile(file, Buffer.concat(texts), { mode: 0o600 });
  into.view.objects.set(
    into.rel,
    parts.map((p) => p.key),
  );
}

/** Every key under `prefix` with more than one version or a delete marker: evidence is written once. */
async function checkVersions(
  store: ObjectStore,
  prefix: string,
  root: KeyRoot,
  error: (device: string, code: Finding['code'], message: string) => void,
): Promise<void> {
  const byKey = new Map<string, { versions: number; markers: number }>();
  for await (const v of store.listVersions(prefix)) {
    const n = byKey.get(v.key) ?? { versions: 0, markers: 0 };
    if (v.deleteMarker) n.markers++;
    else n.versions++;
    byKey.set(v.key, n);
  }
  for (const [key, n] of byKey) {
    if (n.versions <= 1 && n.markers === 0) continue;
    const k = parseEvidenceKey(root, key);
    const device = k.kind === 'unexpected' ? '' : k.device;
    const what = [
      n.versions > 1 ? `${n.versions} versions (written once: an older version means it was rewritten)` : '',
      n.markers > 0 ? `${n.markers} delete marker(s) (hidden, not deleted: the store keeps the locked versions)` : '',
    ].filter((s) => s !== '');
    error(device, 'object-versions', `object ${key} has ${what.join(' and ')}`);
  }
}
