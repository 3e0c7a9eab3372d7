/**
 * The Debian package on a real system (BODYCAM_SYSTEM=1; .ci/run sets it): built for amd64 and arm64 and checked by
 * lintian; the amd64 one installed with apt into a fresh Debian 12 root and booted with systemd as PID 1 under qemu
 * (scripts/system). On a fresh install: the service user, `bodycam --version`, a sim camera provisioned by root and
 * started by systemd as that user, READY, a recording, a wedged capture restarted by the watchdog, the dock unit with
 * its broker, releases taken from the release root (one proves healthy through `current`, one broken at its entry is
 * put back by the start guard, and the camera records again), and a purge that keeps the evidence. On a camera recorded by 0.1.0: the upgrade needs no hands, every
 * 0.1.0 segment still decrypts, and the camera records.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  prepareSystem,
  REPO,
  runScenario,
  type ScenarioRun,
  type SystemCache,
  systemMissing,
} from '../../scripts/system/vm.ts';
import { RELEASE } from '../../src/lib/version.ts';

const missing =
  process.env['BODYCAM_SYSTEM'] === '1'
    ? systemMissing()
    : 'BODYCAM_SYSTEM=1 is not set (`BODYCAM_SYSTEM=1 npm run test:system`; .ci/run sets it)';
const itSystem = (title: string, fn: () => Promise<void>) =>
  missing === null ? it(title, fn) : it.skip(`${title} (skipped: ${missing})`, fn);

const FIXTURE = path.join(REPO, 'test/fixtures/camera-0.1.0');
const timings: string[] = [];
const debs: Record<'amd64' | 'arm64', string> = { amd64: '', arm64: '' };
let cache: SystemCache | undefined;

function fact(run: ScenarioRun, name: string): string {
  const f = run.facts.get(name);
  if (f === undefined)
    throw new Error(`the guest printed no ${name}\n--- console tail ---\n${run.console.slice(-6000)}`);
  return f.value;
}
const json = <T>(run: ScenarioRun, name: string): T => JSON.parse(fact(run, name)) as T;

interface Listed {
  trigger: string;
  state: string;
  warning: { state: string | null };
  segments: Array<{ state: string }>;
}

/** A version `n` patch releases after `v` (MAJOR.MINOR.PATCH). */
function bump(v: string, n: number): string {
  const [a, b, c] = v.split(/[.-]/);
  return `${a}.${b}.${Number(c) + n}`;
}

function build(arch: 'amd64' | 'arm64'): string {
  const t0 = Date.now();
  const r = spawnSync('bash', [path.join(REPO, 'scripts/package/build.sh'), '--arch', arch], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run package -- --arch ${arch} failed:\n${r.stderr.slice(-4000)}`);
  timings.push(`package ${arch}: ${((Date.now() - t0) / 1000).toFixed(0)} s (${r.stdout.trim()})`);
  return path.join(REPO, 'release', `bodycam_${RELEASE}_${arch}.deb`);
}

describe('the bodycam Debian package', () => {
  afterAll(() => {
    if (timings.length > 0)
      process.stdout.write(`\nsystem test timings:\n${timings.map((t) => `  ${t}`).join('\n')}\n`);
  });
  beforeAll(() => {
    if (missing !== null) return;
    debs.amd64 = build('amd64');
    debs.arm64 = build('arm64');
    const t0 = Date.now();
    cache = prepareSystem();
    timings.push(`Debian root, kernel and initramfs ready: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  });

  itSystem('is built for amd64 and arm64, each without a lintian error, with the control fields it needs', async () => {
    for (const arch of ['amd64', 'arm64'] as const) {
      const t0 = Date.now();
      const lint = spawnSync('lintian', ['--tag-display-limit', '0', debs[arch]], { encoding: 'utf8' });
      const errors = `${lint.stdout}`.split('\n').filter((l) => l.startsWith('E: '));
      expect(errors, arch).toEqual([]);
      timings.push(
        `lintian ${arch}: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${lint.stdout.split('\n').filter((l) => l.startsWith('W: ')).length} warnings, no error`,
      );
      const field = (name: string) =>
        spawnSync('dpkg-deb', ['-f', debs[arch], name], { encoding: 'utf8' }).stdout.trim();
      expect([field('Package'), field('Version'), field('Architecture')]).toEqual(['bodycam', RELEASE, arch]);
      expect(field('Depends')).toMatch(/ffmpeg.*alsa-utils.*espeak-ng/);
      expect(field('Recommends')).toContain('mosquitto');
      if (arch === 'arm64') expect(field('Recommends')).toContain('rpicam-apps');
      else expect(field('Recommends')).not.toContain('rpicam-apps');
      const files = spawnSync('dpkg-deb', ['-c', debs[arch]], { encoding: 'utf8' }).stdout;
      for (const f of [
        './opt/bodycam/node/bin/node',
        './opt/bodycam/release.json',
        './lib/systemd/system/bodycam.service',
        './lib/systemd/system/bodycam-dock.service',
        './usr/lib/sysusers.d/bodycam.conf',
        './lib/udev/rules.d/60-bodycam-gpio.rules',
      ]) {
        expect(files, `${arch} ${f}`).toContain(f);
      }
      expect(files).toMatch(/\.\/usr\/bin\/bodycam -> \/opt\/bodycam\/bin\/bodycam/);
    }
  });

  itSystem('installs with apt on a fresh Debian 12 and runs under systemd as its own user', async () => {
    if (cache === undefined) throw new Error('no system cache');
    const run = await runScenario(cache, { name: 'fresh', deb: debs.amd64, timeoutMs: 1_200_000 });
    timings.push(
      `fresh install: image ${run.seconds.image.toFixed(0)} s, VM ${run.seconds.vm.toFixed(0)} s (${fact(run, 'booted')}); camera READY ${/after=(\d+)/.exec(fact(run, 'started'))?.[1]} s after provisioning; watchdog restart ${/after=(\d+)/.exec(fact(run, 'watchdog'))?.[1]} s after the wedge`,
    );
    expect(run.install).toMatch(/Setting up bodycam \(/);
    expect(fact(run, 'version')).toBe(RELEASE);
    expect(fact(run, 'user')).toMatch(/^uid=\d+\(bodycam\) gid=\d+\(bodycam\) groups=.*/);
    for (const g of ['video', 'audio', 'gpio', 'i2c']) expect(fact(run, 'user')).toContain(`(${g})`);
    expect(fact(run, 'files')).toBe(
      'bin=/opt/bodycam/bin/bodycam unit=enabled dock=enabled udev=/lib/udev/rules.d/60-bodycam-gpio.rules',
    );
    // Enabled, but not started before it is provisioned (its condition), and not failed either.
    expect(fact(run, 'unprovisioned')).toMatch(/ActiveState=inactive .*Result=success/);
    // Provisioned by root: the service user owns its key and storage, and doctor reads the key as that user.
    expect(fact(run, 'provision')).toMatch(/^exit=0 .*owner {6}bodycam \(the service user\)/);
    expect(fact(run, 'owners')).toBe(
      'key=bodycam:bodycam 600 identity=bodycam 700 storage=bodycam 700 config=root:root 644',
    );
    const doctor = json<{ checkedAs: string; checks: Array<{ id: string; status: string }> }>(run, 'doctor');
    expect(doctor.checkedAs).toBe('bodycam');
    expect(doctor.checks.filter((c) => c.id === 'keys').map((c) => c.status)).toEqual(['pass']);
    // systemd starts it as bodycam and it says READY once buffering.
    expect(fact(run, 'started')).toMatch(/^exit=0 .*ActiveState=active SubState=running .*StatusText=buffering/);
    expect(fact(run, 'mainuser')).toBe('bodycam');
    const status = json<{ state: string; faults: unknown[]; identity: { origin: string } }>(run, 'status');
    expect([status.state, status.faults, status.identity.origin]).toEqual(['buffering', [], 'provisioned']);
    expect(json<{ state: string }>(run, 'recording').state).toBe('recording');
    const listed = json<{ incidents: Listed[] }>(run, 'list').incidents;
    expect(listed.map((i) => [i.state, i.warning.state])).toEqual([['closed', 'given']]);
    expect(listed[0]?.segments.length).toBeGreaterThan(0);
    expect(listed[0]?.segments.every((s) => s.state === 'closed')).toBe(true);
    expect(fact(run, 'decrypt')).toMatch(/^ok=[1-9]\d* failed=0$/);
    // A capture wedged for good: no more pings, systemd's watchdog restarts the camera, and it comes back.
    expect(fact(run, 'journal')).toContain('Watchdog timeout');
    expect(fact(run, 'journal')).toContain("Failed with result 'watchdog'");
    expect(Number(/NRestarts=(\d+)/.exec(fact(run, 'watchdog'))?.[1])).toBeGreaterThanOrEqual(1);
    expect(fact(run, 'restarted')).toMatch(/ActiveState=active SubState=running/);
    // The dock: READY as the service user, with its Mosquitto listening; the camera enrolled at it.
    expect(fact(run, 'enroll')).toMatch(/^exit=0 enrolled sys-cam /);
    expect(fact(run, 'dockinit')).toMatch(/^exit=0/);
    expect(fact(run, 'dockunit')).toMatch(
      /^exit=0 .*ActiveState=active SubState=running .*StatusText=receiving footage/,
    );
    expect(fact(run, 'dockuser')).toBe('bodycam');
    expect(fact(run, 'dockbroker')).toMatch(/bodycam +\S*mosquitto/);
    expect(fact(run, 'dockport')).toContain('127.0.0.1:8883');
    // Updates on systemd: the daemon runs through the launcher from the package while no `current` exists.
    expect(fact(run, 'through0')).toMatch(
      /^entry=\/opt\/bodycam\/dist\/cli\/bodycam\.js current=none root=bodycam 750 ActiveState=active /,
    );
    const [n1, n2] = [bump(RELEASE, 1), bump(RELEASE, 2)];
    expect(fact(run, 'pack1')).toMatch(new RegExp(`^exit=0 .*release ${n1}, \\d+ file`));
    expect(fact(run, 'install1')).toMatch(new RegExp(`^exit=0 .*${n1} on trial \\(previous ${RELEASE}, `));
    // N+1, placed as the updater leaves it, started through `current` after the daemon stopped, and proved healthy.
    const healthy = fact(run, 'healthy1');
    expect(healthy).toMatch(
      new RegExp(
        `^after=\\d+ trial=none release=${n1}:healthy entry=/var/lib/bodycam-update/current/dist/cli/bodycam\\.js current=releases/${n1} ActiveState=active SubState=running Result=success`,
      ),
    );
    // N+2 throws at its entry: the start guard (outside any release) puts N+1 back after its starts, and says so.
    expect(fact(run, 'install2')).toMatch(new RegExp(`^exit=0 ${n2} on trial \\(previous ${n1}, 2 files\\)`));
    const back = fact(run, 'rolledback');
    expect(back).toMatch(
      new RegExp(
        `^after=\\d+ trial=none release=${n2}:rolled-back \\(did not stay up: 3 starts without proving healthy\\) entry=/var/lib/bodycam-update/current/dist/cli/bodycam\\.js current=releases/${n1} ActiveState=active SubState=running`,
      ),
    );
    expect(fact(run, 'guard')).toContain('start guard: the release on trial did not stay up');
    // It records again, no evidence is gone (on the camera or handed to the dock) and its key is the same.
    expect(fact(run, 'recordsagain')).toBe(`incidents=2 missing=0 key=unchanged slots=${n1} ${n2} `);
    // N+1 changed in its slot after it was checked: never started again; the package's own release runs instead.
    expect(fact(run, 'tampered')).toMatch(
      new RegExp(
        `^after=\\d+ trial=none release=${n1}:refused \\(not started: dist/cli/bodycam\\.js does not match its manifest\\) entry=/opt/bodycam/dist/cli/bodycam\\.js current=none ActiveState=active SubState=running`,
      ),
    );
    expect(fact(run, 'guard2')).toContain('does not match its manifest');
    timings.push(
      `updates: N+1 healthy ${/after=(\d+)/.exec(healthy)?.[1]} s after the stop; broken N+2 put back and recording ${/after=(\d+)/.exec(back)?.[1]} s after the stop`,
    );
    // Purge: the software goes, the evidence, the key and the dock's store stay, and the footage still decrypts.
    expect(fact(run, 'purge')).toMatch(/^exit=0 .*kept \/var\/lib\/bodycam /);
    const after = fact(run, 'afterpurge');
    const before = /before=(\d+)/.exec(after)?.[1];
    expect(Number(before)).toBeGreaterThan(0);
    expect(after).toBe(
      `segments=${before} before=${before} index=kept key=kept dock=kept releases=gone opt=gone command=gone decrypt=[ok=${before} failed=0]`,
    );
    expect(fact(run, 'done')).toBe('fresh');
  });

  itSystem('upgrades a camera recorded by 0.1.0 with no hands: it starts, keeps its footage and records', async () => {
    if (cache === undefined) throw new Error('no system cache');
    const run = await runScenario(cache, {
      name: 'upgrade',
      deb: debs.amd64,
      timeoutMs: 600_000,
      // The camera as 0.1.0 left it, installed by hand as root (0.1.0 had no package and no service user); only the
      // frame rate and the speaker's directory are changed, for emulation.
      before: (root) => {
        const config = JSON.parse(readFileSync(path.join(FIXTURE, 'config.json'), 'utf8'));
        config.storage.dir = '/var/lib/bodycam';
        config.capture.source = { ...config.capture.source, fps: 10, speed: 1 };
        config.audio = { driver: 'file', dir: '/tmp/speaker' };
        mkdirSync(path.join(root, 'etc/bodycam'), { recursive: true });
        writeFileSync(path.join(root, 'etc/bodycam/config.json'), JSON.stringify(config, null, 2));
        cpSync(path.join(FIXTURE, 'storage'), path.join(root, 'var/lib/bodycam'), { recursive: true });
        cpSync(path.join(FIXTURE, 'custodian.key'), path.join(root, 'root/custodian.key'));
      },
    });
    timings.push(
      `0.1.0 upgrade: image ${run.seconds.image.toFixed(0)} s (apt install with bodycam upgrade), VM ${run.seconds.vm.toFixed(0)} s (${fact(run, 'booted')}); camera READY at ${run.facts.get('started')?.at.toFixed(0)} s of uptime`,
    );
    expect(run.install).toMatch(/upgrading \/etc\/bodycam\/config\.json \(device fixture-cam\)/);
    expect(run.install).toMatch(/made {6}\/etc\/bodycam\/prompts\/warning-nl\.wav/);
    expect(fact(run, 'started')).toMatch(/ActiveState=active SubState=running .*StatusText=buffering/);
    expect(fact(run, 'mainuser')).toBe('bodycam');
    expect(fact(run, 'owners')).toBe('key=bodycam:bodycam 600 identity=bodycam 700 storage=bodycam 700 index=bodycam');
    const status = json<{ faults: unknown[]; identity: { origin: string; toAnnounce: boolean } }>(run, 'status');
    expect(status.faults).toEqual([]);
    expect(status.identity).toMatchObject({ origin: 'created-at-start', toAnnounce: true });
    expect(fact(run, 'prompts')).toBe('warning-de.wav|warning-fr.wav|warning-nl.wav');
    const before = json<{ incidents: Listed[] }>(run, 'list').incidents;
    expect(before.map((i) => [i.trigger, i.state, i.segments.map((s) => s.state)])).toEqual([
      ['button', 'closed', ['closed', 'closed']],
      ['line:trigger', 'interrupted', ['closed', 'recovered']],
    ]);
    expect(fact(run, 'decrypt')).toBe('ok=4 failed=0');
    const after = json<{ incidents: Listed[] }>(run, 'list2').incidents;
    expect(after).toHaveLength(3);
    expect(after[2]?.state).toBe('closed');
    expect(after[2]?.warning.state).toBe('given');
    expect(after[2]?.segments.length).toBeGreaterThan(0);
    expect(fact(run, 'decrypt2')).toMatch(/^ok=([5-9]|\d\d) failed=0$/);
    expect(fact(run, 'verify')).toMatch(/^exit=0 /);
    const events = json<{ events: Array<{ kind: string }> }>(run, 'events').events.map((e) => e.kind);
    expect(events).toContain('device_key_created');
    expect(events).not.toContain('setup_fault');
    expect(fact(run, 'done')).toBe('upgrade');
  });
});
