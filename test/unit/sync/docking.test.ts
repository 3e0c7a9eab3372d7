/**
 * A docking, camera side and dock side together in one process on the in-memory broker and the fake clock (what
 * test/integration/dock/sync.test.ts shows with the real daemon and Mosquitto): everything is handed over with
 * signed receipts and both copies verify; a segment that fails the dock's check is refused and kept; a camera
 * withdrawn mid-docking gets no more receipts; a receipt not signed by the enrolled dock deletes nothing.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COLLECT_EVERY_BYTES } from '../../../src/camera/sync/chunk-sender.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import { DOCKINGS_LOG, receiptFileFor } from '../../../src/evidence/paths.ts';
import { signReceipt } from '../../../src/evidence/receipt.ts';
import { verifyDirectory } from '../../../src/evidence/verify.ts';
import { DOCK_AGENT_CN } from '../../../src/protocol/acl.ts';
import { CHUNK_BYTES } from '../../../src/protocol/limits.ts';
import { downTopic } from '../../../src/protocol/topics.ts';
import { logged } from '../../harness/dock.ts';
import { connected } from '../../harness/memory-sync.ts';
import { type Scene, syncScene } from '../../harness/sync-scene.ts';

const scenes: Scene[] = [];
const scene = async (o: Parameters<typeof syncScene>[0] = {}) => {
  const s = await syncScene(o);
  scenes.push(s);
  return s;
};
afterEach(async () => {
  for (const s of scenes.splice(0)) await s.stop();
});

describe('a docking on the in-memory broker', () => {
  it('hands everything over with receipts; the dock copy and the camera storage both verify', async () => {
    const s = await scene();
    const cam = await s.camera('cam-a', { segments: 3, bytesEach: 600_000, incidents: 2 });
    const before = cam.segments();
    expect(before).toHaveLength(6);
    cam.dock(true);
    // The index says offloaded once the receipt is kept; the file goes right after.
    await s.run(() => cam.offloaded() === 6 && before.every((x) => !existsSync(x.path)), 'every segment offloaded');
    for (const seg of cam.segments()) {
      expect(existsSync(seg.path)).toBe(false);
      expect(existsSync(receiptFileFor(seg.path))).toBe(true);
    }
    // Then the closings, the audit log and the dock's signed docking record, kept by the camera too.
    await s.run(
      () =>
        existsSync(path.join(cam.storageDir, DOCKINGS_LOG)) &&
        cam.store.incidents.closingsAwaitingOffload().length === 0,
      'the closings receipted and the docking record on the camera',
    );
    const done = cam.events.filter((e) => e.event === 'offload.done').map((e) => (e.payload as { done: string }).done);
    expect(done.sort()).toEqual([...Array(2).fill('incident'), ...Array(6).fill('segment')]);
    expect(cam.events.some((e) => e.event === 'clock.offset')).toBe(true);
    const audit = readFileSync(path.join(cam.storageDir, 'audit.jsonl'), 'utf8');
    expect(audit.split('\n').length).toBeGreaterThan(2);
    expect(readFileSync(path.join(s.dock.evidenceDir, 'cam-a', 'audit.jsonl'), 'utf8')).toBe(audit);

    const keys = { devices: new Map([['cam-a', cam.identity.publicKey]]), docks: [s.dock.publicKey] };
    const atDock = await verifyDirectory(s.dock.evidenceDir, keys);
    expect(atDock.findings).toEqual([]);
    expect(atDock.devices[0]?.incidents.flatMap((i) => i.segments)).toHaveLength(6);
    const onCamera = await verifyDirectory(cam.storageDir, keys);
    expect(onCamera.findings).toEqual([]);
    expect(onCamera.notes.filter((n) => n.code === 'offloaded')).toHaveLength(6);
    expect(s.dock.progress.summary()[0]).toMatchObject({ device: 'cam-a', stored: 6, refused: 0 });
    // One receipt each: an inventory that listed a segment before our receipt reached the camera is not answered
    // with the same receipt again.
    expect(logged(s.dock.lines, 'receipt signed', { device: 'cam-a', kind: 'segment' })).toHaveLength(6);

    cam.dock(false);
    await s.run(() => !s.broker.users.includes('cam-a'), 'undocked: the connection closed');
    expect(cam.sync.status()).toMatchObject({ docked: false, connected: false, offloaded: 6, refused: 0 });
  });

  it('asks for a garbage collection after every pull window of footage it hands over, and the footage arrives whole', async () => {
    const s = await scene();
    const cam = await s.camera('cam-a', { segments: 3, bytesEach: 7 * 1024 * 1024 });
    const bytes = cam.segments().reduce((n, x) => n + x.bytes, 0);
    cam.dock(true);
    await s.run(() => cam.offloaded() === 3, 'every segment offloaded');
    // Each chunk once (no fault here): 21 MiB of footage and its age framing, two windows of 8 MiB.
    expect(s.dock.chunks.get('cam-a')).toBe(cam.segments().reduce((n, x) => n + Math.ceil(x.bytes / CHUNK_BYTES), 0));
    expect(cam.collections()).toBe(Math.floor(bytes / COLLECT_EVERY_BYTES));
    expect(cam.collections()).toBe(2);
    const keys = { devices: new Map([['cam-a', cam.identity.publicKey]]), docks: [s.dock.publicKey] };
    const atDock = await verifyDirectory(s.dock.evidenceDir, keys);
    expect(atDock.findings).toEqual([]);
    expect(atDock.devices[0]?.incidents.flatMap((i) => i.segments)).toHaveLength(3);
  });

  it('refuses a segment that fails the check: kept on the camera, reported on both sides', async () => {
    const s = await scene();
    const cam = await s.camera('cam-b', { segments: 3, bytesEach: 300_000 });
    const damaged = cam.segments()[1];
    if (damaged === undefined) throw new Error('three segments expected');
    const bytes = readFileSync(damaged.path);
    bytes.writeUInt8(bytes.readUInt8(1000) ^ 0xff, 1000);
    writeFileSync(damaged.path, bytes);

    cam.dock(true);
    await s.run(() => cam.offloaded() === 2 && cam.sync.status().refused === 1, 'two offloaded, one refused');
    expect(existsSync(damaged.path)).toBe(true);
    expect(cam.segments().find((x) => x.seq === damaged.seq)?.offloadedAt).toBeNull();
    const refused = cam.events.filter((e) => e.event === 'offload.refused').map((e) => e.payload);
    expect(refused).toEqual([
      expect.objectContaining({ by: 'dock', reason: expect.stringContaining('hash-mismatch') }),
    ]);
    expect(s.dock.progress.summary()[0]).toMatchObject({ stored: 2, refused: 1 });
    expect(logged(s.dock.lines, 'segment refused: it stays on the camera')).toEqual([
      expect.objectContaining({ device: 'cam-b', seq: damaged.seq, code: 'hash-mismatch' }),
    ]);
  });

  it('a camera withdrawn mid-docking gets no receipt from that moment; enrolled again, its next docking takes the rest', async () => {
    const s = await scene({ checkpointBytes: CHUNK_BYTES });
    const cam = await s.camera('cam-w', { segments: 6, bytesEach: 1_000_000 });
    const enrolment = s.dock.enrolled.get('cam-w');
    if (enrolment === undefined) throw new Error('enrolled');
    // Withdrawn the moment the first segment is stored: a fake-time step runs a chain of file work to its end, so a
    // withdrawal between steps could come after the whole docking.
    let mark = -1;
    const push = s.dock.lines.push.bind(s.dock.lines);
    s.dock.lines.push = (...items) => {
      const n = push(...items);
      if (mark < 0 && items.some((l) => l.msg === 'segment stored and verified')) {
        s.dock.enrolled.delete('cam-w');
        mark = n;
      }
      return n;
    };
    cam.dock(true);
    await s.run(() => mark >= 0, 'one stored');
    const since = () => s.dock.lines.slice(mark);
    await s.run(() => logged(since(), 'a camera that is not enrolled here: ignored').length > 0, 'ignored');
    for (let i = 0; i < 300; i++) await s.clock.advance(100); // thirty seconds more: the camera offers again
    expect(logged(since(), 'receipt signed')).toEqual([]);
    expect(cam.offloaded()).toBeLessThan(6);

    s.dock.enrolled.set('cam-w', enrolment);
    cam.dock(false);
    await s.run(() => !s.broker.users.includes('cam-w'), 'undocked');
    cam.dock(true);
    await s.run(() => cam.offloaded() === 6, 'the rest offloaded');
    // Each segment stored once; a receipt the camera had not acted on when it undocked is sent again, never re-pulled.
    const receipted = logged(s.dock.lines, 'receipt signed', { device: 'cam-w', kind: 'segment' });
    expect(new Set(receipted.map((l) => `${l['incident']}#${l['seq']}`)).size).toBe(6);
    expect(s.dock.progress.summary()[0]).toMatchObject({ stored: 6, refused: 0 });
    expect(logged(s.dock.lines, 'segment stored and verified', { device: 'cam-w' })).toHaveLength(6);
  });

  it('a receipt not signed by the enrolled dock deletes nothing, and another camera cannot even send one', async () => {
    const s = await scene({ dockLater: true });
    const cam = await s.camera('cam-c', { segments: 2, bytesEach: 100_000 });
    const other = await s.camera('cam-d', { segments: 1, bytesEach: 100 });
    const [first] = cam.segments();
    if (first === undefined || first.sha256 === null) throw new Error('a segment expected');
    cam.dock(true);
    await s.run(() => cam.sync.status().connected, 'the camera connected');

    // Someone holding the agent's certificate (no agent runs yet) signs a receipt with a key of its own.
    const forger = await connected(s.broker, s.clock, DOCK_AGENT_CN);
    const key = generateDeviceKeys();
    const forged = signReceipt(
      {
        kind: 'segment',
        device: 'cam-c',
        incident: first.incidentId,
        seq: first.seq,
        file: path.basename(first.path),
        sha256: first.sha256,
        bytes: first.bytes,
        manifest: 'f'.repeat(64),
        storedAt: new Date(s.clock.wallNow()).toISOString(),
      },
      loadPrivateKey(key.privatePem),
      keyId(loadPublicKey(key.publicPem)),
    );
    forger.publish(downTopic('cam-c', 'ack'), JSON.stringify(forged));
    await s.run(() => cam.events.some((e) => e.event === 'offload.refused'), 'the receipt refused');
    expect(cam.events.map((e) => e.payload)).toEqual([
      expect.objectContaining({ by: 'camera', reason: 'receipt not signed by the enrolled dock for this segment' }),
    ]);
    expect(logged(cam.lines, 'a receipt was refused: nothing deleted')).toHaveLength(1);
    expect(existsSync(first.path)).toBe(true);
    expect(cam.offloaded()).toBe(0);

    // Another enrolled camera may not publish on cam-c's topics at all: the broker refuses it.
    other.dock(true);
    await s.run(() => other.sync.status().connected, 'the other camera connected');
    other.transport.publish(downTopic('cam-c', 'ack'), JSON.stringify(forged));
    await s.clock.advance(10);
    expect(s.broker.denied).toContainEqual({ user: 'cam-d', topic: downTopic('cam-c', 'ack') });
    expect(cam.events).toHaveLength(1);

    // The real dock then takes everything, as it would have.
    await forger.close();
    await s.startDock();
    await s.run(() => cam.offloaded() === 2, 'offloaded once the dock runs');
  });
});
