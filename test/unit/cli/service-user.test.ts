/**
 * Acting for the camera's service user: who it is (passwd and group files), what it may open (permission bits as
 * the kernel decides), and root handing it its files without ever following a link a less trusted user planted.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Account, accessProblem, parseAccount, permits, R, W, X } from '../../../src/cli/service-user.ts';
import { handTo, handTreeTo } from '../../../src/lib/ownership.ts';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'bodycam:x:998:998:bodycam camera daemon:/var/lib/bodycam:/usr/sbin/nologin',
  'other:x:1001:1001::/home/other:/bin/sh',
].join('\n');
const GROUP = [
  'root:x:0:',
  'video:x:44:bodycam',
  'audio:x:29:other,bodycam',
  'gpio:x:997:bodycam',
  'i2c:x:996:',
  'bodycam:x:998:',
].join('\n');

const bodycam = parseAccount('bodycam', PASSWD, GROUP) as Account;

describe('parseAccount', () => {
  it('reads uid, primary group and every group that lists the user', () => {
    expect(bodycam).toEqual({
      name: 'bodycam',
      uid: 998,
      gid: 998,
      groups: [44, 29, 997, 998],
      groupNames: ['video', 'audio', 'gpio', 'bodycam'],
    });
  });

  it('is null for a user that is not there, and not fooled by a group of the same name', () => {
    expect(parseAccount('nobody-here', PASSWD, GROUP)).toBeNull();
    expect(parseAccount('gpio', PASSWD, GROUP)).toBeNull();
  });
});

describe('permits (as the kernel decides for a non-root user)', () => {
  it.each([
    ['its own 0600 key: read', { uid: 998, gid: 998, mode: 0o100600 }, R, true],
    ["root's 0600 key: not read (what provision as root used to leave)", { uid: 0, gid: 0, mode: 0o100600 }, R, false],
    ['root:bodycam 0640 config: read through the group', { uid: 0, gid: 998, mode: 0o100640 }, R, true],
    ['root:bodycam 0640 config: not written', { uid: 0, gid: 998, mode: 0o100640 }, W, false],
    ['root:gpio 0660 gpiochip: read and write', { uid: 0, gid: 997, mode: 0o20660 }, R | W, true],
    ['root:root 0600 gpiochip (no udev rule): refused', { uid: 0, gid: 0, mode: 0o20600 }, R | W, false],
    ['root:root 0755 directory: entered by others', { uid: 0, gid: 0, mode: 0o40755 }, X, true],
    ['root:root 0700 directory: not entered', { uid: 0, gid: 0, mode: 0o40700 }, X, false],
    ['owner bits count, not group bits, for the owner', { uid: 998, gid: 44, mode: 0o100060 }, R, false],
  ])('%s', (_name, file, want, ok) => {
    expect(permits(bodycam, file, want)).toBe(ok);
  });
});

describe('accessProblem', () => {
  it('names the directory on the way that keeps the user out, or the file', async () => {
    const nobody: Account = { name: 'nobody', uid: 65534, gid: 65534, groups: [65534], groupNames: ['nogroup'] };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-access-'));
    chmodSync(dir, 0o755);
    const inner = path.join(dir, 'identity');
    mkdirSync(inner, { mode: 0o700 });
    writeFileSync(path.join(inner, 'device.key'), 'k', { mode: 0o600 });
    expect(await accessProblem(nobody, path.join(inner, 'device.key'), R)).toMatch(
      new RegExp(`^nobody cannot enter ${inner} \\(owner uid ${process.getuid?.()}, group gid \\d+, mode 700\\)$`),
    );
    writeFileSync(path.join(dir, 'open.txt'), 'x', { mode: 0o644 });
    expect(await accessProblem(nobody, path.join(dir, 'open.txt'), R)).toBeNull();
    expect(await accessProblem(nobody, path.join(dir, 'open.txt'), W)).toMatch(/nobody cannot write .*open\.txt/);
    expect(await accessProblem(nobody, path.join(dir, 'absent'), R)).toMatch(/absent does not exist$/);
  });
});

describe.skipIf(process.getuid?.() !== 0)('handTo (needs root to give files away)', () => {
  const nobody = { uid: 65534, gid: 65534 };

  it('gives a file and a directory to the user with the mode asked', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-handto-'));
    const key = path.join(dir, 'device.key');
    writeFileSync(key, 'k', { mode: 0o644 });
    expect(await handTo(key, nobody, 0o600, 'file')).toBe(true);
    expect(await handTo(dir, nobody, 0o700, 'dir')).toBe(true);
    for (const [p, mode] of [
      [key, 0o600],
      [dir, 0o700],
    ] as const) {
      const s = statSync(p);
      expect([s.uid, s.gid, s.mode & 0o7777]).toEqual([65534, 65534, mode]);
    }
    expect(await handTo(path.join(dir, 'absent'), nobody, 0o600, 'file')).toBe(false);
  });

  it('never follows a symbolic or hard link planted where the key should be', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-handto-'));
    const precious = path.join(dir, 'precious');
    writeFileSync(precious, 'root only', { mode: 0o600 });
    const key = path.join(dir, 'device.key');
    symlinkSync(precious, key);
    await expect(handTo(key, nobody, 0o600, 'file')).rejects.toThrow(/symbolic link/);
    const hard = path.join(dir, 'device2.key');
    linkSync(precious, hard);
    await expect(handTo(hard, nobody, 0o600, 'file')).rejects.toThrow(/linked 2 times/);
    const linkedDir = path.join(dir, 'identity');
    symlinkSync(dir, linkedDir);
    await expect(handTo(linkedDir, nobody, 0o700, 'dir')).rejects.toThrow(/symbolic link/);
    expect(statSync(precious).uid).toBe(0);
    expect(statSync(dir).uid).toBe(0);
  });

  it('gives a storage tree root filled, entry by entry, contents and modes unchanged, links left alone', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-handtree-'));
    const outside = path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-outside-')), 'precious');
    writeFileSync(outside, 'root only', { mode: 0o600 });
    mkdirSync(path.join(dir, 'footage/inc-1'), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, 'index.sqlite'), 'db', { mode: 0o600 });
    writeFileSync(path.join(dir, 'index.sqlite-wal'), 'wal', { mode: 0o644 });
    writeFileSync(path.join(dir, 'footage/inc-1/0000.mp4.age'), 'segment', { mode: 0o640 });
    symlinkSync(outside, path.join(dir, 'footage/inc-1/planted'));
    linkSync(outside, path.join(dir, 'footage/hard'));
    const done = await handTreeTo(dir, nobody);
    expect(done.given).toBe(5);
    expect(done.skipped.sort()).toEqual([
      `${path.join(dir, 'footage/hard')} (linked 2 times)`,
      `${path.join(dir, 'footage/inc-1/planted')} (a symbolic link)`,
    ]);
    for (const [p, mode] of [
      ['index.sqlite', 0o600],
      ['index.sqlite-wal', 0o644],
      ['footage', 0o700],
      ['footage/inc-1', 0o700],
      ['footage/inc-1/0000.mp4.age', 0o640],
    ] as const) {
      const st = statSync(path.join(dir, p));
      expect([p, st.uid, st.gid, st.mode & 0o7777]).toEqual([p, 65534, 65534, mode]);
    }
    expect(statSync(outside).uid).toBe(0);
    expect(statSync(dir).uid).toBe(0);
  });

  // Under arm64 emulation (qemu user mode) the swapping process is too slow to race the walk within the timeout.
  it.skipIf(process.arch !== 'x64')(
    'never leaves the tree while the new owner swaps a directory it was given for a link to one outside',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-handrace-'));
      const outside = mkdtempSync(path.join(os.tmpdir(), 'bodycam-outside-'));
      for (let i = 0; i < 40; i += 1) writeFileSync(path.join(outside, `precious-${i}`), 'root only', { mode: 0o600 });
      const dirs = 200;
      for (let d = 0; d < dirs; d += 1) {
        mkdirSync(path.join(dir, `inc-${d}`), { mode: 0o700 });
        for (let f = 0; f < 4; f += 1) writeFileSync(path.join(dir, `inc-${d}`, `${f}.mp4.age`), 's', { mode: 0o640 });
      }
      // What a process of the service user could do once a directory is its own: move it aside and put a link to
      // somewhere else in its place, as soon as root has given it, while root walks on.
      const swapper = spawn(
        process.execPath,
        [
          '-e',
          `const fs = require('node:fs'); const [dir, outside, n, uid] = process.argv.slice(1);
         const left = new Set(Array.from({ length: Number(n) }, (_, d) => dir + '/inc-' + d));
         process.stdout.write('go\\n');
         while (left.size > 0) for (const p of left) {
           try { if (fs.lstatSync(p).uid !== Number(uid)) continue; fs.renameSync(p, p + '.aside'); fs.symlinkSync(outside, p); left.delete(p); } catch {}
         }`,
          dir,
          outside,
          String(dirs),
          String(nobody.uid),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = once(swapper, 'exit');
      let done: Awaited<ReturnType<typeof handTreeTo>>;
      try {
        await once(swapper.stdout, 'data');
        done = await handTreeTo(dir, nobody);
      } finally {
        swapper.kill('SIGKILL');
        await exited;
      }
      expect(done.given).toBeGreaterThanOrEqual(dirs);
      const owners = readdirSync(outside).map((name) => [name, statSync(path.join(outside, name)).uid]);
      expect(owners.filter(([, uid]) => uid !== 0)).toEqual([]);
      expect(statSync(outside).uid).toBe(0);
    },
  );
});
