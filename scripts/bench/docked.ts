/**
 * The daemon's memory through a shift's end: the real daemon on `init --board sim` defaults (1280x720@30, 30 s
 * pre-roll, real time, its Node flags and environment), enrolled at a dock whose station and Mosquitto run here,
 * its storage holding DOCKED_INCIDENTS (default 3) incidents of 6 sealed segments of 16 MB (a minute of footage
 * each). It buffers, records one incident of its own, buffers again, is docked until the dock holds everything
 * (`status.sync.undock.safe`), and is undocked. Each phase's peak RSS (the kernel's high-water mark, reset at the
 * phase's start: no peak is missed between samples) and median are checked against the one budget the daemon has,
 * 80 MB + 1.3 × pre-roll (goals.ts), "at all times": docked included.
 *
 *   npm run bench:docked
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { controlRequest } from '../../src/camera/control/client.ts';
import type { CameraStatus } from '../../src/camera/status.ts';
import { dockEnrollCommand } from '../../src/cli/dock.ts';
import { controlSocketPath, loadConfig } from '../../src/config/load.ts';
import { DockStation } from '../../src/dock/main.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../src/lib/memory.ts';
import { cli as runCli } from '../../test/harness/daemon.ts';
import { storeIncident } from '../../test/harness/stored-footage.ts';
import { dockWithBroker, silently } from './dock-rig.ts';
import { GOALS, reportGoals } from './goals.ts';
import { machineLine } from './machine.ts';
import { peakRssOf, residentOf } from './proc.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'dist/cli/bodycam.js');
const INCIDENTS = Number(process.env['DOCKED_INCIDENTS'] ?? 3);
const SEGMENTS = 6;
const SEGMENT_BYTES = 16 * 1024 * 1024;
const PORT = 20_000 + Math.floor(Math.random() * 20_000);
/** DOCKED_SMAPS=1: each phase's end also prints the daemon's largest mappings by RSS (where the memory is). */
const SMAPS = process.env['DOCKED_SMAPS'] === '1';
/**
 * DOCKED_HEAP_SNAPSHOTS=DIR: each phase's end also writes a V8 heap snapshot of the daemon into DIR (the daemon runs
 * with --heapsnapshot-signal; a snapshot collects first, so it shows what is live). Diagnosis only: a snapshot
 * stalls the daemon for seconds and costs memory, so the figures of such a run are not the record.
 */
const SNAPSHOTS = process.env['DOCKED_HEAP_SNAPSHOTS'] ?? '';
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A `bodycam` command's output (test/harness/daemon.ts runs it); its error when it fails. */
function cli(args: string[]): string {
  const r = runCli(args);
  if (r.code !== 0) throw new Error(`bodycam ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** The daemon's eight largest mappings by resident size, one line each (from /proc/PID/smaps). */
function largestMappings(pid: number): string {
  const maps: Array<{ name: string; size: number; rss: number }> = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null)
      maps.push({
        name: head[3] || '(anonymous)',
        size: parseInt(head[2] ?? '0', 16) - parseInt(head[1] ?? '0', 16),
        rss: 0,
      });
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    const last = maps.at(-1);
    if (rss !== null && last !== undefined) last.rss = Number(rss[1]) * 1024;
  }
  return maps
    .sort((a, b) => b.rss - a.rss)
    .slice(0, 8)
    .map((m) => `  ${mb(m.rss).padStart(9)} of ${mb(m.size).padStart(9)}  ${m.name}\n`)
    .join('');
}

interface Phase {
  name: string;
  peak: number;
  median: number;
  file: number;
  seconds: number;
  /** The daemon's own view at the phase's end: V8's heap in use and the memory outside it (Buffers among it). */
  heapUsed: number;
  external: number;
}

/** Samples the daemon's RSS every 100 ms from now until `done` resolves; its peak is the kernel's high-water mark. */
async function phase(
  name: string,
  pid: number,
  status: () => Promise<CameraStatus>,
  done: Promise<unknown>,
): Promise<Phase> {
  // Writing 5 to clear_refs resets VmHWM to the current RSS (proc(5)): the peak read at the end is this phase's.
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const t0 = Date.now();
  const rss: number[] = [];
  let file = 0;
  let finished = false;
  // Settled either way; a rejection is thrown by the `await done` below, not left unhandled here.
  const settled = () => {
    finished = true;
  };
  done.then(settled, settled);
  while (!finished) {
    const r = residentOf(pid);
    rss.push(r.rss);
    file = Math.max(file, r.file);
    await sleep(100);
  }
  await done;
  const { heapUsed, external } = (await status()).memory;
  if (SMAPS) process.stderr.write(`${name}: largest mappings by RSS\n${largestMappings(pid)}`);
  if (SNAPSHOTS !== '') await heapSnapshot(pid, name);
  const sorted = [...rss].sort((a, b) => a - b);
  return {
    name,
    peak: Math.max(peakRssOf(pid), ...rss),
    median: sorted[Math.floor(sorted.length / 2)] ?? 0,
    file,
    seconds: (Date.now() - t0) / 1000,
    heapUsed,
    external,
  };
}

/** Signals the daemon for a heap snapshot and waits until it is written (its size stops changing). */
async function heapSnapshot(pid: number, name: string): Promise<void> {
  const before = new Set(readdirSync(SNAPSHOTS));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  let last = -1;
  while (Date.now() < deadline) {
    await sleep(1000);
    const file = readdirSync(SNAPSHOTS).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (file === undefined) continue;
    const size = statSync(path.join(SNAPSHOTS, file)).size;
    if (size > 0 && size === last) {
      process.stderr.write(`${name}: heap snapshot ${path.join(SNAPSHOTS, file)}\n`);
      return;
    }
    last = size;
  }
  throw new Error(`no heap snapshot from the daemon within 120 s (${name})`);
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'bodycam-docked-'));
  chmodSync(root, 0o755); // Mosquitto reads the dock's key as its own user
  const { dockDir, broker } = await dockWithBroker(root, PORT);
  const station = new DockStation(dockDir, silentLogger());
  await station.start();
  let daemon: ChildProcess | undefined;
  try {
    const recipient = cli(['keygen', '--out', path.join(root, 'custodian.key')]);
    const configFile = cli(['init', '--board', 'sim', '--dir', path.join(root, 'cam'), '--recipient', recipient]);
    await silently(() => dockEnrollCommand({ dir: dockDir, deviceConfig: configFile }));
    for (let i = 0; i < INCIDENTS; i++)
      await storeIncident(configFile, { segments: SEGMENTS, bytesEach: SEGMENT_BYTES });
    const config = loadConfig(configFile);
    const socket = controlSocketPath(config);
    const ctl = (request: Parameters<typeof controlRequest>[1], ms = 30_000) => controlRequest(socket, request, ms);
    const status = async () => (await ctl({ cmd: 'status' })) as CameraStatus;
    const until = async (pred: (s: CameraStatus) => boolean, what: string, ms: number) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const s = await status().catch(() => undefined);
        if (daemon?.exitCode !== null) throw new Error(`the daemon exited (${daemon?.exitCode}) waiting for ${what}`);
        if (s !== undefined && pred(s)) return s;
        await sleep(250);
      }
      throw new Error(`timed out waiting for ${what}`);
    };

    // Launched as scripts/bodycam and the systemd unit launch it.
    const diagnosis = SNAPSHOTS === '' ? [] : ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${SNAPSHOTS}`];
    daemon = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...diagnosis, CLI, 'run', '--config', configFile], {
      stdio: 'ignore',
      env: { ...DAEMON_ENV, ...process.env },
    });
    const pid = daemon.pid ?? 0;
    const preMs = (config.preRecord.seconds + 5) * 1000;
    await until((s) => s.state === 'buffering' && s.capture.mediaMs >= preMs, 'a full pre-roll', 120_000 + preMs);
    const ring = (await status()).ring;
    const phases: Phase[] = [];
    phases.push(await phase('buffering', pid, status, sleep(20_000)));
    const presses = config.controls.startPattern === 'double' ? 2 : 1;
    const hold = config.controls.stopHoldMs + 500;
    const record = async () => {
      await ctl({ cmd: 'press', input: config.controls.recordInput, count: presses, holdMs: 0 });
      await until((s) => s.state === 'recording', 'the recording', 30_000);
      await sleep(30_000);
      await ctl({ cmd: 'press', input: config.controls.recordInput, count: 1, holdMs: hold }, hold + 30_000);
      await until((s) => s.state === 'buffering', 'the recording to stop', 60_000);
    };
    phases.push(await phase('recording 30 s', pid, status, record()));
    phases.push(await phase('buffering after', pid, status, sleep(20_000)));
    await ctl({ cmd: 'set', input: 'dock', level: true });
    phases.push(
      await phase(
        'docked until safe',
        pid,
        status,
        until((s) => s.sync?.undock.safe === true, 'the hand-over', 600_000),
      ),
    );
    const offloaded = (await status()).sync?.offloaded ?? 0;
    await ctl({ cmd: 'set', input: 'dock', level: false });
    phases.push(await phase('undocked', pid, status, sleep(20_000)));

    const budget = GOALS.memoryBaseBytes + GOALS.memoryPerPrerollByte * ring.bytes;
    process.stdout.write(
      `docked: ${INCIDENTS} stored incidents of ${SEGMENTS} × ${mb(SEGMENT_BYTES)} and one recorded here; ` +
        `${offloaded} segments offloaded; ring ${ring.seconds.toFixed(1)} s, ${mb(ring.bytes)}; ` +
        `budget 80 MB + 1.3 × ring = ${mb(budget)}\n` +
        phases
          .map(
            (p) =>
              `  ${p.name.padEnd(18)} ${p.seconds.toFixed(0).padStart(4)} s  RSS median ${mb(p.median)}, peak ${mb(p.peak)}` +
              ` (${(p.peak / budget).toFixed(2)} of the budget; file-backed ${mb(p.file)}); at its end V8 heap ${mb(p.heapUsed)},` +
              ` external ${mb(p.external)}\n`,
          )
          .join(''),
    );
    const docked = phases.find((p) => p.name.startsWith('docked'));
    const others = phases.filter((p) => p !== docked);
    process.stdout.write(machineLine('docked'));
    reportGoals('docked', [
      {
        what: `daemon peak RSS away from the dock: buffering, recording, after each (budget ${mb(budget)})`,
        actual: Math.max(...others.map((p) => p.peak)) / 1e6,
        atMost: budget / 1e6,
        unit: ' MB',
        digits: 1,
        enforced: true,
      },
      {
        what: `daemon peak RSS docked, handing over ${INCIDENTS * SEGMENTS + 1}+ segments (budget ${mb(budget)})`,
        actual: docked === undefined || offloaded < INCIDENTS * SEGMENTS ? null : docked.peak / 1e6,
        atMost: budget / 1e6,
        unit: ' MB',
        digits: 1,
        enforced: true,
      },
    ]);
  } finally {
    if (daemon !== undefined && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon?.once('exit', r));
    }
    await station.stop();
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
