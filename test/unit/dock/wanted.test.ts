/**
 * Which release each camera should take (src/dock/updates.ts): held for cameras named, for a named group, or for every
 * camera of the dock, with the camera's own pin winning over its group and its group over every camera.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockLayout } from '../../../src/dock/layout.ts';
import { holdBundle, pendingUpdates, readWanted, wantedFor } from '../../../src/dock/updates.ts';
import { type BundleKind, packBundle } from '../../../src/protocol/bundle.ts';

const key = generateKeyPairSync('ed25519').privateKey;
const bundle = (version: string, kind: BundleKind = 'release') =>
  packBundle({ kind, version }, [{ path: 'package.json', bytes: Buffer.from(JSON.stringify({ version })) }], key);
const dock = () => dockLayout(mkdtempSync(path.join(os.tmpdir(), 'bodycam-wanted-')));

describe('releases wanted at the dock', () => {
  it('a group takes its release; its members named once are kept for the next; others take the fleet-wide one', async () => {
    const layout = dock();
    await holdBundle(layout, bundle('0.3.0'), { devices: [] });
    const held = await holdBundle(layout, bundle('0.4.0'), { devices: ['cam-2', 'cam-1'], group: 'pilot' });
    expect(held.devices).toEqual(['cam-1', 'cam-2']);
    let w = await readWanted(layout);
    expect(['cam-1', 'cam-2', 'cam-3'].map((d) => wantedFor(w, 'release', d))).toEqual(['0.4.0', '0.4.0', '0.3.0']);
    // The next release for the group, named by the group alone, goes to the same cameras.
    expect((await holdBundle(layout, bundle('0.4.1'), { devices: [], group: 'pilot' })).devices).toEqual([
      'cam-1',
      'cam-2',
    ]);
    w = await readWanted(layout);
    expect(['cam-1', 'cam-2', 'cam-3'].map((d) => wantedFor(w, 'release', d))).toEqual(['0.4.1', '0.4.1', '0.3.0']);
    // A camera's own pin wins over its group; putting it in a group again lifts the pin.
    await holdBundle(layout, bundle('0.3.5'), { devices: ['cam-1'] });
    expect(wantedFor(await readWanted(layout), 'release', 'cam-1')).toBe('0.3.5');
    await holdBundle(layout, bundle('0.4.2'), { devices: ['cam-1', 'cam-2'], group: 'pilot' });
    expect(wantedFor(await readWanted(layout), 'release', 'cam-1')).toBe('0.4.2');
    expect((await pendingUpdates(layout, ['cam-3'])).map((p) => `${p.device}:${p.wanted}`)).toEqual([
      'cam-1:0.4.2',
      'cam-2:0.4.2',
      'cam-3:0.3.0',
    ]);
  });

  it('refuses, writing nothing: a camera in two groups, an unknown group without cameras, a bad name, a config for a group', async () => {
    const layout = dock();
    await holdBundle(layout, bundle('0.4.0'), { devices: ['cam-1'], group: 'pilot' });
    const before = readFileSync(layout.releases.wanted, 'utf8');
    await expect(holdBundle(layout, bundle('0.5.0'), { devices: ['cam-1', 'cam-9'], group: 'north' })).rejects.toThrow(
      'cam-1 already in group pilot',
    );
    await expect(holdBundle(layout, bundle('0.5.0'), { devices: [], group: 'south' })).rejects.toThrow(
      'no group south yet',
    );
    await expect(holdBundle(layout, bundle('0.5.0'), { devices: ['cam-2'], group: '../x' })).rejects.toThrow(
      'group name "../x"',
    );
    await expect(holdBundle(layout, bundle('0.0.2', 'config'), { devices: ['cam-1'], group: 'pilot' })).rejects.toThrow(
      'a config bundle is for one camera',
    );
    expect(readFileSync(layout.releases.wanted, 'utf8')).toBe(before);
  });
  it('writes through no link planted at its temporary names (dock update may run as root)', async () => {
    const layout = dock();
    mkdirSync(layout.releases.dir, { recursive: true });
    const victim = path.join(path.dirname(layout.releases.dir), 'victim');
    writeFileSync(victim, 'untouched\n');
    symlinkSync(victim, `${layout.releases.wanted}.tmp`);
    const { file } = await holdBundle(layout, bundle('0.4.0'), { devices: [] });
    symlinkSync(victim, `${file}.tmp`);
    await holdBundle(layout, bundle('0.4.0'), { devices: [] });
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    expect(wantedFor(await readWanted(layout), 'release', 'cam-1')).toBe('0.4.0');
  });
});
