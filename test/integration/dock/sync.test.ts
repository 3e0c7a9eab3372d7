/**
 * Dock sync end to end: real camera daemons (through the CLI), a real Mosquitto on a loopback port with the PKI and
 * ACL of `bodycam dock init`, and the dock station in this process (so a test can kill its broker). A docked camera
 * hands over every segment, the dock's copy verifies, and the camera deletes only on the dock's signed receipt;
 * broker crashes mid-transfer lose and duplicate nothing and resume from an offset; a forged receipt deletes nothing;
 * a segment that fails verification at the dock is refused, reported and kept.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { MosquittoBroker } from '../../../src/dock/broker.ts';
import { findMosquitto } from '../../../src/dock/broker-config.ts';
import { dockLayout } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { Progress } from '../../../src/dock/sync/progress.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import { signReceipt } from '../../../src/evidence/receipt.ts';
import { realClock } from '../../../src/hal/clock/real.ts';
import { NodeProcessRunner } from '../../../src/hal/process/node.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { downTopic } from '../../../src/protocol/topics.ts';
import { agentTls, connectMqtt, endAll, enrollCamera, makeDock, until } from '../../harness/broker.ts';
import { type Camera, cli, Daemon, list, makeSimCamera, recordIncident } from '../../harness/daemon.ts';
import { indexIntegrity, verifyStorage } from '../../harness/faults.ts';

const small =
  (device: string, bitrate = 400, width = 320, height = 240) =>
  (c: Record<string, any>) => {
    c['device'].id = device;
    c['capture'].source = { kind: 'synthetic', width, height, fps: 15, speed: 4, videoBitrateKbps: bitrate };
    c['preRecord'].seconds = 2;
    c['recording'].segmentSeconds = 10;
    c['warning'].enabled = false;
  };

const setDock = (camera: Camera, level: 'on' | 'off') => {
  const r = cli(['ctl', '--config', camera.configFile, 'set', 'dock', level]);
  if (r.code !== 0) throw new Error(r.stderr);
};
const segments = (camera: Camera) => list(camera).flatMap((i) => i.segments);
const storedFiles = (dockDir: string, device: string) => {
  const root = path.join(dockLayout(dockDir).evidenceDir, device);
  return existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .flatMap((e) =>
          readdirSync(path.join(root, e.name))
            .filter((f) => f.endsWith('.mp4.age'))
            .map((f) => `${e.name}/${f}`),
        )
    : [];
};

describe('dock sync', () => {
  const daemons: Daemon[] = [];
  const stations: DockStation[] = [];
  const brokers: MosquittoBroker[] = [];
  const clients: MqttClient[] = [];
  afterAll(async () => {
    await endAll(clients);
    for (const d of daemons) await d.terminate();
    for (const s of stations) await s.stop();
    for (const b of brokers) await b.stop();
  });

  it('hands over every segment; the dock copy verifies; the camera deletes only what the dock acknowledged', async () => {
    const dock = await makeDock();
    const station = new DockStation(dock.dir, silentLogger());
    stations.push(station);
    await station.start();
    const camera = makeSimCamera(small('cam-sync'));
    enrollCamera(dock.dir, camera.configFile);
    const daemon = new Daemon(camera);
    daemons.push(daemon);
    await recordIncident(daemon, 24);
    const before = segments(camera);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.every((s) => !s.offloaded && existsSync(s.path))).toBe(true);

    setDock(camera, 'on');
    await daemon.waitFor((s) => s.sync?.connected === true, 15_000, 'connected to the dock');
    await until(() => segments(camera).every((s) => s.offloaded), 'every segment offloaded', 60_000);
    const after = segments(camera);
    expect(after.every((s) => !existsSync(s.path) && existsSync(`${s.path}.receipt.json`))).toBe(true);
    expect(storedFiles(dock.dir, 'cam-sync').sort()).toEqual(
      before.map((s) => `${path.basename(path.dirname(s.path))}/${path.basename(s.path)}`).sort(),
    );

    // The audit log follows the footage; once it is in, the docking settles with a signed docking record.
    await until(
      () => existsSync(path.join(dockLayout(dock.dir).evidenceDir, 'cam-sync', 'dockings.jsonl')),
      'the audit log and the docking record at the dock',
      30_000,
    );
    const dockCheck = cli(['verify', dock.dir, '--json']);
    expect(JSON.parse(dockCheck.stdout).findings).toEqual([]);
    expect(dockCheck.code).toBe(0);
    // The camera keeps its copy of the record when the dock's message reaches it, a moment after the dock's.
    await until(() => existsSync(path.join(camera.dir, 'storage', 'dockings.jsonl')), 'the camera keeps the record');
    const camCheck = cli([
      'verify',
      path.join(camera.dir, 'storage'),
      '--key',
      path.join(camera.dir, 'identity', 'device.pub'),
      '--dock-key',
      dockLayout(dock.dir).identity.pub,
      '--json',
    ]);
    expect(JSON.parse(camCheck.stdout).findings).toEqual([]);
    expect(camCheck.code).toBe(0);
    expect(JSON.parse(camCheck.stdout).notes.filter((n: { code: string }) => n.code === 'offloaded')).toHaveLength(
      before.length,
    );

    const events = (await daemon.events()).map((e) => e.kind);
    expect(events.filter((k) => k === 'offloaded_deleted')).toHaveLength(before.length);
    expect(events).toContain('closing_offloaded');
    expect(events).toContain('clock_offset');
    const status = JSON.parse(cli(['dock', 'status', '--dir', dock.dir, '--json']).stdout);
    expect(status.devices[0]).toMatchObject({ device: 'cam-sync', stored: before.length, refused: 0, incidents: 1 });
    setDock(camera, 'off');
    await daemon.waitFor((s) => s.sync?.connected === false, 10_000, 'undocked');
  }, 180_000);

  it('survives three broker crashes mid-transfer: nothing lost or duplicated, resumed from an offset', async () => {
    const dock = await makeDock();
    const total = { bytes: 0 };
    const durable = new Map<string, number>();
    const kills = [0.15, 0.4, 0.65];
    // Checkpoints every MiB, so the broker dies in the middle of segments, not between them.
    const station: DockStation = new DockStation(dock.dir, silentLogger(), {
      checkpointBytes: 1024 * 1024,
      onProgress: (_device, line) => {
        const m = /^(\S+) (\d+)% of ([\d.]+) MB/.exec(line);
        if (m === null) return;
        durable.set(m[1] ?? '', (Number(m[2]) / 100) * Number(m[3]) * 1e6);
        const received = [...durable.values()].reduce((n, b) => n + b, 0);
        const killed = 3 - kills.length;
        const backUp = (station.broker?.restarts ?? 0) >= killed; // each crash only once the last one was restarted
        if (backUp && kills.length > 0 && total.bytes > 0 && received / total.bytes >= (kills[0] ?? 1)) {
          kills.shift();
          station.broker?.kill('SIGKILL');
        }
      },
    });
    stations.push(station);
    await station.start();
    const camera = makeSimCamera(small('cam-crash', 4000, 640, 480));
    enrollCamera(dock.dir, camera.configFile);
    const daemon = new Daemon(camera);
    daemons.push(daemon);
    await recordIncident(daemon, 30);
    const before = segments(camera);
    total.bytes = before.reduce((n, s) => n + s.bytes, 0);
    expect(total.bytes).toBeGreaterThan(10e6);

    setDock(camera, 'on');
    await until(
      () => segments(camera).every((s) => s.offloaded),
      'every segment offloaded despite the crashes',
      120_000,
    );
    expect(kills).toEqual([]);
    expect(station.broker?.restarts).toBeGreaterThanOrEqual(3);
    // Nothing lost, nothing twice: exactly the camera's segments at the dock, and the copy verifies.
    expect(storedFiles(dock.dir, 'cam-crash')).toHaveLength(before.length);
    expect(cli(['verify', dock.dir]).code).toBe(0);
    const events = (await daemon.events()).map((e) => e.kind);
    expect(events.filter((k) => k === 'offloaded_deleted')).toHaveLength(before.length);
    // Resumed from durable offsets: what crossed the broker is the footage plus a little.
    const progress = Progress.open(dock.dir, { readonly: true });
    const [summary] = progress.summary();
    progress.close();
    expect(summary?.storedBytes).toBe(total.bytes);
    const resent = ((summary?.receivedTotal ?? 0) - total.bytes) / total.bytes;
    expect(resent).toBeGreaterThanOrEqual(0);
    expect(resent).toBeLessThan(0.5);
    // The camera's side came through as well: a sound index, its storage (manifests and receipts) verifies, and
    // it records again.
    expect(indexIntegrity(camera)).toBe('ok');
    const verified = verifyStorage(camera, undefined, dockLayout(dock.dir).identity.pub);
    expect(verified.code, verified.output).toBe(0);
    setDock(camera, 'off');
    await recordIncident(daemon, 3);
    expect(segments(camera).filter((s) => !s.offloaded).length).toBeGreaterThan(0);
  }, 240_000);

  it('a forged receipt deletes nothing; a segment failing verification is refused, reported and kept', async () => {
    const dock = await makeDock(['--external']);
    const layout = dockLayout(dock.dir);
    const broker = new MosquittoBroker({
      runner: new NodeProcessRunner(),
      clock: realClock,
      mosquittoPath: findMosquitto(),
      confFile: layout.broker.conf,
      bind: '127.0.0.1',
      port: dock.port,
    });
    brokers.push(broker);
    await broker.start();
    const camera = makeSimCamera(small('cam-guard'));
    enrollCamera(dock.dir, camera.configFile);
    const daemon = new Daemon(camera);
    daemons.push(daemon);
    await recordIncident(daemon, 14);
    const [first, second] = segments(camera);
    if (first === undefined || second === undefined) throw new Error('two segments expected');
    // The second segment is damaged on the camera (after it was signed).
    const bytes = readFileSync(second.path);
    bytes.writeUInt8(bytes.readUInt8(1000) ^ 0xff, 1000);
    writeFileSync(second.path, bytes);

    // Docked with no dock agent yet: a client that can publish on the camera's topics (here the broker's dock
    // identity, as a stolen certificate would) sends a receipt not signed by the dock's key.
    setDock(camera, 'on');
    await daemon.waitFor((s) => s.sync?.connected === true, 15_000, 'connected');
    const forger = await connectMqtt(dock.port, agentTls(dock.dir));
    clients.push(forger);
    const other = generateDeviceKeys();
    const forged = signReceipt(
      {
        kind: 'segment',
        device: 'cam-guard',
        incident: path.basename(path.dirname(first.path)),
        seq: first.seq,
        file: path.basename(first.path),
        sha256: first.sha256 ?? '',
        bytes: first.bytes,
        manifest: 'f'.repeat(64),
        storedAt: new Date().toISOString(),
      },
      loadPrivateKey(other.privatePem),
      keyId(loadPublicKey(other.publicPem)),
    );
    await forger.publishAsync(downTopic('cam-guard', 'ack'), JSON.stringify(forged), { qos: 1 });
    await daemon.waitForEvent('offload_refused', 10_000);
    expect(existsSync(first.path)).toBe(true);
    expect(segments(camera).every((s) => !s.offloaded)).toBe(true);
    expect(daemon.log).toContain('a receipt was refused: nothing deleted');

    // Now the dock agent: the good segment moves, the damaged one is refused and stays.
    const station = new DockStation(dock.dir, silentLogger());
    stations.push(station);
    await station.start();
    await until(
      () => segments(camera).find((s) => s.seq === first.seq)?.offloaded === true,
      'the good segment offloaded',
      60_000,
    );
    await until(
      () => (JSON.parse(cli(['dock', 'status', '--dir', dock.dir, '--json']).stdout).devices[0]?.refused ?? 0) > 0,
      'the refusal recorded at the dock',
      30_000,
    );
    const status = JSON.parse(cli(['dock', 'status', '--dir', dock.dir, '--json']).stdout);
    expect(status.devices[0].refusals).toEqual([
      {
        incident: path.basename(path.dirname(second.path)),
        seq: second.seq,
        reason: expect.stringContaining('hash-mismatch'),
      },
    ]);
    expect(existsSync(second.path)).toBe(true);
    expect(segments(camera).find((s) => s.seq === second.seq)?.offloaded).toBe(false);
    const events = await daemon.events();
    expect(events.some((e) => e.kind === 'offload_refused' && String(e.data['reason']).includes('hash-mismatch'))).toBe(
      true,
    );
  }, 180_000);
});
