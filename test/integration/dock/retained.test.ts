/**
 * Attack: an enrolled camera publishes retained messages on its topics, which the broker would keep and hand to
 * every later subscriber, the dock agent at each start included (a hello or an inventory replayed forever). The
 * dock's broker has retained messages off (`retain_available false`: a client that sends one is disconnected and
 * nothing is kept); on a site broker that still allows them the agent ignores every retained message and clears
 * it, and it never retains what it sends.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { MosquittoBroker } from '../../../src/dock/broker.ts';
import { findMosquitto } from '../../../src/dock/broker-config.ts';
import { dockLayout } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { realClock } from '../../../src/hal/clock/real.ts';
import { NodeProcessRunner } from '../../../src/hal/process/node.ts';
import { PROTOCOL } from '../../../src/protocol/messages.ts';
import { agentTls, cameraTls, connectMqtt, endAll, makeDock, startBroker, until } from '../../harness/broker.ts';
import { captureLogger, enrolledIdentity, logged } from '../../harness/dock.ts';
import { HostileCamera } from '../../harness/hostile-camera.ts';

/** Everything a fresh subscription to `filter` delivers, with the retain flag as received. */
async function subscribed(c: MqttClient, filter: string): Promise<Array<{ topic: string; retain: boolean }>> {
  const got: Array<{ topic: string; retain: boolean }> = [];
  c.on('message', (topic, _payload, packet) => got.push({ topic, retain: packet.retain }));
  await c.subscribeAsync(filter, { qos: 1 });
  return got;
}

describe('retained messages', () => {
  const clients: MqttClient[] = [];
  const stops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await endAll(clients);
    for (const stop of stops.reverse()) await stop();
  }, 60_000);

  it("the dock's broker disconnects a camera that publishes a retained message, and keeps nothing", async () => {
    const d = await makeDock();
    const broker = await startBroker(d.dir);
    stops.push(() => broker.stop());
    const cam = enrolledIdentity(d.dir, 'cam-a');
    const a = await connectMqtt(d.port, cameraTls(cam.camera.configFile));
    clients.push(a);
    a.on('error', () => undefined);
    const closed = new Promise<string>((resolve) => a.once('close', () => resolve('disconnected')));
    const acked = a.publishAsync('bodycam/cam/cam-a/up/hello', '{"kept":"forever"}', { qos: 1, retain: true }).then(
      () => 'accepted',
      () => 'refused',
    );
    expect(await Promise.race([closed, acked])).toBe('disconnected');

    // A later subscriber (the agent's identity) gets only what is published after it subscribed.
    const agent = await connectMqtt(d.port, agentTls(d.dir));
    clients.push(agent);
    const got = await subscribed(agent, 'bodycam/cam/cam-a/up/#');
    const again = await connectMqtt(d.port, cameraTls(cam.camera.configFile));
    clients.push(again);
    await again.publishAsync('bodycam/cam/cam-a/up/marker', 'm', { qos: 1 });
    await until(() => got.length > 0, 'the marker');
    expect(got).toEqual([{ topic: 'bodycam/cam/cam-a/up/marker', retain: false }]);
  }, 60_000);

  it('on a site broker that allows them, the agent ignores and clears retained messages and retains nothing', async () => {
    const d = await makeDock(['--external']);
    const l = dockLayout(d.dir);
    // The site's broker: the dock's configuration without the line that turns retained messages off.
    const conf = readFileSync(l.broker.conf, 'utf8');
    writeFileSync(l.broker.conf, conf.replace(/^retain_available false\n/m, ''));
    const broker = new MosquittoBroker({
      runner: new NodeProcessRunner(),
      clock: realClock,
      mosquittoPath: findMosquitto(),
      confFile: l.broker.conf,
      bind: '127.0.0.1',
      port: d.port,
    });
    await broker.start();
    stops.push(() => broker.stop());
    const cam = enrolledIdentity(d.dir, 'cam-a');
    const a = await connectMqtt(d.port, cameraTls(cam.camera.configFile));
    clients.push(a);
    const hello = { protocol: PROTOCOL, session: 'replayed', device: 'cam-a', keyId: cam.keyId, release: 'x' };
    await a.publishAsync('bodycam/cam/cam-a/up/hello', JSON.stringify({ ...hello, sentMono: 0 }), {
      qos: 1,
      retain: true,
    });
    await a.publishAsync('bodycam/cam/cam-a/up/inventory', '{"session":"replayed"}', { qos: 1, retain: true });

    const { logger, lines } = captureLogger();
    const station = new DockStation(d.dir, logger);
    stops.push(() => station.stop());
    await station.start();
    await until(() => logged(lines, 'a retained message was ignored and cleared').length === 2, 'both ignored');
    expect(logged(lines, 'a retained message was ignored and cleared').map((x) => x['topic'])).toEqual([
      'bodycam/cam/cam-a/up/hello',
      'bodycam/cam/cam-a/up/inventory',
    ]);

    // The agent answers a live hello (its reply is not retained), and never answered the replayed one.
    const h = await HostileCamera.connect(d.port, cam.camera, 'cam-a');
    clients.push(h.client);
    await h.hello(cam.keyId);
    const time = await h.nth('time');
    expect(time.body['session']).toBe(h.session);
    expect(h.of('time')).toHaveLength(1);
    // Subscribing again delivers whatever the broker retained on the camera's down topics: nothing.
    const down = await subscribed(h.client, 'bodycam/cam/cam-a/down/#');
    await h.hello(cam.keyId);
    await until(() => down.length > 0, 'the second answer');
    expect(down).toEqual([{ topic: 'bodycam/cam/cam-a/down/time', retain: false }]);

    // Cleared: a fresh subscriber of the camera's up topics gets nothing retained.
    await station.stop();
    const agent = await connectMqtt(d.port, agentTls(d.dir));
    clients.push(agent);
    const got = await subscribed(agent, 'bodycam/cam/cam-a/up/#');
    await h.publish('inventory', 'marker');
    await until(() => got.length > 0, 'the marker');
    expect(got).toEqual([{ topic: 'bodycam/cam/cam-a/up/inventory', retain: false }]);
  }, 90_000);
});
