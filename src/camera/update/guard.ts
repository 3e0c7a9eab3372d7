/**
 * The start guard (docs/design.md, "Updates through the dock"): run by the service's launcher before every start, from
 * the Debian package's own directory, never from a release slot, so that a release which cannot even reach its own
 * trial code (a broken entry file, a module that fails to load) is still put back. It counts the starts of a release
 * on trial; past MAX_TRIAL_STARTS it points `current` back at the previous release (or removes it, when the previous
 * one is the package's own) and records the outcome in the update state, which the previous release reports to the
 * dock as the trial code does. Then it names the directory to start: the one `current` leads to, or the package's.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { currentLink, RELEASE_ENTRY, releaseSlot, trialStartsFile } from '../../evidence/paths.ts';
import { currentVersion, readState, switchCurrent, withReport, writeState } from './slots.ts';

/** Starts a release on trial may take (a restart by the watchdog counts too) before the guard puts it back. */
export const MAX_TRIAL_STARTS = 3;

export interface GuardOutcome {
  /** The release directory to start (its RELEASE_ENTRY is there). */
  dir: string;
  /** Set when the guard put a trial release back: why. */
  rolledBack?: string;
}

export async function guardStart(root: string, packageDir: string): Promise<GuardOutcome> {
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
  const dir = existsSync(path.join(link, RELEASE_ENTRY)) ? link : packageDir;
  return rolledBack === undefined ? { dir } : { dir, rolledBack };
}
