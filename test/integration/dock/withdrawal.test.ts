/**
 * Receipts let a camera delete footage, so the dock signs one only for a camera enrolled at that moment and only
 * for a segment its store holds at that moment. Attacks: a camera withdrawn (`devices/<id>` removed) while the dock
 * runs keeps offloading and being receipted from a key cached at its first hello; a stored segment lost or altered
 * at the dock is receipted again when the camera offers it a second time (its first receipt lost), and the camera
 * then deletes the only good copy.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { deviceFiles, dockLayout } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { sha256Hex } from '../../../src/evidence/canonical.ts';
import { enrollCamera, makeDock, until } from '../../harness/broker.ts';
import { cli, Daemon } from '../../harness/daemon.ts';
import { captureLogger, dock, logged, offloadingCamera, segmentsOf } from '../../harness/dock.ts';

const MiB = 1024 * 1024;

describe('receipts only for what is enrolled and held', () => {
  const daemons: Daemon[] = [];
  const stations: DockStation[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
    for (const s of stations) await s.stop();
  }, 60_000);

  it('a camera withdrawn while the dock runs gets no receipt from that moment, until enrolled again', async () => {
    const d = await makeDock();
    const { logger, lines, mark } = captureLogger();
    const station = new DockStation(d.dir, logger, { checkpointBytes: 1024 * 1024 });
    stations.push(station);
    await station.start();
    const w = await offloadingCamera(d.dir, 'cam-w', { segments: 8, bytesEach: 4 * MiB });
    daemons.push(w.daemon);
    dock(w.camera, 'on');
    await until(
      () => logged(lines, 'segment stored and verified', { device: 'cam-w' }).length > 0,
      'one stored',
      60_000,
    );
    rmSync(deviceFiles(d.dir, 'cam-w').dir, { recursive: true });
    mark('withdrawn');
    const before = logged(lines, 'receipt signed', { device: 'cam-w' }).length;

    // The camera goes on sending; the dock ignores it from the moment of withdrawal.
    await until(
      () =>
        lines
          .slice(lines.findIndex((l) => l.msg === 'withdrawn'))
          .some((l) => l.msg === 'a camera that is not enrolled here: ignored'),
      'the withdrawn camera ignored',
      30_000,
    );
    await until(() => segmentsOf(w.camera).filter((s) => s.offloaded).length === before, 'the receipts before it');
    const after = lines.slice(lines.findIndex((l) => l.msg === 'withdrawn'));
    expect(logged(after, 'receipt signed')).toEqual([]);
    expect(before).toBeLessThan(8);

    // Enrolled again (same camera, same key): it offloads the rest at its next docking, the dock never restarted.
    enrollCamera(d.dir, w.camera.configFile);
    dock(w.camera, 'off');
    await w.daemon.waitFor((s) => s.sync?.connected === false, 10_000, 'undocked');
    dock(w.camera, 'on');
    await until(() => segmentsOf(w.camera).every((s) => s.offloaded), 'the rest offloaded', 90_000);
    expect(logged(lines, 'receipt signed', { device: 'cam-w', kind: 'segment' })).toHaveLength(8);
  }, 180_000);

  it('a segment lost or altered in the dock store is pulled again, not receipted again', async () => {
    const d = await makeDock();
    const { logger, lines } = captureLogger();
    const station = new DockStation(d.dir, logger);
    stations.push(station);
    await station.start();
    const c = await offloadingCamera(d.dir, 'cam-c', { segments: 3, bytesEach: 1 * MiB });
    daemons.push(c.daemon);
    const incident = c.stored[0]?.incident ?? '';
    const segments = segmentsOf(c.camera);
    const kept = (seq: number) => path.join(c.camera.dir, `kept-${seq}`);
    for (const s of segments) copyFileSync(s.path, kept(s.seq));
    dock(c.camera, 'on');
    await until(() => segmentsOf(c.camera).every((s) => s.offloaded), 'the first offload', 60_000);
    await c.daemon.terminate();

    // The camera never got the receipts of segments 0 and 1 (lost in transit): it still holds them, unoffloaded.
    const storage = path.join(c.camera.dir, 'storage');
    const index = new Database(path.join(storage, 'index.sqlite'));
    index.prepare('UPDATE segments SET offloaded_at = NULL WHERE seq IN (0, 1)').run();
    index.close();
    for (const s of segments.slice(0, 2)) {
      copyFileSync(kept(s.seq), s.path);
      rmSync(`${s.path}.receipt.json`);
    }
    // Meanwhile at the dock: segment 0 is gone from the store, segment 1 altered (same size).
    const stored = (seq: number) =>
      path.join(dockLayout(d.dir).evidenceDir, 'cam-c', incident, `${String(seq).padStart(4, '0')}.mp4.age`);
    rmSync(stored(0));
    const altered = readFileSync(stored(1));
    altered.writeUInt8(altered.readUInt8(5000) ^ 0xff, 5000);
    writeFileSync(stored(1), altered);

    const again = new Daemon(c.camera);
    daemons.push(again);
    await again.waitFor((s) => s.state === 'buffering', 60_000, 'the camera up again');
    dock(c.camera, 'on');
    await until(() => segmentsOf(c.camera).every((s) => s.offloaded), 'offloaded again', 60_000);
    // Pulled again: the dock holds both, as the camera signed them.
    for (const s of segments.slice(0, 2)) expect(sha256Hex(readFileSync(stored(s.seq)))).toBe(s.sha256);
    expect(logged(lines, 'the stored copy is missing or differs: pulling it again')).toHaveLength(2);
    expect(cli(['verify', d.dir]).code).toBe(0);
  }, 180_000);
});
