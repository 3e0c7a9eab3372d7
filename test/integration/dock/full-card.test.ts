/**
 * A full camera empties at the dock and records again (docs/design.md §18), on real filesystems: each sim camera
 * stores on its own small tmpfs, the dock station runs with a real Mosquitto. A camera recorded until its storage is
 * full hands every segment to the dock, stores the receipts in its reserve, frees the files and records a new
 * incident; a camera started with 0 bytes free outside its reserve answers status, docks and offloads. Every test
 * ends with `bodycam verify` passing on both sides, with the trust anchors from provisioning and enrolment (the device
 * key; for the camera's receipts and docking records, the dock's key).
 * Needs root to mount the tmpfs.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockLayout } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { enrollCamera, makeDock, until } from '../../harness/broker.ts';
import { type Camera, cli, Daemon, list, makeSimCamera } from '../../harness/daemon.ts';
import { indexIntegrity, verifyStorage } from '../../harness/faults.ts';
import { cardReserve, fillLeaving, freeSpace, mountTmpfs, type Tmpfs, unmountTmpfs } from '../../harness/tmpfs.ts';

const cards: Tmpfs[] = [mountTmpfs(32), mountTmpfs(24)];
const mounted = cards.every((c) => c.mounted);

const settings =
  (device: string, storage: string, bitrate: number, width = 320, height = 240) =>
  (c: Record<string, any>) => {
    c['device'].id = device;
    c['capture'].source = { kind: 'synthetic', width, height, fps: 15, speed: 4, videoBitrateKbps: bitrate };
    c['preRecord'].seconds = 2;
    c['recording'].segmentSeconds = 10;
    c['warning'].enabled = false;
    c['storage'].dir = storage;
  };

const setDock = (camera: Camera, level: 'on' | 'off') => {
  const r = cli(['ctl', '--config', camera.configFile, 'set', 'dock', level]);
  if (r.code !== 0) throw new Error(r.stderr);
};
const segments = (camera: Camera) => list(camera).flatMap((i) => i.segments);
const storedAtDock = (dockDir: string, device: string) => {
  const root = path.join(dockLayout(dockDir).evidenceDir, device);
  return existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .flatMap((e) =>
          readdirSync(path.join(root, e.name))
            .filter((f) => f.endsWith('.mp4.age'))
            .map((f) => `${e.name}/${f}`),
        )
        .sort()
    : [];
};
const nameOf = (p: string) => `${path.basename(path.dirname(p))}/${path.basename(p)}`;

/** `bodycam verify` of the dock's evidence with the camera's provisioned key. */
function verifyDock(dockDir: string, camera: Camera, device: string): { code: number; output: string } {
  const r = cli(['verify', dockDir, '--key', `${device}=${path.join(camera.dir, 'identity', 'device.pub')}`], 120_000);
  return { code: r.code, output: `${r.stdout}${r.stderr}`.slice(0, 4000) };
}

async function recordIncident(daemon: Daemon, seconds: number): Promise<void> {
  await daemon.waitFor((s) => s.ring.seconds >= 2 && s.state === 'buffering', 60_000, 'pre-roll');
  await daemon.press('trigger', 1);
  const start = (await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording')).capture.mediaMs;
  await daemon.waitFor((s) => s.capture.mediaMs >= start + seconds * 1000, 90_000, 'footage');
  await daemon.press('record', 1, 3500);
  await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop');
}

describe.skipIf(!mounted)('a full camera at the dock (needs root to mount a tmpfs per camera)', () => {
  const daemons: Daemon[] = [];
  const stations: DockStation[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
    for (const s of stations) await s.stop();
    for (const c of cards) unmountTmpfs(c);
  });

  it('recorded until full, then docked: every segment at the dock, freed on the camera, records again', async () => {
    const card = cards[0] as Tmpfs;
    const dock = await makeDock();
    const station = new DockStation(dock.dir, silentLogger());
    stations.push(station);
    await station.start();
    const storage = path.join(card.dir, 'storage');
    const camera = makeSimCamera(settings('cam-full', storage, 4000, 640, 480));
    enrollCamera(dock.dir, camera.configFile);
    const daemon = new Daemon(camera);
    daemons.push(daemon);
    await daemon.waitFor((s) => s.ring.seconds >= 2, 60_000, 'pre-roll');
    await daemon.press('trigger', 1);
    await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording');
    const full = await daemon.waitFor((s) => s.state === 'buffering', 120_000, 'the stop at the reserve');
    expect(full.writeFailures).toBe(0);
    const [incident] = list(camera);
    expect(incident).toMatchObject({ state: 'closed', stopReason: 'storage-full' });
    const before = segments(camera);
    expect(before.length).toBeGreaterThanOrEqual(2);
    const footage = before.reduce((n, s) => n + s.bytes, 0);
    expect(footage).toBeGreaterThan(10 * 1024 * 1024); // most of the card
    await daemon.waitFor((s) => s.storage?.level === 'full', 15_000, 'storage full');

    setDock(camera, 'on');
    await daemon.waitFor((s) => s.sync?.connected === true, 15_000, 'connected to the dock');
    await until(() => segments(camera).every((s) => s.offloaded), 'every segment offloaded', 120_000);
    const after = segments(camera);
    // Receipts kept (in the reserve), files freed, and exactly the camera's segments at the dock.
    expect(after.every((s) => !existsSync(s.path) && existsSync(`${s.path}.receipt.json`))).toBe(true);
    expect(storedAtDock(dock.dir, 'cam-full')).toEqual(before.map((s) => nameOf(s.path)).sort());
    expect(daemon.log).not.toContain('a receipt could not be handled');
    // A 32 MiB card holds well under 30 minutes at 4 Mbit/s: "low", no longer "full".
    const emptied = await daemon.waitFor((s) => s.storage?.level === 'low', 15_000, 'storage no longer full');
    expect(emptied.storage?.minutesLeft).toBeGreaterThan(0.5);
    expect(emptied.indication).toBe('standby');
    expect(freeSpace(card.dir).freeBytes).toBeGreaterThan(footage);
    await until(
      () => existsSync(path.join(dockLayout(dock.dir).evidenceDir, 'cam-full', 'dockings.jsonl')),
      'the audit log and the docking record at the dock',
      30_000,
    );
    setDock(camera, 'off');
    await daemon.waitFor((s) => s.sync?.connected === false, 10_000, 'undocked');

    // It records again: a new incident, closed by the officer.
    await recordIncident(daemon, 6);
    const incidents = list(camera);
    expect(incidents).toHaveLength(2);
    expect(incidents[1]).toMatchObject({ state: 'closed', stopReason: 'button-hold' });
    expect(incidents[1]?.segments.every((s) => !s.offloaded && existsSync(s.path))).toBe(true);

    // Both sides verify, with the provisioned device key.
    await daemon.terminate();
    expect(indexIntegrity(camera, storage)).toBe('ok');
    const cam = verifyStorage(camera, storage, dockLayout(dock.dir).identity.pub);
    expect(cam.code, cam.output).toBe(0);
    const atDock = verifyDock(dock.dir, camera, 'cam-full');
    expect(atDock.code, atDock.output).toBe(0);
  }, 300_000);

  it('started with 0 bytes free outside its reserve: answers status, docks, offloads, records again', async () => {
    const card = cards[1] as Tmpfs;
    const dock = await makeDock();
    const station = new DockStation(dock.dir, silentLogger());
    stations.push(station);
    await station.start();
    const storage = path.join(card.dir, 'storage');
    const camera = makeSimCamera(settings('cam-zero', storage, 400));
    enrollCamera(dock.dir, camera.configFile);
    const first = new Daemon(camera);
    daemons.push(first);
    await recordIncident(first, 14);
    expect(await first.terminate()).toBe(0);
    const before = segments(camera);
    expect(before.length).toBeGreaterThanOrEqual(2);

    // Something else on the card (beside the storage directory) took every byte outside the reserve the camera
    // will compute for it.
    const reserve = cardReserve(storage);
    fillLeaving(card.dir, reserve);
    const outside = freeSpace(card.dir).freeBytes - reserve;
    expect(outside).toBeGreaterThanOrEqual(0);
    expect(outside).toBeLessThan(freeSpace(card.dir).blockSize);

    const second = new Daemon(camera);
    daemons.push(second);
    const up = await second.waitFor((s) => s.ring.seconds >= 2 && s.storage !== null, 60_000, 'status');
    expect(up.state).toBe('buffering');
    expect(up.storage).toMatchObject({ level: 'full', minutesLeft: 0 });
    expect(up.indication).toBe('storage-full');

    setDock(camera, 'on');
    await second.waitFor((s) => s.sync?.connected === true, 15_000, 'connected to the dock');
    await until(() => segments(camera).every((s) => s.offloaded), 'every segment offloaded', 60_000);
    expect(segments(camera).every((s) => !existsSync(s.path) && existsSync(`${s.path}.receipt.json`))).toBe(true);
    expect(storedAtDock(dock.dir, 'cam-zero')).toEqual(before.map((s) => nameOf(s.path)).sort());
    expect(second.log).not.toContain('a receipt could not be handled');
    await until(
      () => existsSync(path.join(dockLayout(dock.dir).evidenceDir, 'cam-zero', 'dockings.jsonl')),
      'the audit log and the docking record at the dock',
      30_000,
    );
    setDock(camera, 'off');
    await second.waitFor((s) => s.sync?.connected === false, 10_000, 'undocked');

    // The freed footage is room to record again.
    await second.waitFor((s) => (s.storage?.headroomBytes ?? 0) > 0, 15_000, 'room again');
    await recordIncident(second, 3);
    expect(list(camera).at(-1)).toMatchObject({ state: 'closed', stopReason: 'button-hold' });

    await second.terminate();
    expect(indexIntegrity(camera, storage)).toBe('ok');
    const cam = verifyStorage(camera, storage, dockLayout(dock.dir).identity.pub);
    expect(cam.code, cam.output).toBe(0);
    const atDock = verifyDock(dock.dir, camera, 'cam-zero');
    expect(atDock.code, atDock.output).toBe(0);
  }, 300_000);
});
