/**
 * Signed bundles the dock delivers to its cameras (docs/design.md, "Updates through the dock"): a release (the
 * program) signed with the release key, or a configuration signed with the dock site's config key. A bundle is one
 * file: a first line of JSON `{"manifest": "<manifest JSON, as signed>", "signature": "<base64 Ed25519>"}` and then
 * every file's bytes, in the manifest's order. The manifest names what it is (`kind`), its version, whether it may
 * replace a newer one (`allowDowngrade`), and each file's path, size and SHA-256. The public keys that check it are
 * provisioned on the camera; nothing in a bundle, nor the dock that carries it, is trusted to say which key signs.
 */
import { createHash, type KeyObject, sign, verify } from 'node:crypto';
import { compareVersions, SEMVER } from '../lib/version.ts';

export const BUNDLE_FORMAT = 'bodycam-bundle/1';
export type BundleKind = 'release' | 'config';

export interface BundleFile {
  path: string;
  size: number;
  sha256: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  kind: BundleKind;
  /** A semantic version: a release's, or a configuration's own (the site counts them up). */
  version: string;
  /** The signer's word that this may replace a newer version (a withdrawn release); without it, never. */
  allowDowngrade: boolean;
  files: BundleFile[];
}

/** At most this many bytes of header line, files and bytes in a bundle: anything else is refused unread. */
export const MAX_BUNDLE_HEADER_BYTES = 1024 * 1024;
export const MAX_BUNDLE_FILES = 5000;
export const MAX_BUNDLE_BYTES = 512 * 1024 * 1024;

/** A path inside a bundle: relative, forward slashes, no `.`/`..` level, no hidden trick. */
const SAFE_PATH =
  /^(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9_@+][A-Za-z0-9_.@+-]*(?:\/[A-Za-z0-9_@+][A-Za-z0-9_.@+-]*){0,15}$/;

/** Builds a signed bundle of `files` (path → bytes). */
export function packBundle(
  m: { kind: BundleKind; version: string; allowDowngrade?: boolean },
  files: ReadonlyArray<{ path: string; bytes: Buffer }>,
  key: KeyObject,
): Buffer {
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    kind: m.kind,
    version: m.version,
    allowDowngrade: m.allowDowngrade ?? false,
    files: files.map((f) => ({ path: f.path, size: f.bytes.length, sha256: sha256(f.bytes) })),
  };
  checkManifest(manifest);
  const text = JSON.stringify(manifest);
  const signature = sign(null, Buffer.from(text, 'utf8'), key).toString('base64');
  const header = Buffer.from(`${JSON.stringify({ manifest: text, signature })}\n`, 'utf8');
  return Buffer.concat([header, ...files.map((f) => f.bytes)]);
}

/** A bundle's header as signed: kept beside an installed release, so that its files can be checked again later. */
export interface SignedManifest {
  manifest: string;
  signature: string;
}

export interface OpenedBundle {
  manifest: BundleManifest;
  signed: SignedManifest;
  files: Array<{ path: string; bytes: Buffer }>;
}

export type Opened = { ok: OpenedBundle } | { refused: string };

/** The manifest of a bundle, read without checking its signature (the dock shows what it holds). */
export function peekManifest(bundle: Buffer): BundleManifest | { refused: string } {
  const h = header(bundle);
  if ('refused' in h) return h;
  try {
    return checkManifest(JSON.parse(h.text));
  } catch (e) {
    return { refused: `the bundle's manifest: ${(e as Error).message}` };
  }
}

/**
 * Opens a bundle for a camera: the signature must be `key`'s, the kind `kind`, every file its size and hash, and
 * the version newer than `running` unless the signed manifest allows a downgrade (the same version is refused
 * always: nothing to do). Refusals say why; nothing is thrown.
 */
export function openBundle(bundle: Buffer, key: KeyObject, kind: BundleKind, running: string): Opened {
  const h = header(bundle);
  if ('refused' in h) return h;
  const signed = { manifest: h.text, signature: h.signature };
  const manifest = verifySigned(signed, key);
  if ('refused' in manifest) return manifest;
  if (manifest.kind !== kind) return { refused: `a ${manifest.kind} bundle where a ${kind} was expected` };
  const order = SEMVER.test(running) ? compareVersions(manifest.version, running) : 1;
  if (order === 0) return { refused: `version ${manifest.version} is the one running` };
  if (order < 0 && !manifest.allowDowngrade) {
    return { refused: `downgrade from ${running} to ${manifest.version} refused (the release does not allow it)` };
  }
  const files: Array<{ path: string; bytes: Buffer }> = [];
  let at = h.end;
  for (const f of manifest.files) {
    const bytes = bundle.subarray(at, at + f.size);
    if (bytes.length !== f.size) return { refused: `${f.path} is cut short` };
    if (sha256(bytes) !== f.sha256) return { refused: `${f.path} does not match its hash` };
    files.push({ path: f.path, bytes });
    at += f.size;
  }
  if (at !== bundle.length) return { refused: 'bytes after the last file' };
  return { ok: { manifest, signed, files } };
}

/** The manifest `signed` carries, if `key` signed it and it is well formed; otherwise why not. */
export function verifySigned(signed: SignedManifest, key: KeyObject): BundleManifest | { refused: string } {
  let ok = false;
  try {
    ok = verify(null, Buffer.from(signed.manifest, 'utf8'), key, Buffer.from(signed.signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) return { refused: 'bad signature: not signed by the provisioned key' };
  try {
    return checkManifest(JSON.parse(signed.manifest));
  } catch (e) {
    return { refused: `the bundle's manifest: ${(e as Error).message}` };
  }
}

function header(bundle: Buffer): { text: string; signature: string; end: number } | { refused: string } {
  if (bundle.length > MAX_BUNDLE_BYTES) return { refused: `a bundle over ${MAX_BUNDLE_BYTES} bytes` };
  const nl = bundle.subarray(0, MAX_BUNDLE_HEADER_BYTES).indexOf(0x0a);
  if (nl < 0) return { refused: 'not a bundle (no header line)' };
  try {
    const h = JSON.parse(bundle.subarray(0, nl).toString('utf8')) as Record<string, unknown>;
    if (typeof h['manifest'] !== 'string' || typeof h['signature'] !== 'string') throw new Error('fields');
    return { text: h['manifest'], signature: h['signature'], end: nl + 1 };
  } catch {
    return { refused: 'not a bundle (its header is not {manifest, signature})' };
  }
}

function checkManifest(v: unknown): BundleManifest {
  const r = v as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || r['format'] !== BUNDLE_FORMAT)
    throw new Error(`format must be ${BUNDLE_FORMAT}`);
  if (r['kind'] !== 'release' && r['kind'] !== 'config') throw new Error('kind must be release or config');
  if (typeof r['version'] !== 'string' || !SEMVER.test(r['version'])) throw new Error('version must be semantic');
  if (typeof r['allowDowngrade'] !== 'boolean') throw new Error('allowDowngrade must be true or false');
  const files = r['files'];
  if (!Array.isArray(files) || files.length === 0 || files.length > MAX_BUNDLE_FILES) {
    throw new Error(`files must list 1–${MAX_BUNDLE_FILES} files`);
  }
  const seen = new Set<string>();
  let total = 0;
  for (const f of files as Array<Record<string, unknown>>) {
    const p = f?.['path'];
    if (typeof p !== 'string' || !SAFE_PATH.test(p) || seen.has(p))
      throw new Error(`unsafe or repeated path ${String(p)}`);
    seen.add(p);
    if (!Number.isSafeInteger(f['size']) || (f['size'] as number) < 0) throw new Error(`${p}: size`);
    if (typeof f['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(f['sha256'])) throw new Error(`${p}: sha256`);
    total += f['size'] as number;
  }
  if (total > MAX_BUNDLE_BYTES) throw new Error('files larger than a bundle may be');
  return {
    format: BUNDLE_FORMAT,
    kind: r['kind'],
    version: r['version'],
    allowDowngrade: r['allowDowngrade'],
    files: (files as BundleFile[]).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
  };
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
