/** The systemd unit in hardware/systemd: valid to systemd-analyze, Type=notify with a watchdog, sandboxed. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
  /** The Node the package and the bundle ship: Raspberry Pi OS's own nodejs is not 24. */
  const BUNDLED_NODE = '/opt/bodycam/node/bin/node';

  itWith('systemd-analyze')('passes systemd-analyze verify without a single complaint', () => {
    // verify also checks that ExecStart's binary exists: this machine has no /opt/bodycam, so the copy verified
    // here runs this test's own Node from the same place in the line; every other line is the unit's own.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-unit-'));
    const copy = path.join(dir, 'bodycam.service');
    writeFileSync(copy, text.replace(`ExecStart=${BUNDLED_NODE} `, `ExecStart=${process.execPath} `));
    expect(readFileSync(copy, 'utf8')).not.toBe(text);
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("runs the release's Node 24, where the package and build-image.sh --bundle put it", () => {
    expect(settings('ExecStart')[0]?.split(' ')[0]).toBe(BUNDLED_NODE);
    const bundle = readFileSync(path.resolve(import.meta.dirname, '../../scripts/image/build-image.sh'), 'utf8');
    expect(bundle).toContain('cp "$BUILD_NODE_DIR/bin/node" "$stage/node/bin/node"');
    const deb = readFileSync(path.resolve(import.meta.dirname, '../../scripts/package/build.sh'), 'utf8');
    expect(deb).toContain('app=$root/opt/bodycam');
    expect(deb).toContain('install -m 0755 "$BUILD_NODE_DIR/bin/node" "$app/node/bin/node"');
  });

  it('is Type=notify with NotifyAccess=all and a watchdog, restarted by systemd', () => {
    expect(settings('Type')).toEqual(['notify']);
    expect(settings('NotifyAccess')).toEqual(['all']);
    expect(Number(settings('WatchdogSec')[0])).toBeGreaterThan(0);
    expect(settings('Restart')).toEqual(['always']);
    expect(settings('KillMode')).toEqual(['mixed']);
  });

  it('runs the daemon with its Node flags, as a dedicated user, sandboxed', () => {
    const exec = settings('ExecStart')[0] ?? '';
    expect(exec).toContain(` ${DAEMON_NODE_FLAGS.join(' ')} `);
    expect(exec).toContain('dist/cli/bodycam.js run --config');
    expect(settings('User')).toEqual(['bodycam']);
    for (const key of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp']) expect(settings(key)).toEqual(['yes']);
    expect(settings('ProtectSystem')).toEqual(['strict']);
    expect(settings('DevicePolicy')).toEqual(['closed']);
    expect(settings('DeviceAllow').map((d) => d.split(' ')[0])).toEqual(
      expect.arrayContaining(['char-video4linux', 'char-alsa', 'char-gpiochip']),
    );
  });
});
