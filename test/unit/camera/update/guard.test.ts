/**
 * The start guard (src/camera/update/guard.ts): run before every start of the packaged camera, outside any release,
 * it counts the starts of a release on trial and puts the previous release back after MAX_TRIAL_STARTS, so that a
 * release broken before its own trial code runs cannot keep the camera down.
 */
import { mkdirSync, mkdtempSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardStart, MAX_TRIAL_STARTS } from '../../../../src/camera/update/guard.ts';
import {
  readState,
  startReleaseTrial,
  switchCurrent,
  withReport,
  writeState,
} from '../../../../src/camera/update/slots.ts';
import { currentLink, RELEASE_ENTRY, releaseSlot } from '../../../../src/evidence/paths.ts';

function tree(versions: string[]): { root: string; pkg: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-guard-'));
  const root = path.join(dir, 'root');
  const pkg = path.join(dir, 'pkg');
  for (const v of versions) {
    mkdirSync(path.dirname(path.join(releaseSlot(root, v), RELEASE_ENTRY)), { recursive: true });
    writeFileSync(path.join(releaseSlot(root, v), RELEASE_ENTRY), '// a release\n');
  }
  mkdirSync(root, { recursive: true });
  return { root, pkg };
}

describe('the start guard', () => {
  it("starts the package's own release while no `current` exists, and `current` once it does", async () => {
    const { root, pkg } = tree(['0.2.1']);
    expect(await guardStart(root, pkg)).toEqual({ dir: pkg });
    await switchCurrent(root, '0.2.1');
    expect(await guardStart(root, pkg)).toEqual({ dir: currentLink(root) });
  });

  it('puts the previous release back after a trial release started MAX_TRIAL_STARTS times, and says why', async () => {
    const { root, pkg } = tree(['0.2.1', '0.2.2']);
    await switchCurrent(root, '0.2.1');
    await startReleaseTrial(root, await readState(root), '0.2.2', '0.2.1', Date.now());
    for (let i = 0; i < MAX_TRIAL_STARTS; i++) expect(await guardStart(root, pkg)).toEqual({ dir: currentLink(root) });
    expect(readlinkSync(currentLink(root))).toBe('releases/0.2.2');
    const o = await guardStart(root, pkg);
    expect(o).toEqual({ dir: currentLink(root), rolledBack: expect.stringContaining(`${MAX_TRIAL_STARTS} starts`) });
    expect(readlinkSync(currentLink(root))).toBe('releases/0.2.1');
    const state = await readState(root);
    expect(state.trial).toBeNull();
    expect(state.reports).toEqual([{ kind: 'release', version: '0.2.2', state: 'rolled-back', reason: o.rolledBack }]);
  });

  it("goes back to the package's own release (no `current`) when the trial replaced it", async () => {
    const { root, pkg } = tree(['0.2.1']);
    await startReleaseTrial(root, await readState(root), '0.2.1', '0.2.0', Date.now());
    for (let i = 0; i < MAX_TRIAL_STARTS; i++) await guardStart(root, pkg);
    expect((await guardStart(root, pkg)).dir).toBe(pkg);
    expect(() => readlinkSync(currentLink(root))).toThrow();
  });

  it('counts nothing for a trial that proved healthy, and starts a new count for the next trial', async () => {
    const { root, pkg } = tree(['0.2.1', '0.2.2']);
    let state = await startReleaseTrial(root, await readState(root), '0.2.1', '0.2.0', Date.now());
    await guardStart(root, pkg);
    await guardStart(root, pkg);
    // Proved healthy: the trial is cleared by the release itself.
    state = withReport({ ...state, trial: null }, { kind: 'release', version: '0.2.1', state: 'healthy' });
    await writeState(root, state);
    for (let i = 0; i < MAX_TRIAL_STARTS + 2; i++) expect((await guardStart(root, pkg)).rolledBack).toBeUndefined();
    await startReleaseTrial(root, state, '0.2.2', '0.2.1', Date.now());
    for (let i = 0; i < MAX_TRIAL_STARTS; i++) expect((await guardStart(root, pkg)).rolledBack).toBeUndefined();
    expect((await guardStart(root, pkg)).rolledBack).toBeDefined();
    expect(readlinkSync(currentLink(root))).toBe('releases/0.2.1');
  });

  it("starts the package's own release when `current` leads nowhere (a slot removed by hand)", async () => {
    const { root, pkg } = tree([]);
    await switchCurrent(root, '9.9.9');
    expect(await guardStart(root, pkg)).toEqual({ dir: pkg });
  });
});
