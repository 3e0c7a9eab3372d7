/**
 * The start guard (docs/design.md, "Updates through the dock"): run by the service's launcher before every start, from
 * the Debian package's own directory, never from a release slot, so that a release which cannot even reach its own
 * trial code (a broken entry file, a module that fails to load) is still put back. It counts the starts of a release
 * on trial; past MAX_TRIAL_STARTS it points `current` back at the previous release (or removes it, when the previous
 * one is the package's own) and records the outcome in the update state, which the previous release reports to the
 * dock as the trial code does. Then it names the directory to start: the one `current` leads to, if its files are
 * still the ones its signed manifest lists (checked with the provisioned release key, every start), or the package's.
 * A release that fails that check is never started: `current` goes and the camera reports the release refused.
 */
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { currentLink, RELEASE_ENTRY, releaseSlot, trialStartsFile } from '../../evidence/paths.ts';
import { compareVersions, RELEASE, SEMVER } from '../../lib/version.ts';
import { currentVersion, installedReleaseProblem, readState, switchCurrent, withReport, writeState } from './slots.ts';

/** Starts a release on trial may take (a restart by the watchdog counts too) before the guard puts it back. */
export const MAX_TRIAL_STARTS = 3;

export interface GuardOutcome {
  /** The release directory to start (its RELEASE_ENTRY is there). */
  dir: string;
  /** Set when the guard put a trial release back: why. */
  rolledBack?: string;
  /** Set when `current` led to a release whose files no longer match its signature: why. */
  refused?: string;
}

export async function guardStart(root: string, packageDir: string, releaseKey: KeyObject): Promise<GuardOutcome> {
  const state = await readState(root);
  const t = state.trial;
  const current = await currentVersion(root);
  const counter = trialStartsFile(root);
  let rolledBack: string | undefined;
  if (t !== null && t.kind === 'release' && current === t.version) {
    const [version, n] = (await readFile(counter, 'utf8').catch(() => '')).trim().split(' ');
    const starts = version === t.version ? Number(n) || 0 : 0;
    if (starts >= MAX_TRIAL_STARTS) {
      rolledBack = `did not stay up: ${starts} starts without proving healthy`;
      if (existsSync(path.join(releaseSlot(root, t.previous), RELEASE_ENTRY))) await switchCurrent(root, t.previous);
      else await rm(currentLink(root), { force: true });
      await writeState(
        root,
        withReport(
          { ...state, trial: null },
          { kind: 'release', version: t.version, state: 'rolled-back', reason: rolledBack },
        ),
      );
      await rm(counter, { force: true });
    } else {
      await writeFile(counter, `${t.version} ${starts + 1}\n`);
    }
  } else if (existsSync(counter)) {
    await rm(counter, { force: true });
  }
  const link = currentLink(root);
  const linked = await currentVersion(root);
  const outcome = (dir: string, refused?: string): GuardOutcome => ({
    dir,
    ...(rolledBack === undefined ? {} : { rolledBack }),
    ...(refused === undefined ? {} : { refused }),
  });
  if (linked === null || !existsSync(path.join(link, RELEASE_ENTRY))) return outcome(packageDir);
  const problem = await currentProblem(root, link, linked, releaseKey);
  if (problem === null) return outcome(link);
  await rm(link, { force: true });
  await rm(counter, { force: true });
  const now = await readState(root);
  await writeState(
    root,
    withReport(
      { ...now, trial: now.trial?.kind === 'release' ? null : now.trial },
      { kind: 'release', version: linked, state: 'refused', reason: `not started: ${problem}` },
    ),
  );
  return outcome(packageDir, problem);
}

/**
 * Why the release `current` leads to must not start, or null. It must lead exactly where the updater points it
 * (switchCurrent): into a slot, itself no link; otherwise a link to any directory named like an installed version would
 * pass the slot's check and run. It must be no older than this package (RELEASE: the guard runs from the package,
 * never from a slot): an old release, however genuinely signed, placed there by whoever can write the release root
 * would be a downgrade the updater refuses. Then its files must be the ones its signed manifest lists.
 */
async function currentProblem(root: string, link: string, linked: string, key: KeyObject): Promise<string | null> {
  const slot = releaseSlot(root, linked);
  const target = await readlink(link);
  if (target !== path.relative(root, slot)) return `\`current\` leads to ${target}, not to its slot`;
  if ((await lstat(slot)).isSymbolicLink()) return 'its slot is a link';
  if (!SEMVER.test(linked)) return `${linked} is not a release version`;
  if (compareVersions(linked, RELEASE) < 0) return `release ${linked} is older than this package's own ${RELEASE}`;
  return installedReleaseProblem(slot, linked, key);
}
