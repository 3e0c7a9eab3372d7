/**
 * Custody one hop further, with the store failing: a dock whose Ceph RADOS Gateway is SIGKILLed three times keeps
 * taking a real sim camera's footage, receipts only what it holds durably (at the dock while the gateway is down),
 * shows the backlog in `bodycam dock status`, and catches up once the gateway is back: every object arrives once,
 * locked, with the bytes its manifest names. The camera deletes only what it holds a receipt for.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectRetentionCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockStation } from '../../../src/dock/main.ts';
import { Progress } from '../../../src/dock/sync/progress.ts';
import { parseManifest } from '../../../src/evidence/manifest.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { enrollCamera, makeDock, until } from '../../harness/broker.ts';
import {
  CEPH_MISSING,
  CEPH_SKIP,
  type CephCluster,
  createBucket,
  credentialsFile,
  objectStore,
  rawClient,
  startCeph,
} from '../../harness/ceph.ts';
import { cli, Daemon, list, makeSimCamera } from '../../harness/daemon.ts';

const DAY = 86_400_000;
const describeCeph = describe.skipIf(CEPH_MISSING.length > 0);
const secrets = mkdtempSync(path.join(os.tmpdir(), 'bodycam-dock-outage-'));
let ceph: CephCluster;
const stations: DockStation[] = [];
const daemons: Daemon[] = [];

beforeAll(async () => {
  if (CEPH_MISSING.length > 0) return;
  ceph = await startCeph();
  await createBucket(ceph, 'outage');
}, 90_000);
afterAll(async () => {
  for (const d of daemons) await d.terminate();
  for (const s of stations) await s.stop();
  await ceph?.stop();
  rmSync(secrets, { recursive: true, force: true });
});

describeCeph(`a dock whose object store goes away ${CEPH_MISSING.length > 0 ? CEPH_SKIP : ''}`, () => {
  it('keeps receiving, receipts what it holds, shows the backlog, and catches up through three gateway kills', async () => {
    const creds = credentialsFile(secrets, ceph.admin);
    const dock = await makeDock([
      '--store',
      's3://outage/bodycam',
      '--s3-endpoint',
      ceph.endpoint,
      '--s3-credentials',
      creds,
      '--organisation',
      'pz5339',
    ]);
    const station = new DockStation(dock.dir, silentLogger(), { storeRetry: { retryMs: 300, retryMaxMs: 1500 } });
    stations.push(station);
    await station.start();

    const camera = makeSimCamera((c) => {
      c['device'].id = 'cam-out';
      c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 15, speed: 4, videoBitrateKbps: 400 };
      c['preRecord'].seconds = 2;
      c['recording'].segmentSeconds = 10;
      c['warning'].enabled = false;
    });
    enrollCamera(dock.dir, camera.configFile);
    const daemon = new Daemon(camera);
    daemons.push(daemon);
    await daemon.waitFor((s) => s.ring.seconds >= 2 && s.state === 'buffering', 60_000, 'pre-roll');
    await daemon.press('trigger', 1);
    const start = (await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording')).capture.mediaMs;
    await daemon.waitFor((s) => s.capture.mediaMs >= start + 41_000, 90_000, 'footage');
    await daemon.press('record', 1, 3500);
    await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop');
    const recorded = list(camera).flatMap((i) => i.segments);
    expect(recorded.length).toBeGreaterThanOrEqual(4);

    // Kill 1: the store is gone before the camera docks. The dock takes everything and receipts it from its disk.
    await ceph.killGateway();
    expect(cli(['ctl', '--config', camera.configFile, 'set', 'dock', 'on']).code).toBe(0);
    const segs = () => list(camera).flatMap((i) => i.segments);
    await until(() => segs().every((s) => s.offloaded), 'every segment offloaded while the store is down', 90_000);
    // The camera deleted only what it holds a receipt for.
    for (const s of segs()) {
      expect(existsSync(s.path), s.path).toBe(false);
      expect(existsSync(`${s.path}.receipt.json`), s.path).toBe(true);
    }
    const progress = Progress.open(dock.dir, { readonly: true });
    const backlog = () => progress.backlog.summary();
    try {
      expect(backlog().segments).toBe(recorded.length);
      const status = cli(['dock', 'status', '--dir', dock.dir]);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(
        new RegExp(`store: \\d+ write\\(s\\) waiting at the dock for the object store \\(${recorded.length} segment`),
      );
      expect(status.stdout).toMatch(/its last answer: .*/);
      const json = JSON.parse(cli(['dock', 'status', '--dir', dock.dir, '--json']).stdout) as {
        store: { kind: string; backlog: { waiting: number } };
      };
      expect(json.store.kind).toBe('s3');
      expect(json.store.backlog.waiting).toBeGreaterThanOrEqual(recorded.length);

      // Back, and killed twice more while it catches up: each time once a write more went up.
      for (let kill = 2; kill <= 3; kill++) {
        const before = backlog().waiting;
        await ceph.startGateway();
        await until(() => backlog().waiting < before, `a staged write stored before kill ${kill}`, 60_000);
        await ceph.killGateway();
        expect(backlog().waiting).toBeGreaterThan(0);
      }
      await ceph.startGateway();
      await until(() => backlog().waiting === 0, 'the backlog written to the store', 90_000);
    } finally {
      progress.close();
    }
    expect(cli(['dock', 'status', '--dir', dock.dir]).stdout).toContain('store: object store, nothing waiting');

    // Everything arrived, once, locked, with the bytes its manifest names.
    const store = objectStore(ceph, 'outage');
    const raw = rawClient(ceph);
    try {
      const base = 'bodycam/pz5339/cam-out/';
      const keys: string[] = [];
      for await (const e of store.list(base)) keys.push(e.key);
      for (const s of recorded) {
        const name = `${base}${path.basename(path.dirname(s.path))}/${path.basename(s.path)}`;
        expect(keys).toContain(name);
        const manifest = parseManifest(await text(`${name}.manifest.json`)).payload;
        if (manifest.kind !== 'segment') throw new Error(`${name}: not a segment manifest`);
        const got = await bytes(name);
        expect(createHash('sha256').update(got).digest('hex'), name).toBe(manifest.segment.sha256);
      }
      expect(keys).toContain(`${base}device.pub`);
      expect(keys.some((k) => k.endsWith('/incident.manifest.json'))).toBe(true);
      expect(keys.some((k) => k.startsWith(`${base}audit/`))).toBe(true);
      for (const key of keys) {
        const versions = [];
        for await (const v of store.listVersions(key)) if (v.key === key) versions.push(v);
        expect(
          versions.map((v) => v.deleteMarker),
          key,
        ).toEqual([false]);
        const ret = await raw.send(new GetObjectRetentionCommand({ Bucket: 'outage', Key: key }));
        expect(ret.Retention?.Mode, key).toBe('COMPLIANCE');
        expect(ret.Retention?.RetainUntilDate?.getTime(), key).toBeGreaterThan(Date.now() + 29 * DAY);
      }
    } finally {
      raw.destroy();
      store.close();
    }
    expect(existsSync(path.join(dock.dir, 'staging'))).toBe(true);
    expect(readdirSync(path.join(dock.dir, 'staging')), 'nothing left in staging').toEqual([]);
    const verified = cli([
      'verify',
      's3://outage/bodycam',
      '--s3-endpoint',
      ceph.endpoint,
      '--s3-credentials',
      creds,
      '--organisation',
      'pz5339',
      '--key',
      `cam-out=${path.join(camera.dir, 'identity', 'device.pub')}`,
      '--dock-key',
      path.join(dock.dir, 'identity', 'dock.pub'),
    ]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toContain(`${recorded.length} of ${recorded.length} segment(s) verified`);

    async function bytes(key: string): Promise<Buffer> {
      const chunks: Buffer[] = [];
      for await (const c of await store.get(key)) chunks.push(Buffer.from(c as Buffer));
      return Buffer.concat(chunks);
    }
    async function text(key: string): Promise<string> {
      return (await bytes(key)).toString('utf8');
    }
  }, 360_000);
});
