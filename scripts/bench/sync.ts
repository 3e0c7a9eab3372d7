/**
 * Dock sync throughput, as a ratio to the broker's bare publish/subscribe throughput for the same payloads in the
 * same run: a dock directory (`dock init`), a Mosquitto managed by the dock station, a camera enrolled at it whose
 * storage holds one incident of 6 sealed segments of 16 MB (about a minute of footage each; random bytes, indexed
 * and signed as the camera does), then (a) the camera's sync component, in a process of its own as on a real camera
 * (the daemon's Node flags and environment, src/lib/memory.ts; its RSS before, at the peak and after is reported),
 * offloads it to the dock agent (pull windows, per-chunk hashes, whole-segment verification, storage, signed
 * receipts, deletion) and (b) a publisher process sends the same bytes in the same 256 KiB QoS 1 messages to a
 * subscriber here through the same broker. Alternated, median of BENCH_RUNS (default 3) runs' ratios; exits 1 when
 * that is below its goal (goals.ts: ≥ 0.9), saying by how much. It also reports the CPU time each process spent per
 * 100 MB moved (user + system: the camera or the publisher, the broker, the dock or the subscriber): on a machine
 * whose cores those three share, the throughput follows the sum.
 *
 *   node scripts/bench/sync.ts            (SYNC_BENCH_TRACE=1: both sides' logs, to see where the time goes)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { connect } from 'mqtt';
import { generateIdentity } from '../../src/age/keys.ts';
import { createCameraBus } from '../../src/camera/events.ts';
import { createDeviceIdentity, loadDeviceIdentity } from '../../src/camera/identity.ts';
import { CameraStore } from '../../src/camera/storage/store.ts';
import { dockSync } from '../../src/camera/sync/wiring.ts';
import { dockEnrollCommand } from '../../src/cli/dock.ts';
import { buildInitialConfig } from '../../src/cli/init.ts';
import { loadConfig } from '../../src/config/load.ts';
import { brokersUsing } from '../../src/dock/broker.ts';
import { dockLayout } from '../../src/dock/layout.ts';
import { DockStation } from '../../src/dock/main.ts';
import { realClock } from '../../src/hal/clock/real.ts';
import { createLogger, silentLogger } from '../../src/lib/logger.ts';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../src/lib/memory.ts';

/** SYNC_BENCH_TRACE=1: the dock's and the camera's logs on stderr, and when each receipt came (where time goes). */
const TRACE = process.env['SYNC_BENCH_TRACE'] === '1';
const traceLog = () => (TRACE ? createLogger('info', process.stderr) : silentLogger());

import { CHUNK_BYTES, WINDOW_CHUNKS } from '../../src/protocol/limits.ts';
import { upTopic } from '../../src/protocol/topics.ts';
import { storeIncident } from '../../test/harness/stored-footage.ts';
import { cpuSecondsOf } from './compare/procstat.ts';
import { dockWithBroker, silently } from './dock-rig.ts';
import { GOALS, reportGoals } from './goals.ts';
import { machineLine } from './machine.ts';

const SEGMENTS = 6;
const SEGMENT_BYTES = 16 * 1024 * 1024;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const PORT = Number(process.env['SYNC_BENCH_PORT'] ?? 20_000 + Math.floor(Math.random() * 20_000));

const root = process.argv[2] === undefined ? mkdtempSync(path.join(os.tmpdir(), 'bodycam-syncbench-')) : '';
if (root !== '') chmodSync(root, 0o755);
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** A camera directory enrolled at the dock, its storage holding one incident of sealed, signed segments. */
async function camera(dockDir: string, run: number): Promise<{ configFile: string; bytes: number }> {
  const dir = path.join(root, `cam-${run}`);
  mkdirSync(dir, { recursive: true });
  const { recipient } = generateIdentity();
  const doc = buildInitialConfig({ dir, recipient: [recipient], board: 'sim', deviceId: `bench-${run}`, force: false });
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(doc));
  await createDeviceIdentity(loadConfig(configFile).evidence.keyFile);
  await silently(() => dockEnrollCommand({ dir: dockDir, deviceConfig: configFile }));
  const stored = await storeIncident(configFile, { segments: SEGMENTS, bytesEach: SEGMENT_BYTES });
  return { configFile, bytes: stored.segmentBytes.reduce((n, b) => n + b, 0) };
}

/** In the child: the camera's sync offloads everything, then reports how long it took. */
async function cameraChild(configFile: string): Promise<void> {
  const config = loadConfig(configFile);
  const store = CameraStore.open(config.storage.dir);
  const bus = createCameraBus();
  const identity = await loadDeviceIdentity(config.evidence.keyFile);
  if (config.dock === undefined) throw new Error('not enrolled');
  const sync = await dockSync(config.dock, {
    bus,
    store,
    storageDir: config.storage.dir,
    device: config.device.id,
    identity,
    auditHead: () => -1, // no audit trail in this bench: nothing of it to hand over
    clock: realClock,
    logger: traceLog(),
  });
  await sync.start();
  let done = 0;
  let t0 = 0;
  const finished = new Promise<number>((resolve) => {
    bus.on('offload.done', (e) => {
      if (TRACE)
        process.stderr.write(`receipt for a ${e.done} ${(performance.now() - t0).toFixed(0)} ms after docking\n`);
      if (e.done === 'segment' && ++done === SEGMENTS) resolve(performance.now());
    });
  });
  const before = process.memoryUsage.rss();
  const cpu0 = ownCpu();
  t0 = performance.now();
  if (TRACE) process.stderr.write(`docked at ${Date.now()} (wall ms)\n`);
  bus.emit('dock.changed', { docked: true });
  const t1 = await finished;
  // Its memory: resident before docking, at its peak, and once the footage is gone (Node's view, so heap and malloc).
  const mem: CameraMemory = { before, peak: process.resourceUsage().maxRSS * 1024, after: process.memoryUsage.rss() };
  process.send?.({ ms: t1 - t0, mem, cpu: ownCpu() - cpu0 });
  await sync.stop();
  store.close();
}

/** In the child: publishes `count` chunks as the camera's client, then reports. */
async function publisherChild(configFile: string, count: number): Promise<void> {
  const cam = loadConfig(configFile);
  const pub = connect(`mqtts://localhost:${process.env['SYNC_BENCH_PORT']}`, {
    protocolVersion: 5,
    ca: readFileSync(cam.dock?.ca ?? ''),
    cert: readFileSync(cam.dock?.cert ?? ''),
    key: readFileSync(cam.dock?.key ?? ''),
    rejectUnauthorized: true,
  });
  pub.on('error', (e) => process.stderr.write(`publisher: ${e.message}\n`));
  await new Promise((r) => pub.once('connect', r));
  const payload = randomBytes(CHUNK_BYTES);
  const topic = upTopic(cam.device.id, 'chunk');
  process.send?.({ ready: true });
  await new Promise((r) => process.once('message', r));
  const cpu0 = ownCpu();
  await Promise.all(Array.from({ length: count }, () => pub.publishAsync(topic, payload, { qos: 1 })));
  const cpu = ownCpu() - cpu0;
  await pub.endAsync();
  process.send?.({ sent: true, cpu });
}

/** A child process of this script, with a promise of its exit made before it can exit. */
function child(args: string[], daemon = false): ChildProcess & { gone: Promise<unknown> } {
  const c = fork(fileURLToPath(import.meta.url), args, {
    // The camera's side runs as the camera daemon does: its Node flags and environment (src/lib/memory.ts).
    ...(daemon ? { execArgv: [...process.execArgv, ...DAEMON_NODE_FLAGS] } : {}),
    env: { ...(daemon ? DAEMON_ENV : {}), ...process.env, SYNC_BENCH_PORT: String(PORT) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return Object.assign(c, { gone: new Promise((r) => c.once('exit', r)) });
}

interface CameraMemory {
  before: number;
  peak: number;
  after: number;
}

/** CPU seconds (user + system) one process spent in a run's measured part. */
interface RunCpu {
  sender: number;
  broker: number;
  receiver: number;
}

/** A process's CPU seconds so far, from /proc (NaN when there is no such process). */
const procCpu = (pid: number | undefined) => (pid === undefined ? Number.NaN : cpuSecondsOf(pid));

/** This process's CPU seconds so far. */
const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface SyncRun {
  ms: number;
  bytes: number;
  mem: CameraMemory;
  cpu: RunCpu;
}

async function syncRun(dockDir: string, run: number, brokerPid: number | undefined): Promise<SyncRun> {
  const { configFile, bytes } = await camera(dockDir, run);
  const c = child(['camera', configFile], true);
  // The dock's and the broker's CPU from the camera's start to its report (the camera's own start-up is not in it;
  // the dock is idle then).
  const [dock0, broker0] = [ownCpu(), procCpu(brokerPid)];
  type Report = { ms: number; mem: CameraMemory; cpu: number };
  const r = await new Promise<Report>((resolve) => c.once('message', (m) => resolve(m as Report)));
  const cpu = { sender: r.cpu, broker: procCpu(brokerPid) - broker0, receiver: ownCpu() - dock0 };
  await c.gone;
  return { ms: r.ms, bytes, mem: r.mem, cpu };
}

async function bareRun(
  dockDir: string,
  configFile: string,
  bytes: number,
  brokerPid: number | undefined,
): Promise<{ ms: number; cpu: RunCpu }> {
  const l = dockLayout(dockDir);
  const cam = loadConfig(configFile);
  const sub = connect(`mqtts://localhost:${PORT}`, {
    protocolVersion: 5,
    ca: readFileSync(l.pki.caCert),
    cert: readFileSync(l.pki.agentCert),
    key: readFileSync(l.pki.agentKey),
    rejectUnauthorized: true,
  });
  sub.on('error', (e) => process.stderr.write(`subscriber: ${e.message}\n`));
  await new Promise((r) => sub.once('connect', r));
  const topic = upTopic(cam.device.id, 'chunk');
  await sub.subscribeAsync(topic, { qos: 1 });
  const count = Math.ceil(bytes / CHUNK_BYTES);
  let got = 0;
  const all = new Promise<number>((resolve) =>
    sub.on('message', () => {
      if (++got === count) resolve(performance.now());
    }),
  );
  const c = child(['publish', configFile, String(count)]);
  await new Promise((r) => c.once('message', r));
  // Listened for before the start: the publisher may have its PUBACKs, and report, before the last message is here.
  const sent = new Promise<{ cpu: number }>((resolve) => c.once('message', (m) => resolve(m as { cpu: number })));
  const [sub0, broker0] = [ownCpu(), procCpu(brokerPid)];
  const t0 = performance.now();
  c.send({ go: true });
  const t1 = await all;
  const [receiver, broker] = [ownCpu() - sub0, procCpu(brokerPid) - broker0];
  const { cpu: sender } = await sent;
  await c.gone;
  await sub.endAsync();
  return { ms: t1 - t0, cpu: { sender, broker, receiver } };
}

/** CPU seconds per 100 MB moved, median over the runs, by process and in all. */
function cpuLine(cpus: RunCpu[], bytes: number): string {
  const per = (x: number) => (x * 100e6) / bytes;
  const m = (k: keyof RunCpu) => per(median(cpus.map((c) => c[k])));
  const total = per(median(cpus.map((c) => c.sender + c.broker + c.receiver)));
  // Each a median of the runs, so the three need not add up to the median of their sums.
  return `${m('sender').toFixed(2)} + ${m('broker').toFixed(2)} + ${m('receiver').toFixed(2)} s, in all ${total.toFixed(2)} s`;
}

async function main(): Promise<void> {
  // One broker for both measures. The bare subscriber holds the agent's certificate, and the broker names clients
  // by certificate, so the dock agent runs only during the sync runs.
  const { dockDir, broker } = await dockWithBroker(root, PORT);
  // The mosquitto itself (the broker's own pid is the shell that ties it to this process).
  const [brokerPid] = await brokersUsing(dockLayout(dockDir).broker.conf);
  const sync: number[] = [];
  const bare: number[] = [];
  const mems: CameraMemory[] = [];
  const syncCpu: RunCpu[] = [];
  const bareCpu: RunCpu[] = [];
  let bytes = 0;
  try {
    for (let run = 0; run < RUNS; run++) {
      const station = new DockStation(dockDir, traceLog());
      await station.start();
      const s = await syncRun(dockDir, run, brokerPid).finally(() => station.stop());
      bytes = s.bytes;
      mems.push(s.mem);
      syncCpu.push(s.cpu);
      sync.push(bytes / 1e6 / (s.ms / 1000));
      const b = await bareRun(dockDir, path.join(root, `cam-${run}`, 'config.json'), bytes, brokerPid);
      bareCpu.push(b.cpu);
      bare.push(bytes / 1e6 / (b.ms / 1000));
    }
  } finally {
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const s = median(sync);
  const b = median(bare);
  // Each run's sync against the bare run right after it, on the same machine in the same state: the median of those
  // ratios is the figure (the machine is shared; a ratio of the two medians could pair a quiet run with a busy one).
  const ratios = sync.map((x, i) => x / (bare[i] ?? Number.NaN));
  const ratio = median(ratios);
  process.stdout.write(
    `sync: ${SEGMENTS} segments, ${(bytes / 1e6).toFixed(1)} MB, 256 KiB chunks, window ${WINDOW_CHUNKS}; median of ${RUNS}\n` +
      `dock sync (pull, verify, store, receipt, delete): ${s.toFixed(1)} MB/s\n` +
      `bare MQTT publish → subscribe, same payloads:      ${b.toFixed(1)} MB/s\n` +
      `ratio sync / bare, median of the runs' ratios: ${ratio.toFixed(2)} (runs: ${ratios.map((r) => r.toFixed(2)).join(', ')})\n` +
      `CPU per 100 MB, camera + broker + dock:            ${cpuLine(syncCpu, bytes)}\n` +
      `CPU per 100 MB, publisher + broker + subscriber:  ${cpuLine(bareCpu, bytes)}\n` +
      `camera's sync process RSS, median: before docking ${mb(median(mems.map((m) => m.before)))}, peak ${mb(median(mems.map((m) => m.peak)))}, after ${mb(median(mems.map((m) => m.after)))}\n`,
  );
  process.stdout.write(machineLine('sync'));
  reportGoals('sync', [
    {
      what: 'dock sync throughput / bare MQTT publish → subscribe of the same payloads',
      actual: ratio,
      atLeast: GOALS.syncVsBare,
      unit: '×',
      digits: 2,
      enforced: true,
    },
  ]);
}

const [mode, arg, count] = process.argv.slice(2);
if (mode === 'camera' || mode === 'publish') {
  await (mode === 'camera' ? cameraChild(arg ?? '') : publisherChild(arg ?? '', Number(count)));
  process.disconnect?.();
  process.exit(0);
} else {
  await main();
}
