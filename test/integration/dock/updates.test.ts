/**
 * Signed updates delivered at the dock (issue 21 items 1 and 2), with real processes: a dock station with its
 * Mosquitto on loopback, cameras run from a release root (releases/<version>, `current`) by a supervisor that
 * stands in for systemd behind the unit's contract (start `current`; start it again on exit status 75). A camera on
 * release N docks, fetches N+1 through the dock, checks it against its provisioned release key, switches, restarts
 * and proves itself healthy; a release that cannot prove itself healthy goes back by itself; a bundle signed by
 * another key and an old release are refused; a recording started first is never interrupted; config changes are
 * applied, refused by the config rules, or rolled back.
 */
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockLayout } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { type PendingUpdate, pendingUpdates, readReports } from '../../../src/dock/updates.ts';
import { enrollCamera, makeDock, type TestDock } from '../../harness/broker.ts';
import { type Camera, cli, cliAsync, list, makeSimCamera, type Status } from '../../harness/daemon.ts';
import { captureLogger, quietCamera } from '../../harness/dock.ts';
import { pack, releaseRoot, releaseTree, Supervisor } from '../../harness/supervisor.ts';

const N = '0.2.0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(
  probe: () => Promise<T | null | undefined | false>,
  what: string,
  ms: number,
  log = () => '',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log().slice(-4000)}`);
    await sleep(250);
  }
}

async function status(camera: Camera): Promise<Status | null> {
  const r = await cliAsync(['ctl', '--config', camera.configFile, 'status']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Status) : null;
}

/** The sim dock-sense line is the daemon's own state: set it again at each start, as a camera left in the dock. */
async function keepDocked(camera: Camera): Promise<void> {
  for (let i = 0; i < 240; i++) {
    const r = await cliAsync(['ctl', '--config', camera.configFile, 'set', 'dock', 'on']);
    if (r.code === 0) return;
    await sleep(250);
  }
}

describe('signed updates delivered at the dock', () => {
  let d: TestDock;
  let station: DockStation;
  let work: string;
  let releaseKey: string;
  let otherKey: string;
  let siteKey: string;
  const bundles: Record<string, string> = {};
  const sups: Supervisor[] = [];
  const { logger } = captureLogger();

  const keygen = (name: string) => {
    const out = path.join(work, name);
    const r = cli(['bundle', 'keygen', '--out', out]);
    if (r.code !== 0) throw new Error(r.stderr);
    return out;
  };
  const hold = (bundle: string, device: string) => {
    const r = cli(['dock', 'update', '--dir', d.dir, '--bundle', bundle, '--device', device]);
    if (r.code !== 0) throw new Error(r.stderr);
  };
  const pending = async (device: string, kind: 'release' | 'config' = 'release'): Promise<PendingUpdate | undefined> =>
    (await pendingUpdates(dockLayout(d.dir), [])).find((u) => u.device === device && u.kind === kind);

  /** An enrolled camera running release N from its own root, under the supervisor, docked. */
  function camera(id: string, healthSeconds = 20): { camera: Camera; root: string; sup: Supervisor } {
    const root = releaseRoot(N);
    const cam = makeSimCamera((c) => {
      quietCamera(id)(c);
      c['update'] = { root, releaseKey: `${releaseKey}.pub`, configKey: `${siteKey}.pub`, healthSeconds };
    });
    enrollCamera(d.dir, cam.configFile);
    const sup = new Supervisor(root, cam.configFile, () => void keepDocked(cam));
    sups.push(sup);
    return { camera: cam, root, sup };
  }

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'bodycam-updates-'));
    releaseKey = keygen('release.key');
    otherKey = keygen('other.key');
    siteKey = keygen('site-config.key');
    bundles['good'] = pack(
      'release',
      '0.2.1',
      releaseKey,
      releaseTree(path.join(work, 'r-0.2.1'), '0.2.1'),
      path.join(work, 'good.bundle'),
    );
    // A release whose health check never passes: it must go back by itself.
    const sick = releaseTree(path.join(work, 'r-0.2.2'), '0.2.2', (dir) =>
      writeFileSync(
        path.join(dir, 'dist/camera/update/health.js'),
        "export function healthProblem() { return 'this release never proves healthy'; }\n",
      ),
    );
    bundles['sick'] = pack('release', '0.2.2', releaseKey, sick, path.join(work, 'sick.bundle'));
    bundles['forged'] = pack(
      'release',
      '0.2.3',
      otherKey,
      path.join(work, 'r-0.2.1'),
      path.join(work, 'forged.bundle'),
    );
    bundles['old'] = pack(
      'release',
      '0.1.9',
      releaseKey,
      releaseTree(path.join(work, 'r-0.1.9'), '0.1.9'),
      path.join(work, 'old.bundle'),
    );
    d = await makeDock();
    station = new DockStation(d.dir, logger);
    await station.start();
  }, 120_000);

  afterAll(async () => {
    for (const s of sups) await s.stop();
    await station?.stop();
  }, 60_000);

  it('a docked camera on N takes N+1 through the dock, restarts into it, proves healthy and reports it', async () => {
    const { camera: cam, root, sup } = camera('cam-up1');
    const keyBefore = readFileSync(path.join(cam.dir, 'identity', 'device.pub'), 'utf8');
    const configBefore = readFileSync(cam.configFile, 'utf8');
    hold(bundles['good'] ?? '', 'cam-up1');
    sup.start();
    await eventually(
      async () => sup.starts.length >= 2 && sup.starts[1]?.release === '0.2.1',
      'restart into 0.2.1',
      90_000,
      () => sup.log,
    );
    expect(sup.starts[0]).toEqual({ release: N, code: 75 });
    const u = await eventually(
      async () => {
        const p = await pending('cam-up1');
        return p?.state === 'healthy' ? p : null;
      },
      'the dock told it is healthy',
      90_000,
      () => sup.log,
    );
    expect(u).toMatchObject({ wanted: '0.2.1', running: '0.2.1', state: 'healthy' });
    expect(readlinkSync(path.join(root, 'current'))).toBe('releases/0.2.1');
    // The previous release stays beside it; evidence key and config untouched.
    expect(existsSync(path.join(root, 'releases', N, 'package.json'))).toBe(true);
    expect(readFileSync(path.join(cam.dir, 'identity', 'device.pub'), 'utf8')).toBe(keyBefore);
    expect(readFileSync(cam.configFile, 'utf8')).toBe(configBefore);
    const state = JSON.parse(readFileSync(path.join(root, 'update-state.json'), 'utf8'));
    expect(state.trial).toBeNull();
    expect(state.reports).toContainEqual({ kind: 'release', version: '0.2.1', state: 'healthy' });
    const text = cli(['dock', 'status', '--dir', d.dir]).stdout;
    expect(text).toContain('cam-up1: release 0.2.1 healthy (running 0.2.1)');
    expect(sup.running).toBe(true);
  }, 240_000);

  it('a camera already docked and idle takes a release held while it sits there, without being undocked', async () => {
    const { sup } = camera('cam-up6');
    sup.start();
    // In session at the dock (its hello kept) before anything is held for it.
    await eventually(async () => (await readReports(dockLayout(d.dir)))['cam-up6'], 'the hello of cam-up6', 60_000);
    hold(bundles['good'] ?? '', 'cam-up6');
    await eventually(
      async () => sup.starts.length >= 2 && sup.starts[1]?.release === '0.2.1',
      'restart into 0.2.1 while docked',
      90_000,
      () => sup.log,
    );
    expect(sup.starts[0]).toEqual({ release: N, code: 75 });
    const u = await eventually(
      async () => {
        const p = await pending('cam-up6');
        return p?.state === 'healthy' ? p : null;
      },
      'the dock told it is healthy',
      90_000,
      () => sup.log,
    );
    expect(u).toMatchObject({ wanted: '0.2.1', running: '0.2.1', state: 'healthy' });
  }, 240_000);

  it('a release that cannot prove itself healthy goes back to the previous one by itself and says why', async () => {
    const { root, sup } = camera('cam-up2', 10);
    hold(bundles['sick'] ?? '', 'cam-up2');
    sup.start();
    await eventually(
      async () => sup.starts.length >= 3,
      'update, then rollback',
      150_000,
      () => sup.log,
    );
    expect(sup.starts.map((s) => s.release)).toEqual([N, '0.2.2', N]);
    expect(sup.starts[1]?.code).toBe(75);
    expect(readlinkSync(path.join(root, 'current'))).toBe(`releases/${N}`);
    const u = await eventually(
      async () => {
        const p = await pending('cam-up2');
        return p?.state === 'rolled-back' ? p : null;
      },
      'the dock told of the rollback',
      60_000,
      () => sup.log,
    );
    expect(u.running).toBe(N);
    expect(u.reason).toContain('this release never proves healthy');
    expect(cli(['dock', 'status', '--dir', d.dir]).stdout).toMatch(
      /cam-up2: release 0\.2\.2 ROLLED-BACK \(running 0\.2\.0\): not healthy within 10 s/,
    );
    // Not offered again: it stays on N.
    await sleep(3000);
    expect(sup.starts).toHaveLength(3);
  }, 240_000);

  it('a bundle signed by another key, and an older release, are refused: the camera stays on N', async () => {
    const { camera: cam, root, sup } = camera('cam-up3');
    hold(bundles['forged'] ?? '', 'cam-up3');
    sup.start();
    const forged = await eventually(
      async () => {
        const p = await pending('cam-up3');
        return p?.state === 'refused' ? p : null;
      },
      'the forged bundle refused',
      90_000,
      () => sup.log,
    );
    expect(forged.reason).toContain('bad signature');
    // A replayed old release, correctly signed: a downgrade, refused.
    hold(bundles['old'] ?? '', 'cam-up3');
    await cliAsync(['ctl', '--config', cam.configFile, 'set', 'dock', 'off']);
    await sleep(500);
    await keepDocked(cam);
    const old = await eventually(
      async () => {
        const p = await pending('cam-up3');
        return p?.wanted === '0.1.9' && p.state === 'refused' ? p : null;
      },
      'the downgrade refused',
      90_000,
      () => sup.log,
    );
    expect(old.reason).toContain('downgrade from 0.2.0 to 0.1.9 refused');
    expect(sup.starts).toEqual([{ release: N, code: null }]);
    expect(readlinkSync(path.join(root, 'current'))).toBe(`releases/${N}`);
  }, 240_000);

  it('a recording under way wins: the update waits, the incident is recorded whole, then the update goes in', async () => {
    const { camera: cam, sup } = camera('cam-up4');
    sup.start();
    await eventually(
      async () => (await status(cam))?.sync?.connected === true,
      'docked',
      60_000,
      () => sup.log,
    );
    await cliAsync(['ctl', '--config', cam.configFile, 'press', 'trigger', '--count', '1']);
    await eventually(
      async () => (await status(cam))?.state === 'recording',
      'recording',
      20_000,
      () => sup.log,
    );
    hold(bundles['good'] ?? '', 'cam-up4');
    // The dock offers at a hello: undock and dock again while recording.
    await cliAsync(['ctl', '--config', cam.configFile, 'set', 'dock', 'off']);
    await sleep(500);
    await keepDocked(cam);
    const deferred = await eventually(
      async () => {
        const p = await pending('cam-up4');
        return p?.reason === 'recording' ? p : null;
      },
      'the update deferred',
      60_000,
      () => sup.log,
    );
    expect(deferred.state).toBe('pending');
    await sleep(3000);
    expect((await status(cam))?.state).toBe('recording');
    expect(sup.starts).toHaveLength(1);
    await cliAsync(['ctl', '--config', cam.configFile, 'press', 'record', '--count', '1', '--hold', '3500']);
    await eventually(
      async () => sup.starts.length >= 2,
      'the update after the recording',
      90_000,
      () => sup.log,
    );
    expect(sup.starts.map((s) => s.release)).toEqual([N, '0.2.1']);
    const incidents = list(cam);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.segments.length).toBeGreaterThan(0);
    expect(incidents[0]?.stoppedAt).not.toBeNull();
    await eventually(
      async () => (await pending('cam-up4'))?.state === 'healthy',
      'healthy',
      90_000,
      () => sup.log,
    );
  }, 240_000);

  it('config changes signed by the site: applied and healthy, refused by the rules, rolled back when unhealthy', async () => {
    const { camera: cam, sup } = camera('cam-up5', 10);
    const original = readFileSync(cam.configFile, 'utf8');
    const doc = JSON.parse(original) as Record<string, any>;
    const write = (name: string, patch: (c: Record<string, any>) => void) => {
      const c = structuredClone(doc);
      patch(c);
      const f = path.join(work, name);
      writeFileSync(f, JSON.stringify(c, null, 2));
      return f;
    };
    const debug = write('cfg-1.0.0.json', (c) => {
      c['log'] = { ...(c['log'] ?? {}), level: 'debug' };
    });
    hold(pack('config', '1.0.0', siteKey, debug, path.join(work, 'cfg-1.0.0.bundle')), 'cam-up5');
    sup.start();
    await eventually(
      async () => (await pending('cam-up5', 'config'))?.state === 'healthy',
      'config 1.0.0 healthy',
      90_000,
      () => sup.log,
    );
    expect(JSON.parse(readFileSync(cam.configFile, 'utf8')).log.level).toBe('debug');
    const applied = readFileSync(cam.configFile, 'utf8');

    // Another camera's config, correctly signed: refused (device id), nothing changed, no restart.
    const starts = sup.starts.length;
    const other = write('cfg-1.0.1.json', (c) => {
      c['device'].id = 'cam-other';
    });
    hold(pack('config', '1.0.1', siteKey, other, path.join(work, 'cfg-1.0.1.bundle')), 'cam-up5');
    await cliAsync(['ctl', '--config', cam.configFile, 'set', 'dock', 'off']);
    await sleep(500);
    await keepDocked(cam);
    const refused = await eventually(
      async () => {
        const p = await pending('cam-up5', 'config');
        return p?.wanted === '1.0.1' && p.state === 'refused' ? p : null;
      },
      'config for another camera refused',
      60_000,
      () => sup.log,
    );
    expect(refused.reason).toContain('not this camera');
    expect(readFileSync(cam.configFile, 'utf8')).toBe(applied);
    expect(sup.starts).toHaveLength(starts);

    // A config that passes the rules but on which capture cannot run: back to the previous config by itself.
    const broken = write('cfg-1.0.2.json', (c) => {
      c['log'] = { ...(c['log'] ?? {}), level: 'debug' };
      c['capture'].ffmpegPath = '/nonexistent/ffmpeg';
    });
    hold(pack('config', '1.0.2', siteKey, broken, path.join(work, 'cfg-1.0.2.bundle')), 'cam-up5');
    await cliAsync(['ctl', '--config', cam.configFile, 'set', 'dock', 'off']);
    await sleep(500);
    await keepDocked(cam);
    const back = await eventually(
      async () => {
        const p = await pending('cam-up5', 'config');
        return p?.wanted === '1.0.2' && p.state === 'rolled-back' ? p : null;
      },
      'broken config rolled back',
      120_000,
      () => sup.log,
    );
    expect(back.reason).toBeTruthy();
    expect(readFileSync(cam.configFile, 'utf8')).toBe(applied);
    expect(sup.running).toBe(true);
  }, 300_000);
});
