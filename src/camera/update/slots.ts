/**
 * The release root on a camera (src/evidence/paths.ts names it): releases installed side by side, the `current`
 * link switched by renaming a new link over it (atomic: a power cut leaves the old release or the new one, never
 * neither), and the update state file, written whole and renamed into place. Nothing here touches evidence, keys or
 * configuration; a config change writes only the config file, keeping the previous one beside it.
 */
import type { KeyObject } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
import { access, chmod, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  currentLink,
  previousConfigFile,
  releaseSlot,
  releasesDir,
  SIGNED_MANIFEST,
  updateStateFile,
} from '../../evidence/paths.ts';
import { errnoCode } from '../../lib/errors.ts';
import { fsyncDir, writeFileDurably } from '../../lib/fs.ts';
import { type SignedManifest, sha256, verifySigned } from '../../protocol/bundle.ts';
import type { UpdateKind, UpdateReport } from '../../protocol/messages.ts';

/** An update put in place and not yet proven healthy. */
export interface Trial {
  kind: UpdateKind;
  version: string;
  /** What to go back to: the previous release's version (release), the version of the config it replaced (config). */
  previous: string;
  /** Wall clock (ms) when it was put in place. */
  since: number;
}

export interface UpdateState {
  trial: Trial | null;
  /** The last outcome of each kind, told to the dock in every hello until a newer one replaces it. */
  reports: UpdateReport[];
  /** The version of the config in use (config changes by dock); absent: the one provisioned. */
  configVersion?: string;
}

const EMPTY: UpdateState = { trial: null, reports: [] };

export async function readState(root: string): Promise<UpdateState> {
  try {
    const v = JSON.parse(await readFile(updateStateFile(root), 'utf8')) as Partial<UpdateState>;
    return {
      trial: v.trial ?? null,
      reports: Array.isArray(v.reports) ? v.reports : [],
      ...(typeof v.configVersion === 'string' ? { configVersion: v.configVersion } : {}),
    };
  } catch {
    return { ...EMPTY, reports: [] };
  }
}

export async function writeState(root: string, state: UpdateState): Promise<void> {
  await mkdir(root, { recursive: true });
  const file = updateStateFile(root);
  await writeFileDurably(`${file}.tmp`, Buffer.from(`${JSON.stringify(state, null, 2)}\n`));
  await rename(`${file}.tmp`, file);
  await fsyncDir(root);
}

/** The state with `report` replacing the last report of its kind. */
export function withReport(state: UpdateState, report: UpdateReport): UpdateState {
  return { ...state, reports: [...state.reports.filter((r) => r.kind !== report.kind), report] };
}

/** The version `current` points at (null: no link, as on a camera installed before updates by dock). */
export async function currentVersion(root: string): Promise<string | null> {
  try {
    return path.basename(await readlink(currentLink(root)));
  } catch {
    return null;
  }
}

/**
 * Writes a release into its own slot: into `<version>.unpacking`, each file fsynced, then renamed to `<version>`. A slot
 * of that version already there (an earlier attempt) is replaced; the running release's slot never is, since the
 * same version is refused before this.
 */
export async function installRelease(
  root: string,
  version: string,
  files: ReadonlyArray<{ path: string; bytes: Buffer }>,
  signed: SignedManifest,
): Promise<string> {
  const slot = releaseSlot(root, version);
  const partial = `${slot}.unpacking`;
  await rm(partial, { recursive: true, force: true });
  for (const f of files) {
    const target = path.join(partial, f.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFileDurably(target, f.bytes);
    if (f.path.startsWith('bin/')) await chmod(target, 0o755);
  }
  await writeFileDurably(path.join(partial, SIGNED_MANIFEST), Buffer.from(`${JSON.stringify(signed)}\n`));
  await rm(slot, { recursive: true, force: true });
  await rename(partial, slot);
  await fsyncDir(releasesDir(root));
  return slot;
}

/**
 * Why the release installed in `slot` may not be started, or null: its signed manifest must be `key`'s and name this
 * version, and the slot must hold exactly the files it lists, each of its size and hash (no file more, none missing,
 * no link). The start guard asks this before every start, so a release changed after it was checked at the dock (by
 * anything that can write the release root, such as a compromised daemon) is never run.
 */
export async function installedReleaseProblem(slot: string, version: string, key: KeyObject): Promise<string | null> {
  let signed: SignedManifest;
  try {
    signed = JSON.parse(await readFile(path.join(slot, SIGNED_MANIFEST), 'utf8')) as SignedManifest;
  } catch (e) {
    return `its signed manifest cannot be read (${errnoCode(e) ?? (e as Error).message})`;
  }
  const manifest = verifySigned(signed, key);
  if ('refused' in manifest) return `its manifest: ${manifest.refused}`;
  if (manifest.kind !== 'release' || manifest.version !== version) {
    return `its manifest is for ${manifest.kind} ${manifest.version}, not release ${version}`;
  }
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  const entries = await readdir(slot, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    const rel = path.relative(slot, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    if (e.isDirectory() || rel === SIGNED_MANIFEST) continue;
    const f = listed.get(rel);
    if (!e.isFile() || f === undefined) return `${rel} is not a file its manifest lists`;
    // Read synchronously: the guard is a one-shot program with nothing else on its loop, and per-file async reads
    // made the check 3x slower (2,600 files).
    const bytes = readFileSync(path.join(slot, rel));
    if (bytes.length !== f.size || sha256(bytes) !== f.sha256) return `${rel} does not match its manifest`;
    listed.delete(rel);
  }
  const missing = listed.keys().next();
  return missing.done ? null : `${missing.value} is missing`;
}

/** Points `current` at `version`'s slot: a new link renamed over the old one. */
export async function switchCurrent(root: string, version: string): Promise<void> {
  const link = currentLink(root);
  const tmp = `${link}.new`;
  await rm(tmp, { force: true });
  await symlink(path.relative(root, releaseSlot(root, version)), tmp);
  await rename(tmp, link);
  await fsyncDir(root);
}

/**
 * Puts a release installed in its slot on trial (the state says so first, with an `installing` report) and points
 * `current` at it: the updater's last step before it asks for a restart. A power cut between the two leaves the old
 * release running with a trial of another version, which it reports as rolled back.
 */
export async function startReleaseTrial(
  root: string,
  state: UpdateState,
  version: string,
  previous: string,
  since: number,
): Promise<UpdateState> {
  const next = withReport(
    { ...state, trial: { kind: 'release', version, previous, since } },
    { kind: 'release', version, state: 'installing' },
  );
  await writeState(root, next);
  await switchCurrent(root, version);
  return next;
}

/** Removes every release slot but the ones named (the running one and the one to go back to). */
export async function pruneReleases(root: string, keep: readonly string[]): Promise<void> {
  for (const name of await readdir(releasesDir(root)).catch(() => [] as string[])) {
    if (!keep.includes(name)) await rm(path.join(releasesDir(root), name), { recursive: true, force: true });
  }
}

/** Why the config file (its directory, for the new file and the kept previous one) cannot be written, or null. */
export async function configUnwritable(configFile: string): Promise<string | null> {
  try {
    await access(path.dirname(configFile), constants.W_OK);
    await access(configFile, constants.W_OK);
    return null;
  } catch (e) {
    return `the config file ${configFile} cannot be written here (${errnoCode(e) ?? (e as Error).message})`;
  }
}

/** Puts a new config file in place, keeping the one it replaces as `<file>.previous`. */
export async function installConfig(configFile: string, text: Buffer): Promise<void> {
  const prev = previousConfigFile(configFile);
  await writeFile(prev, await readFile(configFile), { mode: 0o640 });
  await writeFileDurably(`${configFile}.new`, text);
  await rename(`${configFile}.new`, configFile);
  await fsyncDir(path.dirname(configFile));
}

/** Puts the kept previous config back (a config change that did not prove healthy). */
export async function restoreConfig(configFile: string): Promise<void> {
  await rename(previousConfigFile(configFile), configFile);
  await fsyncDir(path.dirname(configFile));
}
