/**
 * Fleet status at the centre, with three real Mosquitto processes on loopback: two site docks made by the real
 * `bodycam dock init --central …` and run by the real dock station in this process (its managed broker bridges to
 * the centre over MQTT 5 and TLS with a client certificate), and a central broker configured by
 * src/dock/bridge-config.ts. `bodycam fleet status` (the built CLI) lists every camera of both sites; the centre
 * killed (SIGKILL) and started again from the same persistence directory ends with the latest state of every camera,
 * including what a site published while it was down (the site queues it for the bridge, and re-sends its retained
 * records when the bridge reconnects); an evidence topic published at a site never reaches it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/free-port.ts';
import { bridgeCn, buildCentralAcl, buildCentralConf, FLEET_READER_CN } from '../../../src/dock/bridge-config.ts';
import { tcpAccepts } from '../../../src/dock/broker.ts';
import { findMosquitto } from '../../../src/dock/broker-config.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { Openssl, serverAltNames } from '../../../src/dock/pki.ts';
import { Progress } from '../../../src/dock/sync/progress.ts';
import { NodeProcessRunner } from '../../../src/hal/process/node.ts';
import { upTopic } from '../../../src/protocol/topics.ts';
import { agentTls, connectMqtt, endAll, enrollCamera, makeDock, receive } from '../../harness/broker.ts';
import { cli, cliAsync, makeSimCamera } from '../../harness/daemon.ts';
import { captureLogger, quietCamera } from '../../harness/dock.ts';

const SITES = ['site-a', 'site-b'] as const;
const root = mkdtempSync(path.join(os.tmpdir(), 'bodycam-fleet-'));
chmodSync(root, 0o755);
const pki = path.join(root, 'centre-pki');
const file = (name: string) => path.join(pki, name);
const reader = { ca: file('ca.crt'), cert: file('reader.crt'), key: file('reader.key') };

interface Site {
  name: string;
  dir: string;
  port: number;
  station: DockStation;
  progress: Progress;
  /** The enrolled camera that never docked, and the one the dock has seen. */
  enrolled: string;
  seen: string;
}

let centrePort = 0;
let centreConf = '';
let centre: ChildProcess | null = null;
const sites: Site[] = [];
const clients: MqttClient[] = [];

/** Test-only: every key readable, since Mosquitto started as root reads them as user mosquitto. */
const OPEN = { mode: 0o644 };

async function makeCentrePki(): Promise<void> {
  mkdirSync(pki, { mode: 0o755 });
  const ssl = new Openssl(new NodeProcessRunner());
  await ssl.newKey(file('ca.key'), OPEN);
  writeFileSync(file('ca.crt'), await ssl.caCert(file('ca.key')));
  const issuer = { caCert: file('ca.crt'), caKey: file('ca.key') };
  const leaf = async (name: string, cn: string, usage: 'serverAuth' | 'clientAuth') => {
    await ssl.newKey(file(`${name}.key`), OPEN);
    const altNames = usage === 'serverAuth' ? { altNames: serverAltNames('127.0.0.1') } : {};
    writeFileSync(
      file(`${name}.crt`),
      await ssl.leafCert(issuer, { cn, keyFile: file(`${name}.key`), usage, ...altNames }),
    );
  };
  await leaf('server', '127.0.0.1', 'serverAuth');
  await leaf('reader', FLEET_READER_CN, 'clientAuth');
  for (const site of SITES) await leaf(site, bridgeCn(site), 'clientAuth');
}

async function startCentre(): Promise<void> {
  centre = spawn(findMosquitto(), ['-c', centreConf], { stdio: ['ignore', 'ignore', 'pipe'] });
  centre.stderr?.resume();
  for (let i = 0; i < 100 && !(await tcpAccepts('127.0.0.1', centrePort)); i++) await sleep(100);
}

function killCentre(): Promise<void> {
  const p = centre;
  centre = null;
  if (p === null || p.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Listed {
  site: string;
  device: string;
  enrolled: boolean;
  lastSeen: string | null;
  pending: { segments: number } | null;
  attention: string[];
}

async function fleetStatus(json: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliAsync([
    'fleet',
    'status',
    '--broker',
    `mqtts://127.0.0.1:${centrePort}`,
    '--ca',
    reader.ca,
    '--cert',
    reader.cert,
    '--key',
    reader.key,
    '--wait-ms',
    '500',
    ...(json ? ['--json'] : []),
  ]);
}

/** `fleet status --json` until `done` holds of its cameras (or 30 s pass); the last list either way. */
async function fleetUntil(done: (cameras: Listed[]) => boolean): Promise<Listed[]> {
  let cameras: Listed[] = [];
  for (const until = Date.now() + 30_000; Date.now() < until; ) {
    const r = await fleetStatus(true);
    if (r.code === 0) {
      cameras = (JSON.parse(r.stdout) as { cameras: Listed[] }).cameras;
      if (done(cameras)) return cameras;
    }
    await sleep(300);
  }
  return cameras;
}

const byId = (cameras: Listed[]) => new Map(cameras.map((c) => [`${c.site}/${c.device}`, c]));

function claim(segments: number) {
  return {
    session: 's1',
    atMs: Date.now(),
    recording: false,
    segments,
    closings: 0,
    open: 0,
    chainSeq: 3,
    auditSeq: 9,
  };
}

beforeAll(async () => {
  await makeCentrePki();
  centrePort = await freePort();
  const state = path.join(root, 'centre-state');
  mkdirSync(state, { mode: 0o777 });
  chmodSync(state, 0o777);
  centreConf = path.join(root, 'centre.conf');
  writeFileSync(path.join(root, 'centre.acl'), buildCentralAcl(SITES));
  writeFileSync(
    centreConf,
    buildCentralConf({
      port: centrePort,
      bind: '127.0.0.1',
      cafile: reader.ca,
      certfile: file('server.crt'),
      keyfile: file('server.key'),
      aclFile: path.join(root, 'centre.acl'),
      persistenceDir: `${state}/`,
      user: process.getuid?.() === 0 ? 'mosquitto' : os.userInfo().username,
    }),
  );
  await startCentre();
  for (const name of SITES) {
    const dock = await makeDock([
      '--central',
      `127.0.0.1:${centrePort}`,
      '--site',
      name,
      '--central-ca',
      reader.ca,
      '--central-cert',
      file(`${name}.crt`),
      '--central-key',
      file(`${name}.key`),
    ]);
    const enrolled = `${name}-cam1`;
    enrollCamera(dock.dir, makeSimCamera(quietCamera(enrolled)).configFile);
    const progress = Progress.open(dock.dir);
    const seen = `${name}-cam2`;
    progress.seen(seen);
    progress.claims.record(seen, claim(2));
    const station = new DockStation(dock.dir, captureLogger().logger, { fleetLookMs: 200 });
    await station.start();
    sites.push({ name, dir: dock.dir, port: dock.port, station, progress, enrolled, seen });
  }
}, 120_000);

afterAll(async () => {
  await endAll(clients);
  for (const s of sites) {
    await s.station.stop();
    s.progress.close();
  }
  await killCentre();
});

describe('fleet status bridged from two sites to the centre', () => {
  it('lists every camera of both sites, enrolled-but-never-seen ones too, what needs attention first', async () => {
    const cameras = await fleetUntil((c) => c.length === 4);
    const ids = byId(cameras);
    for (const s of sites) {
      expect(ids.get(`${s.name}/${s.enrolled}`)).toMatchObject({ enrolled: true, lastSeen: null, pending: null });
      expect(ids.get(`${s.name}/${s.seen}`)).toMatchObject({ enrolled: false, pending: { segments: 2 } });
      expect(ids.get(`${s.name}/${s.seen}`)?.lastSeen).not.toBeNull();
    }
    expect(cameras).toHaveLength(4);
    // Never seen comes before a camera that is fine (the seen ones were seen a moment ago, nothing is old).
    expect(cameras.map((c) => c.attention)).toEqual([['never seen'], ['never seen'], [], []]);
    const text = await fleetStatus(false);
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^NEVER SEEN {2}site-a\/site-a-cam1: /);
    expect(lines[3]).toMatch(/^ok {2}site-b\/site-b-cam2: .*pending 2 segment\(s\)/);
  }, 60_000);

  it("refuses, at dock init, a bridge certificate naming another site's bridge", () => {
    const r = cli([
      'dock',
      'init',
      '--dir',
      path.join(root, 'wrong-site'),
      '--central',
      `127.0.0.1:${centrePort}`,
      '--site',
      'site-b',
      '--central-ca',
      reader.ca,
      '--central-cert',
      file('site-a.crt'),
      '--central-key',
      file('site-a.key'),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--central-cert names CN bridge-site-a; the centre knows site site-b');
  });

  it('keeps evidence topics at the site: only the fleet status pattern crosses', async () => {
    const watcher = await connectMqtt(centrePort, reader, { host: '127.0.0.1' });
    clients.push(watcher);
    const got = await receive(watcher, 'sites/#');
    const site = sites[0] as Site;
    const agent = await connectMqtt(site.port, agentTls(site.dir));
    clients.push(agent);
    await agent.publishAsync(upTopic(site.enrolled, 'chunk'), Buffer.from('footage bytes'), { qos: 1 });
    await agent.publishAsync(upTopic(site.enrolled, 'inventory'), '{}', { qos: 1 });
    // A change to the status right after: once it has crossed, anything published before it would have too.
    site.progress.claims.record(site.seen, claim(3));
    for (let i = 0; i < 100 && !got.some((m) => m.payload.includes('"segments":3')); i++) await sleep(100);
    expect(
      got.some((m) => m.topic === `sites/site-a/fleet/v1/${site.seen}` && m.payload.includes('"segments":3')),
    ).toBe(true);
    expect(got.filter((m) => !/^sites\/site-[ab]\/fleet\/v1\/[a-z0-9-]+$/.test(m.topic))).toEqual([]);
    expect(got.filter((m) => m.payload.includes('footage'))).toEqual([]);
  }, 30_000);

  it('loses no latest state when the centre is killed and started again', async () => {
    await killCentre();
    const [a, b] = sites as [Site, Site];
    a.progress.claims.record(a.seen, claim(7));
    await sleep(600);
    a.progress.claims.record(a.seen, claim(9)); // the latest: 9, not 7
    b.progress.claims.record(b.seen, claim(5));
    await sleep(600); // the dock publishes within 200 ms; the site broker queues it for the bridge
    await startCentre();
    const cameras = await fleetUntil(
      (c) =>
        byId(c).get(`site-a/${a.seen}`)?.pending?.segments === 9 &&
        byId(c).get(`site-b/${b.seen}`)?.pending?.segments === 5,
    );
    const ids = byId(cameras);
    expect(ids.get(`site-a/${a.seen}`)?.pending?.segments).toBe(9);
    expect(ids.get(`site-b/${b.seen}`)?.pending?.segments).toBe(5);
    // The cameras whose status did not change while the centre was down are there too: the centre's persistence
    // kept them, and the site's broker sends its retained records again when the bridge reconnects.
    expect([...ids.keys()].sort()).toEqual(
      [`site-a/${a.enrolled}`, `site-a/${a.seen}`, `site-b/${b.enrolled}`, `site-b/${b.seen}`].sort(),
    );
  }, 60_000);
});
