/**
 * The walk: what a path is read as (from the set of entries it holds, never one file), and everything in an evidence
 * tree that has no place in its layout (links, hidden entries, lost+found, unknown names, the wrong type) reported as
 * an error naming its path, and not read.
 */
import { cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../../src/evidence/classify.ts';
import { verifyDirectory } from '../../../src/evidence/verify.ts';
import { openTree } from '../../../src/evidence/walk.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';
import {
  type DeviceBuilder,
  INC_A,
  INC_B,
  keysOf,
  removeTempDirs,
  seg,
  standardDevice,
  summary,
  tempDir,
} from './builder.ts';

afterAll(removeTempDirs);

async function tree(entries: Record<string, 'file' | 'dir'>): Promise<string> {
  const root = await tempDir('layout-');
  for (const [name, kind] of Object.entries(entries)) {
    const p = path.join(root, name);
    await mkdir(kind === 'dir' ? p : path.dirname(p), { recursive: true });
    if (kind === 'file')
      await writeFile(p, name.endsWith('config.json') ? '{"device":{"id":"cam-1"},"storage":{"dir":"storage"}}' : '');
  }
  return root;
}

describe('classify', () => {
  it.each<[string, Record<string, 'file' | 'dir'>, string]>([
    ['a camera directory', { 'config.json': 'file', identity: 'dir', storage: 'dir' }, 'camera-directory'],
    ['a camera storage', { 'index.sqlite': 'file', 'audit.jsonl': 'file', footage: 'dir' }, 'camera-storage'],
    ['a fresh camera storage', { 'index.sqlite': 'file', 'audit.jsonl': 'file' }, 'camera-storage'],
    ['a dock directory', { 'dock.json': 'file', identity: 'dir', evidence: 'dir', devices: 'dir' }, 'dock-directory'],
    ["a dock's evidence", { 'cam-1/audit.jsonl': 'file', 'cam-2/device.pub': 'file' }, 'dock-evidence'],
    [
      "a dock's evidence with an audit log dropped on top",
      { 'audit.jsonl': 'file', 'cam-1/audit.jsonl': 'file' },
      'dock-evidence',
    ],
  ])('reads %s', async (_what, entries, kind) => {
    expect((await classify(await tree(entries))).kind).toBe(kind);
  });

  it.each<[string, Record<string, 'file' | 'dir'>]>([
    ['one audit log alone', { 'audit.jsonl': 'file' }],
    ['an index alone', { 'index.sqlite': 'file' }],
    ['a config without identity/', { 'config.json': 'file', storage: 'dir' }],
    ['a dock.json alone', { 'dock.json': 'file', evidence: 'dir' }],
    [
      'unrelated files beside one device-like directory',
      { a: 'file', b: 'file', c: 'dir', 'cam-1/audit.jsonl': 'file' },
    ],
    ['nothing', {}],
  ])('refuses %s, naming what it expected', async (_what, entries) => {
    const e = await classify(await tree(entries)).catch((x: unknown) => x);
    expect(isBodycamError(e, 'EVIDENCE_UNREADABLE')).toBe(true);
    expect((e as Error).message).toMatch(
      /expected a camera directory .* a camera storage directory .* a dock directory/,
    );
  });

  it("takes a camera directory's evidence and device from its config, and refuses a linked storage", async () => {
    const root = await tree({ 'config.json': 'file', identity: 'dir', elsewhere: 'dir' });
    await symlink('elsewhere', path.join(root, 'storage'));
    const t = await openTree(root);
    expect(t.layout).toMatchObject({ kind: 'camera-directory', device: 'cam-1', evidence: path.join(root, 'storage') });
    expect(t.devices).toEqual([]);
    expect(t.findings.findings().map((f) => f.message)).toEqual([
      expect.stringMatching(/symbolic link \(not followed\)/),
    ]);
  });
});

describe('anything without a place in the layout is an error, and is not read', () => {
  let pristine: string;
  let device: DeviceBuilder;
  beforeAll(async () => {
    pristine = await tempDir();
    device = await standardDevice(pristine);
  });
  const copy = async () => {
    const dir = await tempDir('walk-');
    await cp(pristine, dir, { recursive: true });
    return dir;
  };
  const A0 = seg(INC_A, 0);

  it.each<[string, (dir: string) => Promise<unknown>, string[]]>([
    [
      'a segment replaced by a symbolic link',
      async (d) => {
        await rm(path.join(d, A0));
        await symlink(path.join(d, seg(INC_A, 1)), path.join(d, A0));
      },
      [`error unexpected-entry ${A0}`, `error missing-segment ${A0}`],
    ],
    [
      'an incident directory replaced by a symbolic link',
      async (d) => {
        await rm(path.join(d, 'footage', INC_B), { recursive: true });
        await symlink(INC_A, path.join(d, 'footage', INC_B));
      },
      [`error unexpected-entry footage/${INC_B}`],
    ],
    [
      'a hidden file in an incident',
      (d) => writeFile(path.join(d, 'footage', INC_A, '.0000.mp4.age'), 'x'),
      [`error unexpected-entry footage/${INC_A}/.0000.mp4.age`],
    ],
    [
      'a hidden directory in footage/',
      (d) => mkdir(path.join(d, 'footage', '.old')),
      ['error unexpected-entry footage/.old'],
    ],
    [
      'an unknown file in the storage',
      (d) => writeFile(path.join(d, 'notes.txt'), 'x'),
      ['error unexpected-entry notes.txt'],
    ],
    [
      'an unknown directory in footage/',
      (d) => mkdir(path.join(d, 'footage', 'footage')),
      ['error unexpected-entry footage/footage'],
    ],
    [
      'a lost+found holding files',
      async (d) => {
        await mkdir(path.join(d, 'lost+found'));
        await writeFile(path.join(d, 'lost+found', '#1234'), 'x');
      },
      ['error unexpected-entry lost+found'],
    ],
    ['an empty lost+found', (d) => mkdir(path.join(d, 'lost+found')), ['warning lost-found lost+found']],
    [
      'a directory where a segment belongs',
      async (d) => {
        await rm(path.join(d, A0));
        await mkdir(path.join(d, A0));
      },
      [`error unexpected-entry ${A0}`, `error missing-segment ${A0}`],
    ],
    [
      'a file where footage/ belongs',
      async (d) => {
        await rm(path.join(d, 'footage'), { recursive: true });
        await writeFile(path.join(d, 'footage'), '');
      },
      ['error unexpected-entry footage'],
    ],
    [
      'an incident of another device',
      (d) =>
        cp(path.join(d, 'footage', INC_A), path.join(d, 'footage', 'cam-9-20260301T100000Z-0000'), { recursive: true }),
      ['error foreign-incident footage/cam-9-20260301T100000Z-0000'],
    ],
    [
      'a receipt being written and a manifest being renamed (work files)',
      async (d) => {
        await writeFile(path.join(d, `${A0}.receipt.json.tmp`), '{');
        await writeFile(path.join(d, `${A0}.manifest.json.tmp`), '{');
      },
      [],
    ],
  ])('%s', async (_what, tamper, expected) => {
    const dir = await copy();
    await tamper(dir);
    const report = await verifyDirectory(dir, keysOf(device));
    const found = summary(report);
    for (const e of expected) expect(found).toContain(e);
    if (expected.length === 0) expect(found).toEqual([]);
    // Nothing behind a link or a hidden name was read.
    expect(report.files.some((f) => f.file.includes('/.') || f.file.startsWith('.'))).toBe(false);
  });

  it("accepts the running daemon's control socket, and only as a socket", async () => {
    const dir = await copy();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'bodycam.sock'), resolve));
    try {
      expect(summary(await verifyDirectory(dir, keysOf(device)))).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await writeFile(path.join(dir, 'bodycam.sock'), '');
    expect(summary(await verifyDirectory(dir, keysOf(device)))).toEqual(['error unexpected-entry bodycam.sock']);
  });

  it('at a dock: a receipt or a footage/ directory inside a device are errors', async () => {
    const dock = await tempDir();
    const d = await standardDevice(path.join(dock, 'cam-0042'), 'dock');
    await writeFile(path.join(dock, 'cam-0042', INC_A, '0000.mp4.age.receipt.json'), '{}');
    await mkdir(path.join(dock, 'cam-0042', 'footage'));
    const found = summary(await verifyDirectory(dock, keysOf(d)));
    expect(found).toContain(`error unexpected-entry cam-0042/${INC_A}/0000.mp4.age.receipt.json`);
    expect(found).toContain('error unexpected-entry cam-0042/footage');
  });
});
