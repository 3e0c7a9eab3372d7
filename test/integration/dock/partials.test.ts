/**
 * Unfinished transfers at the dock (`incoming/<id>/*.part`) are resumed when their camera comes back, but one left
 * untouched longer than `limits.partialMaxAgeHours` is deleted (at start, and hourly), so cameras that never come
 * back leave no disk behind; its camera then sends the segment again from the start, never over a hole.
 */
import { existsSync, readdirSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockLayout } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { makeDock, until } from '../../harness/broker.ts';
import { cli, type Daemon } from '../../harness/daemon.ts';
import { captureLogger, dock, logged, offloadingCamera, segmentsOf } from '../../harness/dock.ts';

describe('partial transfers', () => {
  const daemons: Daemon[] = [];
  const stations: DockStation[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
    for (const s of stations) await s.stop();
  }, 60_000);

  it('one older than its limit is deleted at start; the camera sends the segment again, whole', async () => {
    const d = await makeDock();
    let percent = 0;
    const first = new DockStation(d.dir, captureLogger().logger, {
      checkpointBytes: 1024 * 1024,
      onProgress: (_device, line) => {
        percent = Number(/ (\d+)% of/.exec(line)?.[1] ?? percent);
      },
    });
    stations.push(first);
    await first.start();
    const c = await offloadingCamera(d.dir, 'cam-p', { segments: 1, bytesEach: 24 * 1024 * 1024 });
    daemons.push(c.daemon);
    dock(c.camera, 'on');
    await until(() => percent >= 10, 'a part of the segment durable at the dock', 60_000);
    dock(c.camera, 'off');
    await c.daemon.waitFor((s) => s.sync?.connected === false, 10_000, 'undocked');
    await first.stop();
    const incoming = path.join(dockLayout(d.dir).incomingDir, 'cam-p');
    const [part] = readdirSync(incoming);
    if (part === undefined) throw new Error('no partial transfer at the dock');
    expect(segmentsOf(c.camera).every((s) => !s.offloaded)).toBe(true);
    // Four days untouched, with the default limit of 72 hours.
    const old = (Date.now() - 4 * 24 * 3_600_000) / 1000;
    utimesSync(path.join(incoming, part), old, old);

    const { logger, lines } = captureLogger();
    const second = new DockStation(d.dir, logger);
    stations.push(second);
    await second.start();
    expect(logged(lines, 'expired partial transfers deleted')).toEqual([
      expect.objectContaining({ files: 1, maxAgeHours: 72 }),
    ]);
    expect(existsSync(path.join(incoming, part))).toBe(false);

    dock(c.camera, 'on');
    await until(() => segmentsOf(c.camera).every((s) => s.offloaded), 'the segment offloaded', 120_000);
    expect(logged(lines, 'segment stored and verified')).toHaveLength(1);
    expect(cli(['verify', d.dir]).code).toBe(0);
  }, 240_000);
});
