/**
 * What the Debian package puts on a system, checked here without building it: both systemd units pass
 * systemd-analyze, the sysusers file makes the service user with its groups (applied to a scratch root), the
 * command wrapper runs the daemon's Node flags, and the purge keeps evidence unless asked (the postrm run against a
 * scratch DPKG_ROOT). The package itself is built, linted, installed and booted by test/system (BODYCAM_SYSTEM=1).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../../../src/lib/memory.ts';
import { itWith } from '../../harness/tools.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const read = (p: string) => readFileSync(path.join(REPO, p), 'utf8');
const settings = (text: string, key: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'bodycam-package-'));

describe('the units', () => {
  itWith('systemd-analyze')('bodycam-dock.service passes systemd-analyze verify without a complaint', () => {
    const text = read('hardware/systemd/bodycam-dock.service');
    const copy = path.join(tmp(), 'bodycam-dock.service');
    // verify also checks that ExecStart's binary exists: this machine has no /opt/bodycam.
    writeFileSync(copy, text.replace('ExecStart=/opt/bodycam/node/bin/node ', `ExecStart=${process.execPath} `));
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the dock unit is Type=notify, runs `dock run` on the state directory as bodycam, sandboxed', () => {
    const text = read('hardware/systemd/bodycam-dock.service');
    expect(settings(text, 'Type')).toEqual(['notify']);
    expect(settings(text, 'NotifyAccess')).toEqual(['all']);
    expect(settings(text, 'ExecStart')).toEqual([
      '/opt/bodycam/node/bin/node /opt/bodycam/dist/cli/bodycam.js dock run --dir /var/lib/bodycam-dock',
    ]);
    expect(settings(text, 'StateDirectory')).toEqual(['bodycam-dock']);
    expect(settings(text, 'ConditionPathExists')).toEqual(['/var/lib/bodycam-dock/dock.json']);
    expect(settings(text, 'User')).toEqual(['bodycam']);
    expect(settings(text, 'ProtectSystem')).toEqual(['strict']);
  });

  it('the camera unit waits for provisioning, may make its key, and tolerates a board without sysfs GPIO', () => {
    const text = read('hardware/systemd/bodycam.service');
    expect(settings(text, 'ConditionPathExists')).toEqual(['/etc/bodycam/config.json']);
    expect(settings(text, 'ReadWritePaths')[0]?.split(' ')).toEqual([
      '/var/lib/bodycam',
      '/var/lib/bodycam-update',
      '-/sys/class/gpio',
      '-/etc/bodycam/identity',
    ]);
    expect(settings(text, 'SupplementaryGroups')).toEqual(['video audio gpio i2c']);
  });
});

describe('the service user (sysusers.d)', () => {
  itWith('systemd-sysusers')('makes bodycam, and the gpio and i2c groups only where the system lacks them', () => {
    const root = tmp();
    mkdirSync(path.join(root, 'etc'));
    // A Raspberry Pi OS-like system: gpio exists (gid 997), i2c does not.
    writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\naudio:x:29:\nvideo:x:44:\ngpio:x:997:\n');
    const r = spawnSync('systemd-sysusers', [`--root=${root}`, path.join(REPO, 'hardware/sysusers/bodycam.conf')], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const passwd = readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    const group = readFileSync(path.join(root, 'etc/group'), 'utf8');
    expect(passwd).toMatch(/^bodycam:x:\d+:\d+:bodycam camera and dock:\/var\/lib\/bodycam:\/usr\/sbin\/nologin$/m);
    expect(group).toMatch(/^gpio:x:997:bodycam$/m);
    expect(group).toMatch(/^video:x:44:bodycam$/m);
    expect(group).toMatch(/^audio:x:29:bodycam$/m);
    expect(group).toMatch(/^i2c:x:\d+:bodycam$/m);
    expect(group).toMatch(/^bodycam:x:\d+:$/m);
  });
});

describe('the command', () => {
  it("runs the package's Node with the daemon's flags, wherever it is linked from", () => {
    const text = read('scripts/package/deb/bodycam');
    expect(text).toContain(
      `exec "$here/node/bin/node" ${DAEMON_NODE_FLAGS.join(' ')} "$here/dist/cli/bodycam.js" "$@"`,
    );
    expect(text).toContain('readlink -f "$0"');
  });
});

describe('purge', () => {
  const postrm = path.join(REPO, 'scripts/package/deb/postrm');
  function system() {
    const root = tmp();
    for (const d of ['var/lib/bodycam/footage/inc-1', 'var/lib/bodycam-dock/evidence', 'etc/bodycam/identity']) {
      mkdirSync(path.join(root, d), { recursive: true });
    }
    writeFileSync(path.join(root, 'var/lib/bodycam/footage/inc-1/0000.mp4.age'), 'sealed');
    writeFileSync(path.join(root, 'etc/bodycam/identity/device.key'), 'key');
    return root;
  }
  const purge = (root: string, env: Record<string, string> = {}) =>
    spawnSync('sh', [postrm, 'purge'], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'], DPKG_ROOT: root, ...env },
    });

  it('keeps the evidence, the key and the dock store, and says how to remove them', () => {
    const root = system();
    const r = purge(root);
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(root, 'var/lib/bodycam/footage/inc-1/0000.mp4.age'), 'utf8')).toBe('sealed');
    expect(existsSync(path.join(root, 'etc/bodycam/identity/device.key'))).toBe(true);
    expect(existsSync(path.join(root, 'var/lib/bodycam-dock/evidence'))).toBe(true);
    expect(r.stderr).toContain(
      'kept /var/lib/bodycam (evidence and keys: BODYCAM_PURGE_EVIDENCE=yes dpkg --purge bodycam',
    );
  });

  it('removes them only when asked with BODYCAM_PURGE_EVIDENCE=yes', () => {
    for (const value of ['no', 'YES', '1']) {
      const root = system();
      purge(root, { BODYCAM_PURGE_EVIDENCE: value });
      expect(existsSync(path.join(root, 'var/lib/bodycam/footage/inc-1/0000.mp4.age')), value).toBe(true);
    }
    const root = system();
    const r = purge(root, { BODYCAM_PURGE_EVIDENCE: 'yes' });
    expect(r.status).toBe(0);
    for (const d of ['var/lib/bodycam', 'var/lib/bodycam-dock', 'etc/bodycam'])
      expect(existsSync(path.join(root, d))).toBe(false);
  });

  it('a removal (not a purge) keeps everything', () => {
    const root = system();
    const r = spawnSync('sh', [postrm, 'remove'], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'], DPKG_ROOT: root },
    });
    expect(r.status).toBe(0);
    expect(existsSync(path.join(root, 'var/lib/bodycam/footage/inc-1/0000.mp4.age'))).toBe(true);
  });
});
