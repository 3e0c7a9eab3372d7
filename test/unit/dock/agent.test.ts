/**
 * The dock agent (src/dock/sync/agent.ts) on the in-memory broker and the fake clock, met by a camera speaking the
 * protocol by hand: it announces itself at every connection, answers an enrolled camera's hello with its own clock's
 * time, takes nothing from a camera that is not enrolled or says hello with another key, clears retained messages,
 * refuses a chunk without its headers, and leaves the transport it was handed to its owner when it stops.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateDeviceKeys, keyId, loadPublicKey } from '../../../src/evidence/keys.ts';
import { DOCK_AGENT_CN } from '../../../src/protocol/acl.ts';
import { PROTOCOL } from '../../../src/protocol/messages.ts';
import { cameraSubscriptions, DOCK_HELLO_TOPIC, DOCK_SUBSCRIPTIONS, upTopic } from '../../../src/protocol/topics.ts';
import type { MemoryTransport } from '../../../src/protocol/transport/memory.ts';
import type { InboundMessage } from '../../../src/protocol/transport/port.ts';
import { logged } from '../../harness/dock.ts';
import { connected } from '../../harness/memory-sync.ts';
import { type Scene, syncScene } from '../../harness/sync-scene.ts';

const scenes: Scene[] = [];
afterEach(async () => {
  for (const s of scenes.splice(0)) await s.stop();
});

/** A camera's certificate in hand and nothing else: it connects, listens on its topics and says what it likes. */
async function handCamera(s: Scene, device: string, enrol = true) {
  const keys = generateDeviceKeys();
  const key = loadPublicKey(keys.publicPem);
  if (enrol) s.dock.enrolled.set(device, { key, pem: keys.publicPem, keyId: keyId(key) });
  const t = await connected(s.broker, s.clock, device);
  const got: InboundMessage[] = [];
  t.on('message', (m) => got.push(m));
  await t.subscribe(cameraSubscriptions(device));
  const hello = (over: Record<string, unknown> = {}, as: MemoryTransport = t) =>
    as.publish(
      upTopic(device, 'hello'),
      JSON.stringify({
        protocol: PROTOCOL,
        session: 's-1',
        device,
        keyId: keyId(key),
        release: 'x',
        sentMono: 42,
        ...over,
      }),
    );
  const of = (topic: string) => got.filter((m) => m.topic.endsWith(topic)).map((m) => JSON.parse(String(m.payload)));
  return { t, got, hello, of, pem: keys.publicPem };
}

async function scene(o: Parameters<typeof syncScene>[0] = {}): Promise<Scene> {
  const s = await syncScene(o);
  scenes.push(s);
  return s;
}

describe('the dock agent', () => {
  it("announces itself at every connection and answers an enrolled camera's hello with its clock's time", async () => {
    const s = await scene({ dockLater: true });
    const cam = await handCamera(s, 'cam-a');
    // The dock's clock, not the machine's: set far from it.
    const set = Date.UTC(2030, 0, 1);
    s.clock.setWall(set);
    await s.startDock();
    await s.run(() => cam.got.length > 0, 'the announcement');
    expect(cam.got.map((m) => m.topic)).toEqual([DOCK_HELLO_TOPIC]);
    const { at } = JSON.parse(String(cam.got[0]?.payload));
    expect(at).toBeGreaterThanOrEqual(set);
    expect(at).toBeLessThanOrEqual(s.clock.wallNow());

    cam.hello();
    await s.run(() => cam.of('/time').length === 1, 'the time');
    const [time] = cam.of('/time');
    expect(time).toMatchObject({ session: 's-1', echoMono: 42 });
    expect(time.dockWallMs).toBeGreaterThanOrEqual(set);
    expect(time.dockWallMs).toBeLessThanOrEqual(s.clock.wallNow());
    expect(readFileSync(path.join(s.dock.evidenceDir, 'cam-a', 'device.pub'), 'utf8')).toBe(cam.pem);
    expect(s.dock.progress.summary()[0]?.lastSeen?.startsWith('2030-01-01T00:00:')).toBe(true);

    // Its connection lost, it connects again on its own, subscribes again and announces itself again.
    s.broker.drop(DOCK_AGENT_CN);
    await s.run(() => cam.of('/hello').length === 2, 'announced again', 2000);
    expect(s.clock.now()).toBeGreaterThanOrEqual(1000);
    cam.hello({ session: 's-2' });
    await s.run(() => cam.of('/time').length === 2, 'the time again');
  });

  it('takes nothing from a camera not enrolled, with another key, or whose hello is not one', async () => {
    const s = await scene();
    const stranger = await handCamera(s, 'cam-x', false);
    const cam = await handCamera(s, 'cam-a');
    stranger.hello();
    cam.hello({ keyId: 'ab'.repeat(16) });
    cam.hello({ protocol: 'bodycam-sync/0' });
    cam.hello({ device: 'cam-b' });
    await s.run(() => s.broker.idle && logged(s.dock.lines, 'a camera message was refused').length === 2, 'refusals');
    await s.clock.advance(100);
    expect([...stranger.got, ...cam.got].filter((m) => m.topic !== DOCK_HELLO_TOPIC)).toEqual([]);
    expect(logged(s.dock.lines, 'a camera that is not enrolled here: ignored')).toEqual([
      expect.objectContaining({ device: 'cam-x' }),
    ]);
    expect(logged(s.dock.lines, 'a camera with another signing key than enrolled: nothing taken')).toHaveLength(1);
    expect(logged(s.dock.lines, 'a camera message was refused').map((l) => l['reason'])).toEqual([
      'protocol must be bodycam-sync/1',
      'device differs from the topic',
    ]);
    expect(existsSync(path.join(s.dock.evidenceDir, 'cam-x'))).toBe(false);
    expect(s.dock.progress.summary()).toEqual([]);
  });

  it('clears a retained message it is handed, and refuses a chunk without its headers', async () => {
    const s = await scene({ retainAvailable: true });
    const cam = await handCamera(s, 'cam-a');
    cam.t.publish(upTopic('cam-a', 'inventory'), 'left for later subscribers', { retain: true });
    // A camera's retained message reaches the agent when it subscribes again (after a reconnect).
    s.broker.drop(DOCK_AGENT_CN);
    await s.clock.advance(1000);
    await s.run(() => logged(s.dock.lines, 'a retained message was ignored and cleared').length === 1, 'cleared');
    cam.hello();
    await s.run(() => cam.of('/time').length === 1, 'the time');
    cam.t.publish(upTopic('cam-a', 'chunk'), Buffer.alloc(10));
    await s.run(() => logged(s.dock.lines, 'a camera message was refused').length === 1, 'the chunk refused');
    expect(logged(s.dock.lines, 'a camera message was refused')[0]).toMatchObject({
      device: 'cam-a',
      reason: 'a chunk needs its user properties',
    });
    // Nothing retained is left: a new subscriber with the agent's rights gets nothing.
    await s.dock.agent.stop();
    const check = await connected(s.broker, s.clock, DOCK_AGENT_CN);
    const replayed: InboundMessage[] = [];
    check.on('message', (m) => replayed.push(m));
    await check.subscribe(DOCK_SUBSCRIPTIONS);
    await s.clock.advance(0);
    expect(replayed).toEqual([]);
  });

  it('leaves the transport to its owner when it stops, and takes no more messages', async () => {
    const s = await scene();
    const cam = await handCamera(s, 'cam-a');
    await s.dock.agent.stop();
    expect(s.dock.transport.connected).toBe(true);
    cam.hello();
    await s.clock.advance(100);
    expect(cam.of('/time')).toEqual([]);
  });
});
