/**
 * Attacks on sizes: an enrolled camera publishing 200 MB messages (the broker would hold each in memory and pass it
 * to the agent), and a compromised camera sending chunks that are not what the dock asked for (too large, at an
 * offset or of a length no pull named). The broker refuses any packet over the protocol's limit before reading it,
 * the agent takes only chunks of the exact offset and length asked for, and the other cameras are served meanwhile.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { peakRssOf } from '../../../scripts/bench/proc.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { sha256Hex } from '../../../src/evidence/canonical.ts';
import { CHUNK_BYTES, MAX_PACKET_BYTES, WINDOW_CHUNKS } from '../../../src/protocol/limits.ts';
import { cameraTls, connectMqtt, makeDock, until } from '../../harness/broker.ts';
import type { Daemon } from '../../harness/daemon.ts';
import { captureLogger, dock, enrolledIdentity, logged, offloadingCamera, segmentsOf } from '../../harness/dock.ts';
import { HostileCamera, inventoryOf } from '../../harness/hostile-camera.ts';
import { storeIncident } from '../../harness/stored-footage.ts';

const MiB = 1024 * 1024;

describe('size limits', () => {
  const daemons: Daemon[] = [];
  const stations: DockStation[] = [];
  const hostile: HostileCamera[] = [];
  afterAll(async () => {
    for (const h of hostile) await h.end();
    for (const d of daemons) await d.terminate();
    for (const s of stations) await s.stop();
  }, 60_000);

  it('four 200 MB publishes are refused by the broker, which stays small; another camera offloads', async () => {
    const d = await makeDock();
    const { logger } = captureLogger();
    const station = new DockStation(d.dir, logger);
    stations.push(station);
    await station.start();
    const pid = station.broker?.pid ?? 0;
    const evil = enrolledIdentity(d.dir, 'cam-evil');
    const honest = await offloadingCamera(d.dir, 'cam-honest', { segments: 4, bytesEach: 4 * MiB });
    daemons.push(honest.daemon);
    dock(honest.camera, 'on');

    const before = peakRssOf(pid);
    expect(before).toBeGreaterThan(0);
    const huge = Buffer.alloc(200 * MiB, 0x5a);
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await connectMqtt(d.port, cameraTls(evil.camera.configFile));
      c.on('error', () => undefined);
      const closed = new Promise<string>((resolve) => c.once('close', () => resolve('disconnected')));
      const acked = c
        .publishAsync('bodycam/cam/cam-evil/up/chunk', huge, {
          qos: 1,
          properties: {
            userProperties: { session: 's', incident: 'i', seq: '0', offset: '0', sha256: sha256Hex(huge) },
          },
        })
        .then(
          () => 'accepted',
          () => 'refused',
        );
      outcomes.push(await Promise.race([closed, acked]));
      await c.endAsync(true);
    }
    const after = peakRssOf(pid);
    expect(outcomes).toEqual(['disconnected', 'disconnected', 'disconnected', 'disconnected']);
    // Refused from the packet's header: the broker never held one message of it (200 MB each), only what the
    // honest transfer has in flight (two segments' pull windows at most) and packets of the limit's size.
    expect(after - before).toBeLessThan(2 * MAX_PACKET_BYTES + 2 * WINDOW_CHUNKS * CHUNK_BYTES);
    await until(() => segmentsOf(honest.camera).every((s) => s.offloaded), 'the honest offload', 90_000);
  }, 180_000);

  it('the agent takes a chunk only at the offset and of the length a pull asked for', async () => {
    const d = await makeDock();
    const { logger, lines } = captureLogger();
    const station = new DockStation(d.dir, logger);
    stations.push(station);
    await station.start();
    // A compromised camera: certificate, storage and signing key. Its footage is genuine and signed.
    const evil = enrolledIdentity(d.dir, 'cam-evil');
    const stored = await storeIncident(evil.camera.configFile, { segments: 1, bytesEach: 2 * MiB });
    const h = await HostileCamera.connect(d.port, evil.camera, 'cam-evil');
    hostile.push(h);
    await h.greet(evil.keyId);
    const inventory = await inventoryOf(evil.camera, h.session);
    const offer = inventory.segments[0];
    if (offer === undefined) throw new Error('nothing to offer');
    await h.publish('inventory', JSON.stringify(inventory));
    const pull = (await h.nth('pull')).body;
    expect(pull).toMatchObject({ incident: stored.incident, seq: 0, offset: 0 });
    const file = path.join(evil.camera.dir, 'storage', 'footage', stored.incident, offer.file);
    const bytes = readFileSync(file);
    const send = (offset: number, chunk: Buffer) =>
      h.publish('chunk', chunk, {
        session: h.session,
        incident: offer.incident,
        seq: String(offer.seq),
        offset: String(offset),
        sha256: sha256Hex(chunk),
      });

    // The camera's own bytes, but not as asked: four chunks in one, a piece not at a chunk boundary, a short one.
    await send(0, bytes.subarray(0, 4 * CHUNK_BYTES));
    await send(100, bytes.subarray(100, 100 + CHUNK_BYTES));
    await send(0, bytes.subarray(0, CHUNK_BYTES - 1));
    await until(() => logged(lines, 'a chunk was refused').length === 3, 'three chunks refused');
    expect(logged(lines, 'a chunk was refused').map((l) => l['reason'])).toEqual([
      expect.stringContaining('bytes'),
      expect.stringContaining('offset'),
      expect.stringContaining('bytes'),
    ]);
    const part = path.join(d.dir, 'incoming', 'cam-evil', `${offer.incident}-${offer.file}.part`);
    expect(statSync(part).size).toBe(0);

    // As asked, it goes through: stored, verified, receipted.
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) await send(at, bytes.subarray(at, at + CHUNK_BYTES));
    const ack = (await h.nth('ack')).body;
    expect(ack['payload']).toMatchObject({ kind: 'segment', incident: offer.incident, seq: 0, sha256: offer.sha256 });
    const kept = path.join(d.dir, 'evidence', 'cam-evil', offer.incident, offer.file);
    expect(existsSync(kept) && sha256Hex(readFileSync(kept))).toBe(offer.sha256);
  }, 120_000);
});
