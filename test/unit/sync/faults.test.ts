/**
 * Dock sync through faults, camera side and dock side together on the in-memory broker and the fake clock (what the
 * broker crashes of test/integration/dock/sync.test.ts show with the real Mosquitto): the dock's connection dropped
 * mid-transfer (and the chunks on their way to it lost) resumes from its durable offset, the broker going down three times loses and duplicates
 * nothing, and every message delivered twice, some out of order, still hands everything over exactly once.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DOCKINGS_LOG } from '../../../src/evidence/paths.ts';

import { verifyDirectory } from '../../../src/evidence/verify.ts';
import { DOCK_AGENT_CN } from '../../../src/protocol/acl.ts';
import { CHUNK_BYTES } from '../../../src/protocol/limits.ts';
import type { Pull } from '../../../src/protocol/messages.ts';
import { parseTopic } from '../../../src/protocol/topics.ts';
import type { Delivery } from '../../../src/protocol/transport/memory-broker.ts';
import { type Scene, type SceneCamera, syncScene } from '../../harness/sync-scene.ts';

const scenes: Scene[] = [];
afterEach(async () => {
  for (const s of scenes.splice(0)) await s.stop();
});

/** A scene that checkpoints every chunk, with `watch` seeing each delivery after the scene's own accounting. */
async function faultScene(watch: (d: Delivery, s: Scene) => void): Promise<Scene> {
  const s = await syncScene({ checkpointBytes: CHUNK_BYTES });
  scenes.push(s);
  const own = s.broker.tap;
  s.broker.tap = (d) => {
    own?.(d);
    watch(d, s);
  };
  return s;
}

const pullOf = (d: Delivery): Pull | null =>
  parseTopic(d.topic)?.type === 'pull' ? (JSON.parse(d.payload.toString()) as Pull) : null;

/** Everything handed over once: the dock holds exactly the camera's bytes, its copy verifies, one event each. */
async function handedOverOnce(s: Scene, cam: SceneCamera, segments: number): Promise<void> {
  await s.run(() => cam.offloaded() === segments, 'every segment offloaded');
  await s.run(() => cam.store.incidents.closingsAwaitingOffload().length === 0, 'the closing receipted');
  await s.run(
    () =>
      existsSync(path.join(s.dock.evidenceDir, cam.device, DOCKINGS_LOG)) &&
      existsSync(path.join(cam.storageDir, DOCKINGS_LOG)),
    'the docking settled on both sides',
  );
  const total = cam.incidents.flatMap((i) => i.segmentBytes).reduce((n, b) => n + b, 0);
  const [summary] = s.dock.progress.summary();
  expect(summary).toMatchObject({ device: cam.device, stored: segments, storedBytes: total, refused: 0 });
  const done = cam.events.filter(
    (e) => e.event === 'offload.done' && (e.payload as { done: string }).done === 'segment',
  );
  expect(done).toHaveLength(segments);
  const keys = { devices: new Map([[cam.device, cam.identity.publicKey]]), docks: [s.dock.publicKey] };
  expect((await verifyDirectory(s.dock.evidenceDir, keys)).findings).toEqual([]);
  expect((await verifyDirectory(cam.storageDir, keys)).findings).toEqual([]);
}

describe('dock sync through faults', () => {
  it("resumes from the dock's durable offset after its connection drops mid-transfer", async () => {
    const pulls: Array<Pull & { afterDrop: boolean }> = [];
    let dropped = false;
    const s = await faultScene((d, scene) => {
      const pull = pullOf(d);
      if (pull !== null) pulls.push({ ...pull, afterDrop: dropped });
      if (!dropped && (scene.dock.chunks.get('cam-r') ?? 0) === 5) {
        dropped = true;
        scene.broker.drop(DOCK_AGENT_CN);
      }
    });
    const cam = await s.camera('cam-r', { segments: 2, bytesEach: 3_000_000 });
    cam.dock(true);
    await s.run(() => dropped, 'five chunks at the dock');
    expect(s.dock.transport.connected).toBe(false);
    await s.run(() => s.dock.transport.connected, 'the dock reconnected', 5000);
    await handedOverOnce(s, cam, 2);

    const first = cam.segments()[0];
    const resumed = pulls.find((p) => p.afterDrop && p.seq === first?.seq);
    expect(resumed?.offset).toBeGreaterThan(0);
    expect(resumed?.offset).toBeLessThanOrEqual(5 * CHUNK_BYTES);
    expect((resumed?.offset ?? 1) % CHUNK_BYTES).toBe(0);
    const total = cam.incidents[0]?.segmentBytes.reduce((n, b) => n + b, 0) ?? 0;
    const resent = ((s.dock.progress.summary()[0]?.receivedTotal ?? 0) - total) / total;
    expect(resent).toBeGreaterThanOrEqual(0);
    expect(resent).toBeLessThan(0.5);
  });

  it('survives the broker going down three times mid-transfer: nothing lost or duplicated', async () => {
    const at = [8, 20, 32];
    let down = false;
    const s = await faultScene((_d, scene) => {
      if (!down && at.length > 0 && (scene.dock.chunks.get('cam-k') ?? 0) >= (at[0] ?? 0)) {
        at.shift();
        down = true;
        scene.broker.stop();
      }
    });
    const cam = await s.camera('cam-k', { segments: 4, bytesEach: 3_000_000 });
    cam.dock(true);
    for (let crash = 0; crash < 3; crash++) {
      await s.run(() => down, `crash ${crash + 1}`);
      await s.clock.advance(3000);
      s.broker.start();
      down = false;
    }
    await handedOverOnce(s, cam, 4);
    expect(at).toEqual([]);
  });

  it('hands everything over exactly once when every message comes twice and some out of order', async () => {
    const s = await faultScene(() => undefined);
    let n = 0;
    s.broker.duplicate = () => true;
    s.broker.reorder = () => n++ % 5 === 0 && n < 60;
    const cam = await s.camera('cam-d', { segments: 3, bytesEach: 1_000_000 });
    cam.dock(true);
    await handedOverOnce(s, cam, 3);
    expect(n).toBeGreaterThan(60);
  });
});
