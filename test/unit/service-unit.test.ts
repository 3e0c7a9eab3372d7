/** The systemd unit in hardware/systemd: valid to systemd-analyze, Type=notify with a watchdog, sandboxed. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESTART_EXIT_CODE } from '../../src/camera/update/updater.ts';
import { DAEMON_NODE_FLAGS } from '../../src/lib/memory.ts';
import { itWith } from '../harness/tools.ts';

const UNIT = path.resolve(import.meta.dirname, '../../hardware/systemd/bodycam.service');
const text = readFileSync(UNIT, 'utf8');
const settings = (key: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

describe('bodycam.service', () => {
  /** The launcher the package and the bundle ship: the start guard, then the release on the package's Node 24. */
  const LAUNCHER = '/opt/bodycam/bin/bodycam-start';
  const launcherText = readFileSync(
    path.resolve(import.meta.dirname, '../../scripts/package/deb/bodycam-start'),
    'utf8',
  );

  itWith('systemd-analyze')('passes systemd-analyze verify without a single complaint', () => {
    // verify also checks that ExecStart's program exists: this machine has no /opt/bodycam, so the copy verified
    // here runs the launcher from the repository at the same place in the line; every other line is the unit's own.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-unit-'));
    const copy = path.join(dir, 'bodycam.service');
    const here = path.resolve(import.meta.dirname, '../../scripts/package/deb/bodycam-start');
    writeFileSync(copy, text.replace(`ExecStart=${LAUNCHER} `, `ExecStart=${here} `));
    expect(readFileSync(copy, 'utf8')).not.toBe(text);
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("starts through the package's launcher, which runs the release's Node 24 where the package and the bundle put it", () => {
    expect(settings('ExecStart')).toEqual([`${LAUNCHER} /etc/bodycam/config.json`]);
    expect(launcherText).toContain('node=$here/node/bin/node');
    expect(launcherText).toContain('"$node" "$here/dist/cli/start-guard.js" "$config" "$here"');
    const bundle = readFileSync(path.resolve(import.meta.dirname, '../../scripts/image/build-image.sh'), 'utf8');
    expect(bundle).toContain('cp "$BUILD_NODE_DIR/bin/node" "$stage/node/bin/node"');
    expect(bundle).toContain('install -m 0755 scripts/package/deb/bodycam-start "$stage/bin/bodycam-start"');
    const deb = readFileSync(path.resolve(import.meta.dirname, '../../scripts/package/build.sh'), 'utf8');
    expect(deb).toContain('app=$root/opt/bodycam');
    expect(deb).toContain('install -m 0755 "$BUILD_NODE_DIR/bin/node" "$app/node/bin/node"');
    expect(deb).toContain('install -m 0755 "$here/deb/bodycam-start" "$app/bin/bodycam-start"');
  });

  it('restarts at once on exit 75 (an update), and counts it as a clean stop', () => {
    expect(settings('SuccessExitStatus')).toEqual([String(RESTART_EXIT_CODE)]);
    expect(settings('RestartForceExitStatus')).toEqual([String(RESTART_EXIT_CODE)]);
  });

  it('is Type=notify with NotifyAccess=all and a watchdog, restarted by systemd', () => {
    expect(settings('Type')).toEqual(['notify']);
    expect(settings('NotifyAccess')).toEqual(['all']);
    expect(Number(settings('WatchdogSec')[0])).toBeGreaterThan(0);
    expect(settings('Restart')).toEqual(['always']);
    expect(settings('KillMode')).toEqual(['mixed']);
  });

  it('runs the daemon with its Node flags, as a dedicated user, sandboxed', () => {
    expect(launcherText).toContain(
      `exec "$node" ${DAEMON_NODE_FLAGS.join(' ')} "$dir/dist/cli/bodycam.js" run --config "$config"`,
    );
    // The release root is writable to the service; the package's own directory and the config are not.
    const rw = (settings('ReadWritePaths')[0] ?? '').split(' ');
    expect(rw).toContain('/var/lib/bodycam-update');
    expect(rw.filter((p) => p.includes('/opt') || p === '/etc/bodycam' || p === '-/etc/bodycam')).toEqual([]);
    expect(settings('User')).toEqual(['bodycam']);
    for (const key of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp']) expect(settings(key)).toEqual(['yes']);
    expect(settings('ProtectSystem')).toEqual(['strict']);
    expect(settings('DevicePolicy')).toEqual(['closed']);
    expect(settings('DeviceAllow').map((d) => d.split(' ')[0])).toEqual(
      expect.arrayContaining(['char-video4linux', 'char-alsa', 'char-gpiochip']),
    );
  });
});
