/**
 * The in-memory broker and transport keep the rules of the dock's Mosquitto, so that the protocol tests on them mean
 * what they would on the real one: the ACL on publish and delivery, one connection per name, the packet limit,
 * retained messages refused (or kept, when allowed), no local, clean sessions, and reconnects on the fake clock;
 * and they inject the faults those tests need.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { DOCK_AGENT_CN } from '../../../src/protocol/acl.ts';
import { MAX_PACKET_BYTES } from '../../../src/protocol/limits.ts';
import { cameraSubscriptions, DOCK_SUBSCRIPTIONS, downTopic, upTopic } from '../../../src/protocol/topics.ts';
import { MemoryTransport } from '../../../src/protocol/transport/memory.ts';
import { MemoryBroker, type MemoryBrokerOptions } from '../../../src/protocol/transport/memory-broker.ts';
import { connected, listen } from '../../harness/memory-sync.ts';

function setup(o: Partial<MemoryBrokerOptions> = {}) {
  const clock = new FakeClock();
  return { clock, broker: new MemoryBroker({ clock, ...o }) };
}

const texts = (ms: ReadonlyArray<{ topic: string; payload: Buffer }>) => ms.map((m) => `${m.topic} ${m.payload}`);

describe('the in-memory broker', () => {
  it('keeps the ACL: a camera speaks only for itself and hears only what is meant for it', async () => {
    const { clock, broker } = setup();
    const dock = await listen(broker, clock, DOCK_AGENT_CN, DOCK_SUBSCRIPTIONS);
    const camB = await listen(broker, clock, 'cam-b', ['bodycam/cam/+/down/#', 'bodycam/cam/+/up/#']);
    const camA = await connected(broker, clock, 'cam-a');
    const agent = await connected(broker, clock, 'dock-2');
    camA.publish(upTopic('cam-a', 'hello'), 'mine');
    camA.publish(upTopic('cam-b', 'hello'), 'forged');
    camA.publish(downTopic('cam-a', 'ack'), 'self-receipt');
    agent.publish(downTopic('cam-a', 'ack'), 'not the agent');
    await clock.advance(0);
    expect(texts(dock)).toEqual(['bodycam/cam/cam-a/up/hello mine']);
    // Subscribed to every camera's topics, cam-b is sent none of cam-a's.
    expect(camB).toEqual([]);
    expect(broker.denied).toEqual([
      { user: 'cam-a', topic: 'bodycam/cam/cam-b/up/hello' },
      { user: 'cam-a', topic: 'bodycam/cam/cam-a/down/ack' },
      { user: 'dock-2', topic: 'bodycam/cam/cam-a/down/ack' },
    ]);
  });

  it('delivers in order, one event-loop turn later, with headers; never back to a no-local sender', async () => {
    const { clock, broker } = setup();
    const dockT = await connected(broker, clock, DOCK_AGENT_CN);
    const got: string[] = [];
    dockT.on('message', (m) => got.push(`${m.payload}:${m.headers?.['offset'] ?? '-'}:${m.retained}`));
    await dockT.subscribe(['bodycam/#'], { noLocal: true });
    const camT = await connected(broker, clock, 'cam-a');
    for (let i = 0; i < 5; i++) camT.publish(upTopic('cam-a', 'chunk'), `c${i}`, { headers: { offset: String(i) } });
    dockT.publish(downTopic('cam-a', 'pull'), 'own');
    expect(got).toEqual([]);
    await clock.advance(0);
    expect(got).toEqual(['c0:0:false', 'c1:1:false', 'c2:2:false', 'c3:3:false', 'c4:4:false']);
  });

  it('one connection per name: a second one takes over and the first is cut off', async () => {
    const { clock, broker } = setup();
    const first = await connected(broker, clock, 'cam-a');
    const lost: string[] = [];
    first.on('lost', () => lost.push('first'));
    const second = await connected(broker, clock, 'cam-a');
    expect(lost).toEqual(['first']);
    expect([first.connected, second.connected]).toEqual([false, true]);
    await first.close();
    await clock.advance(5000);
    expect(second.connected).toBe(true);
  });

  it('cuts off a sender of a packet over the limit, or of a retained message, before anyone gets it', async () => {
    const { clock, broker } = setup();
    const dock = await listen(broker, clock, DOCK_AGENT_CN, DOCK_SUBSCRIPTIONS);
    const cam = await connected(broker, clock, 'cam-a');
    cam.publish(upTopic('cam-a', 'chunk'), Buffer.alloc(MAX_PACKET_BYTES));
    expect(cam.connected).toBe(false);
    await clock.advance(1000);
    expect(cam.connected).toBe(true);
    cam.publish(upTopic('cam-a', 'hello'), 'kept?', { retain: true });
    expect(cam.connected).toBe(false);
    await clock.advance(1000);
    cam.publish(upTopic('cam-a', 'hello'), 'fine');
    await clock.advance(0);
    expect(texts(dock)).toEqual(['bodycam/cam/cam-a/up/hello fine']);
  });

  it('where retained messages are allowed, replays one to a later subscriber, flagged, until it is cleared', async () => {
    const { clock, broker } = setup({ retainAvailable: true });
    const cam = await connected(broker, clock, 'cam-a');
    cam.publish(upTopic('cam-a', 'hello'), 'stale', { retain: true });
    const dockT = await connected(broker, clock, DOCK_AGENT_CN);
    expect(dockT.info).toEqual({ retainAvailable: true });
    const got: string[] = [];
    dockT.on('message', (m) => got.push(`${m.payload}:${m.retained}`));
    await dockT.subscribe(DOCK_SUBSCRIPTIONS);
    await clock.advance(0);
    expect(got).toEqual(['stale:true']);
    dockT.publish(upTopic('cam-a', 'hello'), Buffer.alloc(0), { retain: true });
    const later = await listen(broker, clock, 'dock-check', []);
    await clock.advance(0);
    expect(later).toEqual([]);
  });

  it('a dropped connection loses what was on its way to it and its subscriptions; what it sent meanwhile waits', async () => {
    const { clock, broker } = setup();
    const dockT = await connected(broker, clock, DOCK_AGENT_CN);
    const atDock: string[] = [];
    dockT.on('message', (m) => atDock.push(String(m.payload)));
    await dockT.subscribe(DOCK_SUBSCRIPTIONS);
    const camT = await connected(broker, clock, 'cam-a');
    const got: string[] = [];
    camT.on('message', (m) => got.push(String(m.payload)));
    const events: string[] = [];
    camT.on('lost', () => events.push('lost'));
    camT.on('connect', () => events.push('connect'));
    await camT.subscribe(cameraSubscriptions('cam-a'));

    dockT.publish(downTopic('cam-a', 'pull'), 'in flight');
    broker.drop('cam-a');
    camT.publish(upTopic('cam-a', 'chunk'), 'sent while down');
    await clock.advance(999);
    expect(events).toEqual(['lost']);
    expect(atDock).toEqual([]);
    await clock.advance(1);
    expect(events).toEqual(['lost', 'connect']);
    await clock.advance(0);
    expect(atDock).toEqual(['sent while down']);
    // Clean session: nothing reaches it until it subscribes again.
    dockT.publish(downTopic('cam-a', 'pull'), 'before subscribing');
    await clock.advance(0);
    await camT.subscribe(cameraSubscriptions('cam-a'));
    dockT.publish(downTopic('cam-a', 'pull'), 'after subscribing');
    await clock.advance(0);
    expect(got).toEqual(['after subscribing']);
  });

  it('refuses connections while down, and clients come back by themselves once it is up', async () => {
    const { clock, broker } = setup();
    const cam = await connected(broker, clock, 'cam-a');
    let lost = 0;
    cam.on('lost', () => {
      lost += 1;
    });
    broker.stop();
    expect(cam.connected).toBe(false);
    await clock.advance(3000);
    expect(lost).toBe(4); // the drop, then each attempt a second apart
    broker.start();
    await clock.advance(1000);
    expect(cam.connected).toBe(true);
    expect(broker.users).toEqual(['cam-a']);
  });

  it('doubles and reorders deliveries when told to', async () => {
    const { clock, broker } = setup();
    const dock = await listen(broker, clock, DOCK_AGENT_CN, DOCK_SUBSCRIPTIONS);
    const cam = await connected(broker, clock, 'cam-a');
    broker.duplicate = (d) => String(d.payload) === 'b';
    broker.reorder = (d) => String(d.payload) === 'a';
    for (const p of ['a', 'b', 'c']) cam.publish(upTopic('cam-a', 'chunk'), p);
    await clock.advance(0);
    expect(dock.map((m) => String(m.payload))).toEqual(['b', 'a', 'b', 'c']);
    // A held delivery with nothing after it goes out on the fake clock.
    broker.reorder = () => true;
    cam.publish(upTopic('cam-a', 'chunk'), 'last');
    await clock.advance(0);
    expect(dock).toHaveLength(4);
    await clock.advance(50);
    expect(dock.map((m) => String(m.payload)).at(-1)).toBe('last');
    expect(broker.idle).toBe(true);
  });

  it('acknowledges a message a turn after the broker took it, never one it refused; it delivers a copy', async () => {
    const { clock, broker } = setup();
    const dock = await listen(broker, clock, DOCK_AGENT_CN, DOCK_SUBSCRIPTIONS);
    const cam = await connected(broker, clock, 'cam-a');
    const acks: string[] = [];
    const chunk = Buffer.from('footage');
    cam.publish(upTopic('cam-a', 'chunk'), chunk, { acknowledged: () => acks.push('chunk') });
    expect(acks).toEqual([]);
    await clock.advance(0);
    expect(acks).toEqual(['chunk']);
    // The sender may now give its Buffer back: what the dock got is its own.
    chunk.fill(0);
    expect(dock.map((m) => String(m.payload))).toEqual(['footage']);
    // A packet over the limit cuts the sender off: lost, never acknowledged.
    cam.publish(upTopic('cam-a', 'chunk'), Buffer.alloc(MAX_PACKET_BYTES), { acknowledged: () => acks.push('big') });
    await clock.advance(0);
    expect(acks).toEqual(['chunk']);
    expect(dock).toHaveLength(1);
  });

  it('a closed transport sends nothing and can be opened again', async () => {
    const { clock, broker } = setup();
    const dock = await listen(broker, clock, DOCK_AGENT_CN, DOCK_SUBSCRIPTIONS);
    const cam = new MemoryTransport({ broker, user: 'cam-a', clock });
    cam.publish(upTopic('cam-a', 'hello'), 'before open');
    await cam.open();
    await clock.advance(0);
    cam.publish(upTopic('cam-a', 'hello'), 'open');
    await cam.close();
    cam.publish(upTopic('cam-a', 'hello'), 'after close');
    await cam.open();
    await clock.advance(0);
    cam.publish(upTopic('cam-a', 'hello'), 'reopened');
    await clock.advance(0);
    expect(dock.map((m) => String(m.payload))).toEqual(['open', 'reopened']);
  });
});
