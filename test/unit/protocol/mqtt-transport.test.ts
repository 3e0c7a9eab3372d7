/**
 * The MQTT transport's client options as data (the one place they are written), and what it does before any
 * broker is involved. Its behaviour against a real Mosquitto is shown by test/integration/dock/.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_PACKET_BYTES } from '../../../src/protocol/limits.ts';
import { MqttTransport, mqttClientOptions } from '../../../src/protocol/transport/mqtt.ts';

const credentials = { ca: Buffer.from('ca'), cert: Buffer.from('cert'), key: Buffer.from('key') };
const tls = { ca: '/nowhere/ca.crt', cert: '/nowhere/c.crt', key: '/nowhere/c.key' };

describe('the MQTT transport', () => {
  it('speaks MQTT 5 over TLS with the CA checked, a clean session that ends with the connection, the largest packet', () => {
    expect(mqttClientOptions({ host: 'dock.local', port: 8883, clientId: 'cam-1', tls }, credentials)).toEqual({
      protocol: 'mqtts',
      host: 'dock.local',
      port: 8883,
      protocolVersion: 5,
      clientId: 'cam-1',
      ...credentials,
      rejectUnauthorized: true,
      reconnectPeriod: 1000,
      clean: true,
      writeCache: false,
      properties: { sessionExpiryInterval: 0, maximumPacketSize: MAX_PACKET_BYTES },
    });
  });

  it("a client made with these options keeps no table of numbers in mqtt-packet (65,536 Buffers for the process's life)", async () => {
    const { MqttClient } = await import('mqtt');
    const { default: mqttPacket } = await import('mqtt-packet');
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(true); // mqtt-packet's default, before any client
    const o = mqttClientOptions({ host: 'dock.local', port: 8883, clientId: 'cam-1', tls }, credentials);
    const client = new MqttClient(
      () => {
        throw new Error('not to connect');
      },
      { ...o, manualConnect: true },
    );
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(false);
    expect(client.connected).toBe(false); // never connected: nothing to end
  });

  it('checks the certificate against another name when given one, and gives up a slow attempt when told', () => {
    const o = mqttClientOptions(
      {
        host: '127.0.0.1',
        servername: 'dock.local',
        port: 1,
        clientId: 'dock',
        tls,
        reconnectMs: 250,
        connectTimeoutMs: 5000,
      },
      credentials,
    );
    expect(o).toMatchObject({
      host: '127.0.0.1',
      servername: 'dock.local',
      reconnectPeriod: 250,
      connectTimeout: 5000,
    });
  });

  it('refuses to open without readable credentials, and is closed and silent before it opens', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-mqtt-'));
    writeFileSync(path.join(dir, 'ca.crt'), 'x');
    const t = new MqttTransport({
      host: 'localhost',
      port: 1,
      clientId: 'cam-1',
      tls: { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'missing.crt'), key: path.join(dir, 'missing.key') },
    });
    await expect(t.open()).rejects.toThrow(/missing\.(crt|key)/);
    expect(t.connected).toBe(false);
    expect(t.info).toBeNull();
    t.publish('x', 'nothing happens');
    await expect(t.subscribe(['x'])).resolves.toBeUndefined();
    await expect(t.close()).resolves.toBeUndefined();
  });
});
