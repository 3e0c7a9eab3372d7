/**
 * The start guard (src/camera/update/guard.ts): run before every start of the packaged camera, outside any release,
 * it counts the starts of a release on trial and puts the previous release back after MAX_TRIAL_STARTS, so that a
 * release broken before its own trial code runs cannot keep the camera down.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardStart, MAX_TRIAL_STARTS } from '../../../../src/camera/update/guard.ts';
import {
  installRelease,
  readState,
  startReleaseTrial,
  switchCurrent,
  withReport,
  writeState,
} from '../../../../src/camera/update/slots.ts';
import { currentLink, RELEASE_ENTRY, releaseSlot, SIGNED_MANIFEST } from '../../../../src/evidence/paths.ts';
import { RELEASE } from '../../../../src/lib/version.ts';
import { openBundle, packBundle } from '../../../../src/protocol/bundle.ts';

const signer = generateKeyPairSync('ed25519');
const key = signer.publicKey;

/** A release as the updater installs it: a signed bundle opened with the release key, its files put in a slot. */
async function install(root: string, version: string, signedBy = signer.privateKey): Promise<void> {
  const files = [
    { path: RELEASE_ENTRY.split(path.sep).join('/'), bytes: Buffer.from(`// release ${version}\n`) },
    { path: 'package.json', bytes: Buffer.from(JSON.stringify({ version })) },
  ];
  const opened = openBundle(
    packBundle({ kind: 'release', version }, files, signedBy),
    createPublicKey(signedBy),
    'release',
    '0.0.1',
  );
  if ('refused' in opened) throw new Error(opened.refused);
  const { signed } = opened.ok;
  await installRelease(root, version, files, signed);
}

async function tree(versions: string[]): Promise<{ root: string; pkg: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-guard-'));
  const root = path.join(dir, 'root');
  const pkg = path.join(dir, 'pkg');
  mkdirSync(root, { recursive: true });
  for (const v of versions) await install(root, v);
  return { root, pkg };
}

describe('the start guard', () => {
  it("starts the package's own release while no `current` exists, and `current` once it does", async () => {
    const { root, pkg } = await tree(['0.2.1']);
    expect(await guardStart(root, pkg, key)).toEqual({ dir: pkg });
    await switchCurrent(root, '0.2.1');
    expect(await guardStart(root, pkg, key)).toEqual({ dir: currentLink(root) });
  });

  it('puts the previous release back after a trial release started MAX_TRIAL_STARTS times, and says why', async () => {
    const { root, pkg } = await tree(['0.2.1', '0.2.2']);
    await switchCurrent(root, '0.2.1');
    await startReleaseTrial(root, await readState(root), '0.2.2', '0.2.1', Date.now());
    for (let i = 0; i < MAX_TRIAL_STARTS; i++)
      expect(await guardStart(root, pkg, key)).toEqual({ dir: currentLink(root) });
    expect(readlinkSync(currentLink(root))).toBe('releases/0.2.2');
    const o = await guardStart(root, pkg, key);
    expect(o).toEqual({ dir: currentLink(root), rolledBack: expect.stringContaining(`${MAX_TRIAL_STARTS} starts`) });
    expect(readlinkSync(currentLink(root))).toBe('releases/0.2.1');
    const state = await readState(root);
    expect(state.trial).toBeNull();
    expect(state.reports).toEqual([{ kind: 'release', version: '0.2.2', state: 'rolled-back', reason: o.rolledBack }]);
  });

  it("goes back to the package's own release (no `current`) when the trial replaced it", async () => {
    const { root, pkg } = await tree(['0.2.1']);
    await startReleaseTrial(root, await readState(root), '0.2.1', '0.2.0', Date.now());
    for (let i = 0; i < MAX_TRIAL_STARTS; i++) await guardStart(root, pkg, key);
    expect((await guardStart(root, pkg, key)).dir).toBe(pkg);
    expect(() => readlinkSync(currentLink(root))).toThrow();
  });

  it('counts nothing for a trial that proved healthy, and starts a new count for the next trial', async () => {
    const { root, pkg } = await tree(['0.2.1', '0.2.2']);
    let state = await startReleaseTrial(root, await readState(root), '0.2.1', '0.2.0', Date.now());
    await guardStart(root, pkg, key);
    await guardStart(root, pkg, key);
    // Proved healthy: the trial is cleared by the release itself.
    state = withReport({ ...state, trial: null }, { kind: 'release', version: '0.2.1', state: 'healthy' });
    await writeState(root, state);
    for (let i = 0; i < MAX_TRIAL_STARTS + 2; i++)
      expect((await guardStart(root, pkg, key)).rolledBack).toBeUndefined();
    await startReleaseTrial(root, state, '0.2.2', '0.2.1', Date.now());
    for (let i = 0; i < MAX_TRIAL_STARTS; i++) expect((await guardStart(root, pkg, key)).rolledBack).toBeUndefined();
    expect((await guardStart(root, pkg, key)).rolledBack).toBeDefined();
    expect(readlinkSync(currentLink(root))).toBe('releases/0.2.1');
  });

  it("starts the package's own release when `current` leads nowhere (a slot removed by hand)", async () => {
    const { root, pkg } = await tree([]);
    await switchCurrent(root, '9.9.9');
    expect(await guardStart(root, pkg, key)).toEqual({ dir: pkg });
  });
  it('never starts a release whose files changed after the dock checked them: `current` goes, the report says why', async () => {
    const tamper: Array<[string, (slot: string) => void, string]> = [
      ['a file changed', (slot) => appendFileSync(path.join(slot, RELEASE_ENTRY), 'evil();\n'), 'does not match'],
      [
        'a file changed, same size',
        (slot) => writeFileSync(path.join(slot, 'package.json'), JSON.stringify({ version: '9.9.9' })),
        'package.json does not match',
      ],
      ['a file added', (slot) => writeFileSync(path.join(slot, 'dist', 'cli', 'extra.js'), '1'), 'not a file'],
      ['a file removed', (slot) => rmSync(path.join(slot, 'package.json')), 'package.json is missing'],
      ['a link', (slot) => symlinkSync('/etc/passwd', path.join(slot, 'dist', 'x.js')), 'not a file'],
      ['the manifest removed', (slot) => rmSync(path.join(slot, SIGNED_MANIFEST)), 'cannot be read'],
      [
        'the manifest of another slot',
        (slot) =>
          writeFileSync(
            path.join(slot, SIGNED_MANIFEST),
            readFileSync(path.join(slot, '..', '0.2.1', SIGNED_MANIFEST)),
          ),
        'not release 0.2.2',
      ],
    ];
    for (const [what, change, why] of tamper) {
      const { root, pkg } = await tree(['0.2.1', '0.2.2']);
      await switchCurrent(root, '0.2.2');
      expect(await guardStart(root, pkg, key), what).toEqual({ dir: currentLink(root) });
      change(releaseSlot(root, '0.2.2'));
      const o = await guardStart(root, pkg, key);
      expect(o, what).toEqual({ dir: pkg, refused: expect.stringContaining(why) });
      expect(() => readlinkSync(currentLink(root)), what).toThrow();
      expect((await readState(root)).reports, what).toEqual([
        { kind: 'release', version: '0.2.2', state: 'refused', reason: `not started: ${o.refused}` },
      ]);
    }
  });

  it('never starts a release signed by another key, and ends its trial', async () => {
    const { root, pkg } = await tree(['0.2.1']);
    await install(root, '0.2.2', generateKeyPairSync('ed25519').privateKey);
    await startReleaseTrial(root, await readState(root), '0.2.2', '0.2.1', Date.now());
    const o = await guardStart(root, pkg, key);
    expect(o).toEqual({ dir: pkg, refused: expect.stringContaining('bad signature') });
    expect((await readState(root)).trial).toBeNull();
  });
  it('never starts a `current` that leads anywhere but its slot, nor a slot that is a link', async () => {
    // A compromised daemon (the release root's owner) points `current` at its own directory named like an installed
    // release, or replaces a slot by a link to a copy: the genuine slot would pass the check, but is not what starts.
    const { root, pkg } = await tree(['0.2.1']);
    const evil = path.join(path.dirname(root), 'evil', '0.2.1');
    mkdirSync(path.dirname(path.join(evil, RELEASE_ENTRY)), { recursive: true });
    writeFileSync(path.join(evil, RELEASE_ENTRY), 'evil();\n');
    symlinkSync(evil, currentLink(root));
    expect(await guardStart(root, pkg, key)).toEqual({ dir: pkg, refused: expect.stringContaining('not to its slot') });
    expect(() => readlinkSync(currentLink(root))).toThrow();

    const other = await tree(['0.2.1']);
    const moved = path.join(path.dirname(other.root), 'copy');
    renameSync(releaseSlot(other.root, '0.2.1'), moved);
    symlinkSync(moved, releaseSlot(other.root, '0.2.1'));
    await switchCurrent(other.root, '0.2.1');
    expect(await guardStart(other.root, other.pkg, key)).toEqual({ dir: other.pkg, refused: 'its slot is a link' });
  });

  it("never starts a genuinely signed release older than the package's own (a downgrade placed in the release root)", async () => {
    // A compromised daemon keeps an old signed release (one with a flaw it can use again) and points `current` at it:
    // the signature and the files check out, so only the version tells it from a legitimate update.
    const [major, minor] = RELEASE.split('.').map(Number);
    const older = minor === 0 ? `${(major ?? 1) - 1}.9.0` : `${major}.${(minor ?? 1) - 1}.0`;
    const { root, pkg } = await tree([older]);
    await switchCurrent(root, older);
    expect(await guardStart(root, pkg, key)).toEqual({ dir: pkg, refused: expect.stringContaining('older than') });
    expect(() => readlinkSync(currentLink(root))).toThrow();
    expect((await readState(root)).reports.at(-1)).toMatchObject({ version: older, state: 'refused' });
  });
});
