/**
 * The dock's broker as cameras meet it: a real Mosquitto (started through src/dock/broker.ts) with the PKI and ACL
 * that `bodycam dock init` writes, two sim cameras enrolled with `bodycam dock enroll`, real MQTT 5 clients over TLS.
 *
 * "Receives nothing" is checked without sleeping: after the message that must not arrive, the dock publishes a
 * marker the client may read; MQTT keeps the broker's order, so once the marker is in, anything the ACL let through
 * would already be there.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockBroker, type MosquittoBroker } from '../../../src/dock/broker.ts';
import { dockLayout } from '../../../src/dock/layout.ts';
import { Openssl } from '../../../src/dock/pki.ts';
import { realClock } from '../../../src/hal/clock/real.ts';
import { NodeProcessRunner } from '../../../src/hal/process/node.ts';
import {
  agentTls,
  cameraTls,
  connectMqtt,
  endAll,
  enrollCamera,
  makeDock,
  receive,
  startBroker,
  type TestDock,
  type TlsFiles,
  until,
} from '../../harness/broker.ts';
import { type Camera, cli, makeSimCamera } from '../../harness/daemon.ts';

const A = 'cam-a';
const B = 'cam-b';

let dock: TestDock;
let broker: MosquittoBroker | undefined;
let camA: Camera;
let camB: Camera;
/** Camera A's config as `bodycam init` wrote it, before enrolment. */
let originalA: Record<string, unknown>;
const clients: MqttClient[] = [];

async function client(tls: TlsFiles, clientId?: string): Promise<MqttClient> {
  const c = await connectMqtt(dock.port, tls, clientId === undefined ? {} : { clientId });
  clients.push(c);
  return c;
}

/** A client certificate for CN `cn` from a CA that is not the dock's. */
async function foreignIdentity(cn: string): Promise<TlsFiles> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-foreign-'));
  const ssl = new Openssl(new NodeProcessRunner());
  const issuer = { caCert: path.join(dir, 'ca.crt'), caKey: path.join(dir, 'ca.key') };
  await ssl.newKey(issuer.caKey, { mode: 0o600 });
  writeFileSync(issuer.caCert, await ssl.caCert(issuer.caKey));
  const key = path.join(dir, 'client.key');
  await ssl.newKey(key, { mode: 0o600 });
  const cert = path.join(dir, 'client.crt');
  writeFileSync(cert, await ssl.leafCert(issuer, { cn, keyFile: key, usage: 'clientAuth' }));
  return { ca: dockLayout(dock.dir).pki.caCert, cert, key };
}

beforeAll(async () => {
  dock = await makeDock();
  camA = makeSimCamera((c) => {
    c['device'].id = A;
  });
  camB = makeSimCamera((c) => {
    c['device'].id = B;
  });
  originalA = JSON.parse(readFileSync(camA.configFile, 'utf8'));
  enrollCamera(dock.dir, camA.configFile);
  enrollCamera(dock.dir, camB.configFile);
  broker = await startBroker(dock.dir);
}, 120_000);

afterAll(async () => {
  await endAll(clients);
  await broker?.stop();
});

describe('who may connect', () => {
  it('refuses a client without a certificate', async () => {
    await expect(connectMqtt(dock.port, { ca: dockLayout(dock.dir).pki.caCert })).rejects.toThrow(
      /certificate required/,
    );
  });

  it("refuses a certificate from another CA, even one naming an enrolled camera's id", async () => {
    await expect(connectMqtt(dock.port, await foreignIdentity(A))).rejects.toThrow(/unknown ca/);
  });

  it("refuses the broker's own server certificate as a client (no clientAuth), whatever the host is named", async () => {
    const l = dockLayout(dock.dir);
    const server = { ca: l.pki.caCert, cert: l.pki.serverCert, key: l.pki.serverKey };
    await expect(connectMqtt(dock.port, server)).rejects.toThrow(/unsupported certificate/);
  });

  it('admits the enrolled cameras and the dock agent', async () => {
    for (const tls of [cameraTls(camA.configFile), cameraTls(camB.configFile), agentTls(dock.dir)]) {
      const c = await client(tls);
      expect(c.connected).toBe(true);
    }
  });
});

describe('what each may do (ACL)', () => {
  it("delivers camera A's up messages to the dock, and not to camera B subscribed to A's tree", async () => {
    const agent = await client(agentTls(dock.dir));
    const a = await client(cameraTls(camA.configFile));
    const b = await client(cameraTls(camB.configFile));
    const atDock = await receive(agent, `bodycam/cam/${A}/up/#`);
    const atB = await receive(b, `bodycam/cam/${A}/#`);
    const bMarkers = await receive(b, 'bodycam/dock/#');
    await a.publishAsync(`bodycam/cam/${A}/up/x`, 'from A', { qos: 1 });
    await until(() => atDock.length === 1, 'the dock to receive A');
    expect(atDock).toEqual([{ topic: `bodycam/cam/${A}/up/x`, payload: 'from A' }]);
    await agent.publishAsync('bodycam/dock/marker', 'm1', { qos: 1 });
    await until(() => bMarkers.length === 1, 'B to receive the marker');
    expect(atB).toEqual([]);
  });

  it("refuses camera B's publish to A's down topic (PUBACK 135) and A receives nothing", async () => {
    const agent = await client(agentTls(dock.dir));
    const a = await client(cameraTls(camA.configFile));
    const b = await client(cameraTls(camB.configFile));
    const atA = await receive(a, `bodycam/cam/${A}/down/#`);
    const refused = await b.publishAsync(`bodycam/cam/${A}/down/ack`, 'forged', { qos: 1 }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: number },
    );
    expect(refused?.code).toBe(135);
    expect(refused?.message).toMatch(/Not authorized/);
    await agent.publishAsync(`bodycam/cam/${A}/down/marker`, 'm2', { qos: 1 });
    await until(() => atA.length >= 1, 'A to receive the marker');
    expect(atA).toEqual([{ topic: `bodycam/cam/${A}/down/marker`, payload: 'm2' }]);
  });

  it("refuses a camera's publish to the dock's broadcast tree", async () => {
    const a = await client(cameraTls(camA.configFile));
    const e = await a.publishAsync('bodycam/dock/announce', 'forged', { qos: 1 }).then(
      () => undefined,
      (err: unknown) => err as Error & { code?: number },
    );
    expect(e?.code).toBe(135);
  });

  it("lets the dock publish to A's down topic, and A receives it", async () => {
    const agent = await client(agentTls(dock.dir));
    const a = await client(cameraTls(camA.configFile));
    const atA = await receive(a, `bodycam/cam/${A}/down/#`);
    await agent.publishAsync(`bodycam/cam/${A}/down/ack`, 'ack 1', { qos: 1 });
    await until(() => atA.length === 1, 'A to receive the ack');
    expect(atA).toEqual([{ topic: `bodycam/cam/${A}/down/ack`, payload: 'ack 1' }]);
  });
});

describe('supervision', () => {
  it('restarts a killed broker, which then admits cameras again', async () => {
    const running = broker;
    if (running === undefined) throw new Error('no broker');
    const before = running.pid;
    running.kill('SIGKILL');
    await until(() => running.restarts === 1, 'a restart', 10_000);
    await running.whenReady();
    expect(running.pid).not.toBe(before);
    const a = await client(cameraTls(camA.configFile));
    expect(a.connected).toBe(true);
  });
});

describe('bodycam dock init and enroll', () => {
  it('keeps private keys owner-only and gives the broker only what it reads', () => {
    const l = dockLayout(dock.dir);
    const mode = (f: string) => statSync(f).mode & 0o777;
    for (const f of [l.pki.caKey, l.pki.agentKey, l.identity.key]) expect(mode(f)).toBe(0o600);
    const brokerMode = process.getuid?.() === 0 ? 0o640 : 0o600;
    for (const f of [l.pki.serverKey, l.pki.caCert, l.pki.serverCert, l.broker.acl]) expect(mode(f)).toBe(brokerMode);
    const { dock: dockSection, ...rest } = JSON.parse(readFileSync(camA.configFile, 'utf8'));
    expect(rest).toEqual(originalA);
    expect(dockSection).toEqual({
      host: 'localhost',
      port: dock.port,
      ca: 'dock/ca.crt',
      cert: 'dock/client.crt',
      key: 'dock/client.key',
      dockKey: 'dock/dock.pub',
    });
    expect(mode(path.join(camA.dir, 'dock/client.key'))).toBe(0o600);
    expect(readFileSync(path.join(dock.dir, 'devices', A, 'device.pub'), 'utf8')).toBe(
      readFileSync(path.join(camA.dir, 'identity/device.pub'), 'utf8'),
    );
    expect(readFileSync(path.join(camA.dir, 'dock/dock.pub'), 'utf8')).toBe(readFileSync(l.identity.pub, 'utf8'));
  });

  it('refuses an existing dock.json without --force, and keeps every key with it', () => {
    const l = dockLayout(dock.dir);
    const again = cli(['dock', 'init', '--dir', dock.dir, '--port', String(dock.port)]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
    const keys = [l.pki.caKey, l.pki.serverKey, l.pki.agentKey, l.identity.key].map((f) => readFileSync(f, 'utf8'));
    const forced = cli(['dock', 'init', '--dir', dock.dir, '--port', String(dock.port), '--force']);
    expect(forced.code).toBe(0);
    const after = [l.pki.caKey, l.pki.serverKey, l.pki.agentKey, l.identity.key].map((f) => readFileSync(f, 'utf8'));
    expect(after).toEqual(keys);
  });

  it('refuses a device id already enrolled with another signing key (exit 2)', () => {
    const impostor = makeSimCamera((c) => {
      c['device'].id = A;
    });
    const r = cli(['dock', 'enroll', '--dir', dock.dir, '--device-config', impostor.configFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`"${A}" is already enrolled`);
    expect(JSON.parse(readFileSync(impostor.configFile, 'utf8')).dock).toBeUndefined();
  });

  it('refuses a camera without a signing key, and one named like the dock agent (exit 2)', () => {
    const keyless = makeSimCamera((c) => {
      c['device'].id = 'cam-keyless';
    });
    rmSync(path.join(keyless.dir, 'identity/device.pub'));
    const r = cli(['dock', 'enroll', '--dir', dock.dir, '--device-config', keyless.configFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`bodycam identity --config ${keyless.configFile}`);
    const named = makeSimCamera((c) => {
      c['device'].id = 'dock';
    });
    const d = cli(['dock', 'enroll', '--dir', dock.dir, '--device-config', named.configFile]);
    // The camera's own config already refuses the name (device.id), so enrolment stops there.
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/device\.id: .*not "dock"/);
  });

  it.runIf(process.getuid?.() === 0)('as root, refuses a dock dir Mosquitto could not reach, before writing it', () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'bodycam-dock-')); // 0700
    const r = cli(['dock', 'init', '--dir', path.join(parent, 'dock')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot enter ${parent} (mode 700); run \`chmod o+x ${parent}\``);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('--external writes the same files but leaves starting Mosquitto to the site', () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'bodycam-dock-'));
    chmodSync(parent, 0o755);
    const dir = path.join(parent, 'dock');
    const r = cli(['dock', 'init', '--dir', dir, '--external', '--host', '192.168.1.20', '--bind', '192.168.1.20']);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(dockLayout(dir).config, 'utf8'))).toMatchObject({
      broker: 'external',
      host: '192.168.1.20',
    });
    expect(readFileSync(dockLayout(dir).broker.conf, 'utf8')).toContain('listener 8883 192.168.1.20\n');
    const deps = { runner: new NodeProcessRunner(), clock: realClock };
    expect(() => dockBroker(dir, deps)).toThrow(/runs Mosquitto itself/);
  });

  it.each([
    [['--host', 'bad host!'], '--host'],
    [['--bind', 'lan0'], '--bind'],
    [['--port', '70000'], '--port'],
  ])('%j is a usage error naming the option (exit 2)', (args, named) => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-dock-')), 'dock');
    const r = cli(['dock', 'init', '--dir', dir, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(named);
  });
});
