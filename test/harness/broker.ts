/**
 * Dock broker harness for integration tests: a dock directory made by the real `bodycam dock init` on a free
 * loopback port, its managed Mosquitto started through src/dock/broker.ts (real process runner, real clock), and
 * MQTT 5 clients over TLS with a chosen certificate. The CLI runs from dist/: build it first (vitest's global setup
 * does; with vnb.config.ts run `tsc -p tsconfig.build.json`).
 *
 * ```ts
 * const dock = await makeDock();
 * enrollCamera(dock.dir, camera.configFile);          // camera from makeSimCamera()
 * const broker = await startBroker(dock.dir);         // stop it in afterAll
 * const agent = await connectMqtt(dock.port, agentTls(dock.dir));
 * const cam = await connectMqtt(dock.port, cameraTls(camera.configFile));
 * ```
 */
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { freePort } from '../../scripts/free-port.ts';
import { loadConfig } from '../../src/config/load.ts';
import { dockBroker, type MosquittoBroker } from '../../src/dock/broker.ts';
import { dockLayout } from '../../src/dock/layout.ts';
import { realClock } from '../../src/hal/clock/real.ts';
import { NodeProcessRunner } from '../../src/hal/process/node.ts';
import { cli } from './daemon.ts';

/** A dock directory made by `bodycam dock init`. */
export interface TestDock {
  dir: string;
  port: number;
}

/**
 * `bodycam dock init --dir <tmp>/dock --port <free port>` plus `args` (say `['--host', 'dock.local']`). The temp dir
 * is made enterable by others, because Mosquitto started as root reads its key as user mosquitto.
 */
export async function makeDock(args: readonly string[] = []): Promise<TestDock> {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'bodycam-dock-'));
  chmodSync(parent, 0o755);
  const dir = path.join(parent, 'dock');
  const port = await freePort();
  const r = cli(['dock', 'init', '--dir', dir, '--port', String(port), ...args]);
  if (r.code !== 0) throw new Error(`dock init failed (${r.code}): ${r.stderr}`);
  return { dir, port };
}

/** `bodycam dock enroll` of the camera whose config is `configFile`; throws with its stderr on failure. */
export function enrollCamera(dockDir: string, configFile: string): void {
  const r = cli(['dock', 'enroll', '--dir', dockDir, '--device-config', configFile]);
  if (r.code !== 0) throw new Error(`dock enroll failed (${r.code}): ${r.stderr}`);
}

/** Starts the managed Mosquitto of `dockDir` (its dock.json and broker/mosquitto.conf); resolves once it is up. */
export async function startBroker(dockDir: string): Promise<MosquittoBroker> {
  const broker = dockBroker(
    dockDir,
    { runner: new NodeProcessRunner(), clock: realClock },
    { backoff: { initialMs: 100, maxMs: 1000 } },
  );
  await broker.start();
  return broker;
}

/** PEM files for a TLS client: the CA to trust, and (optionally) the client certificate and key to present. */
export interface TlsFiles {
  ca: string;
  cert?: string;
  key?: string;
}

/** The dock agent's identity (CN `dock`): full rights on `bodycam/#`. */
export function agentTls(dockDir: string): TlsFiles {
  const l = dockLayout(dockDir);
  return { ca: l.pki.caCert, cert: l.pki.agentCert, key: l.pki.agentKey };
}

/** An enrolled camera's identity (CN = its device id), from the `dock` section of its config. */
export function cameraTls(configFile: string): TlsFiles {
  const dock = loadConfig(configFile).dock;
  if (dock === undefined) throw new Error(`${configFile} has no dock section: enroll the camera first`);
  return { ca: dock.ca, cert: dock.cert, key: dock.key };
}

export interface ConnectOptions {
  /** Host name to connect to and check the server certificate against (default `localhost`). */
  host?: string;
  clientId?: string;
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
}

/**
 * An MQTT 5 client over TLS to `port`, presenting `tls`; resolves once the broker accepted it (CONNACK), rejects
 * with the TLS or MQTT error if it did not. Never reconnects: a test sees each refusal. End it with `endAll`.
 */
export async function connectMqtt(port: number, tls: TlsFiles, opts: ConnectOptions = {}): Promise<MqttClient> {
  const options: IClientOptions = {
    protocol: 'mqtts',
    host: opts.host ?? 'localhost',
    port,
    protocolVersion: 5,
    clientId: opts.clientId ?? `test-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: 0,
    connectTimeout: opts.timeoutMs ?? 5000,
    rejectUnauthorized: true,
    ca: readFileSync(tls.ca),
    ...(tls.cert === undefined ? {} : { cert: readFileSync(tls.cert) }),
    ...(tls.key === undefined ? {} : { key: readFileSync(tls.key) }),
  };
  const client = connect(options);
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    client.on('error', (e) => {
      lastError = e;
    });
    client.once('connect', () => resolve(client));
    client.once('close', () => {
      client.end(true);
      reject(lastError ?? new Error('the broker closed the connection before accepting it'));
    });
  });
}

/** Ends every client (forcefully: tests do not wait for in-flight messages). */
export async function endAll(clients: readonly MqttClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.endAsync(true)));
}

/** Everything `client` receives on topics matching `filter` (subscribed at QoS 1), as it arrives. */
export async function receive(client: MqttClient, filter: string): Promise<{ topic: string; payload: string }[]> {
  const got: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => {
    if (matches(filter, topic)) got.push({ topic, payload: payload.toString() });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return got;
}

/** MQTT topic filter matching (`+` one level, `#` the rest). */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** Polls `pred` every 20 ms until it holds; throws `what` after `timeoutMs`. */
export async function until(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
