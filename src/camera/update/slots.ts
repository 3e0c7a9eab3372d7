/**
 * The release root on a camera (src/evidence/paths.ts names it): releases installed side by side, the `current`
 * link switched by renaming a new link over it (atomic: a power cut leaves the old release or the new one, never
 * neither), and the update state file, written whole and renamed into place. Nothing here touches evidence, keys or
 * configuration; a config change writes only the config file, keeping the previous one beside it.
 */
import { chmod, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { currentLink, previousConfigFile, releaseSlot, releasesDir, updateStateFile } from '../../evidence/paths.ts';
import { fsyncDir, writeFileDurably } from '../../lib/fs.ts';
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
  await rm(slot, { recursive: true, force: true });
  await rename(partial, slot);
  await fsyncDir(releasesDir(root));
  return slot;
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

/** Removes every release slot but the ones named (the running one and the one to go back to). */
export async function pruneReleases(root: string, keep: readonly string[]): Promise<void> {
  for (const name of await readdir(releasesDir(root)).catch(() => [] as string[])) {
    if (!keep.includes(name)) await rm(path.join(releasesDir(root), name), { recursive: true, force: true });
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
