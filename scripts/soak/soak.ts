/**
 * The soak engine: runs the real daemon (compiled, with its production Node flags) through many activations and
 * samples what must stay flat. Activations and samples are scheduled in media time, read from the daemon's status,
 * so the same run means the same footage at any speed factor.
 *
 * By default it makes a sim camera in a temp directory (`init --board sim`, a small synthetic picture at `speed` ×
 * real time). With `config` it runs an existing camera's config as it is (speed, source and GPIO from that file);
 * activations need `gpio.driver: "sim"` there, since they are pressed through the control socket.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { controlRequest } from '../../src/camera/control/client.ts';
import type { CameraStatus } from '../../src/camera/status.ts';
import { controlSocketPath, loadConfig } from '../../src/config/load.ts';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../src/lib/memory.ts';
import { childPids, residentOf, rssOf } from '../bench/proc.ts';
import type { Sample } from './verdict.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'dist/cli/bodycam.js');

export interface SoakOptions {
  /** Media hours to run. */
  hours: number;
  /** Speed factor of the sim camera's synthetic source (ignored with `config`). */
  speed: number;
  /** Media minutes from one activation to the next (0: never activate, only sample). */
  everyMin: number;
  /** Media seconds each activation records. */
  recordS: number;
  /** Media minutes between samples while no activation is due (samples are also taken before each activation). */
  sampleMin: number;
  /** An existing camera config to run instead of a fresh sim camera. */
  config?: string;
  /** Samples are appended here as CSV as they are taken. */
  csv?: string;
  /** The daemon's log (JSON lines) is appended here. */
  daemonLog?: string;
  /** Progress lines. */
  log: (line: string) => void;
}

export interface SoakRun {
  samples: Sample[];
  /** Problems the camera itself reported (gaps, write failures, internal errors, activations that did not start). */
  faults: string[];
  activations: number;
  wallS: number;
  configFile: string;
}

export const CSV_HEADER =
  'wall_s,media_s,rss_bytes,heap_used_bytes,external_bytes,ffmpeg_rss_bytes,fds,index_file_bytes,index_bytes,segments,incidents,events,evidence_bytes,rss_file_bytes';

export function csvLine(s: Sample): string {
  return [
    s.wallS.toFixed(1),
    s.mediaS.toFixed(1),
    s.rss,
    s.heapUsed,
    s.external,
    s.ffmpegRss,
    s.fds,
    s.indexFileBytes,
    s.indexBytes,
    s.segments,
    s.incidents,
    s.events,
    s.evidenceBytes,
    s.rssFile,
  ].join(',');
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

function fileSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

interface IndexFigures {
  indexBytes: number;
  segments: number;
  incidents: number;
  events: number;
  evidenceBytes: number;
}

/** Read-only look at the index (WAL readers never block the daemon's writer). */
function indexFigures(file: string): IndexFigures {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    const size = db.pragma('page_size', { simple: true }) as number;
    const one = (sql: string) => Number((db.prepare(sql).pluck().get() as number | null) ?? 0);
    return {
      indexBytes: (pages - free) * size,
      segments: one('SELECT count(*) FROM segments'),
      incidents: one('SELECT count(*) FROM incidents'),
      events: one('SELECT count(*) FROM events'),
      evidenceBytes: one('SELECT sum(bytes) FROM segments'),
    };
  } finally {
    db.close();
  }
}

function cliSync(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`bodycam ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** keygen + init --board sim, then a small, fast picture: the soak is about the daemon, not the encoder. */
export function makeSoakCamera(speed: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-soak-'));
  const recipient = cliSync(['keygen', '--out', path.join(dir, 'custodian.key')]);
  const configFile = cliSync(['init', '--board', 'sim', '--dir', path.join(dir, 'cam'), '--recipient', recipient]);
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, Record<string, unknown>>;
  config['capture'] = {
    ...config['capture'],
    source: { kind: 'synthetic', width: 320, height: 240, fps: 15, speed, videoBitrateKbps: 300 },
  };
  config['controls'] = { ...config['controls'], stopHoldMs: 1000 };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return configFile;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSoak(o: SoakOptions): Promise<SoakRun> {
  const configFile = o.config ?? makeSoakCamera(o.speed);
  const config = loadConfig(configFile);
  const socket = controlSocketPath(config);
  const indexFile = path.join(config.storage.dir, 'index.sqlite');
  const stopHoldMs = config.controls.stopHoldMs + 500;
  const recordInput = config.controls.recordInput;
  const startPresses = config.controls.startPattern === 'double' ? 2 : 1;
  const startHoldMs = config.controls.startPattern === 'hold' ? stopHoldMs : 0;

  // The daemon's JSON log goes to `daemonLog` when given (to find out why a soak failed), else nowhere.
  const logFd = o.daemonLog === undefined ? 'ignore' : openSync(o.daemonLog, 'a');
  const daemon: ChildProcess = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'run', '--config', configFile], {
    stdio: ['ignore', logFd, 'pipe'],
    env: { ...DAEMON_ENV, ...process.env },
  });
  if (typeof logFd === 'number') closeSync(logFd);
  let stderrTail = '';
  daemon.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-4000);
  });
  const pid = daemon.pid ?? 0;
  const t0 = Date.now();
  const wallS = () => (Date.now() - t0) / 1000;
  const samples: Sample[] = [];
  const faults: string[] = [];
  if (o.csv !== undefined) writeFileSync(o.csv, `${CSV_HEADER}\n`);

  const status = async (): Promise<CameraStatus> => {
    if (daemon.exitCode !== null) throw new Error(`the daemon exited (${daemon.exitCode}):\n${stderrTail}`);
    return (await controlRequest(socket, { cmd: 'status' }, 30_000)) as CameraStatus;
  };
  const waitFor = async (pred: (s: CameraStatus) => boolean, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    let last: CameraStatus | undefined;
    while (Date.now() < deadline) {
      try {
        last = await status();
        if (pred(last)) return last;
      } catch (e) {
        if (daemon.exitCode !== null) throw e;
      }
      await sleep(200);
    }
    throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last)}`);
  };
  const press = (count: number, holdMs: number) =>
    controlRequest(socket, { cmd: 'press', input: recordInput, count, holdMs }, holdMs + 30_000);

  const sample = async (): Promise<Sample> => {
    const s = await status();
    const ffmpeg = childPids(pid).reduce((sum, c) => sum + rssOf(c), 0);
    const resident = residentOf(pid);
    const s1: Sample = {
      wallS: wallS(),
      mediaS: s.capture.mediaMs / 1000,
      rss: resident.rss,
      rssFile: resident.file,
      heapUsed: s.memory.heapUsed,
      external: s.memory.external,
      ffmpegRss: ffmpeg,
      fds: fdCount(pid),
      indexFileBytes: fileSize(indexFile) + fileSize(`${indexFile}-wal`),
      ...indexFigures(indexFile),
    };
    samples.push(s1);
    if (o.csv !== undefined) appendFileSync(o.csv, `${csvLine(s1)}\n`);
    o.log(
      `  media ${(s1.mediaS / 3600).toFixed(2)} h  wall ${s1.wallS.toFixed(0)} s  rss ${(s1.rss / 1e6).toFixed(1)} MB` +
        ` (file-backed ${(s1.rssFile / 1e6).toFixed(1)})` +
        `  heap+ext ${((s1.heapUsed + s1.external) / 1e6).toFixed(1)} MB` +
        `  ffmpeg ${(s1.ffmpegRss / 1e6).toFixed(1)} MB  fds ${s1.fds}  index ${(s1.indexBytes / 1024).toFixed(0)} KiB` +
        `  segments ${s1.segments}  incidents ${s1.incidents}`,
    );
    return s1;
  };

  let activations = 0;
  try {
    // Start once the pre-roll is full, so the first sample sees the steady buffering state.
    const preMs = config.preRecord.seconds * 1000 + 5000;
    await waitFor((s) => s.capture.mediaMs >= preMs && s.state === 'buffering', 120_000 + preMs, 'a full pre-roll');
    const endMs = o.hours * 3600_000;
    const everyMs = o.everyMin * 60_000;
    const sampleMs = o.sampleMin * 60_000;
    let nextActivation = everyMs > 0 ? (await status()).capture.mediaMs : Number.POSITIVE_INFINITY;
    let nextSample = 0;
    for (;;) {
      const s = await status();
      const now = s.capture.mediaMs;
      if (now >= endMs) break;
      if (now >= nextActivation) {
        await sample();
        nextSample = now + sampleMs;
        activations += 1;
        await press(startPresses, startHoldMs);
        const rec = await waitFor((x) => x.state === 'recording', 30_000, `activation ${activations}`).catch(
          (e: Error) => {
            faults.push(`activation ${activations} did not start: ${e.message}`);
            return undefined;
          },
        );
        if (rec !== undefined) {
          const stopAt = rec.capture.mediaMs + o.recordS * 1000;
          await waitFor((x) => x.capture.mediaMs >= stopAt, o.recordS * 1000 + 60_000, 'the recording time');
          await press(1, stopHoldMs);
          await waitFor((x) => x.state === 'buffering', 60_000, `activation ${activations} to stop`);
        }
        nextActivation += everyMs;
        continue;
      }
      if (now >= nextSample) {
        await sample();
        nextSample = now + sampleMs;
      }
      await sleep(250);
    }
    await sample();
    const last = await status();
    if (last.capture.gaps > 0) faults.push(`capture reported ${last.capture.gaps} gap(s)`);
    if (last.writeFailures > 0) faults.push(`${last.writeFailures} write failure(s)`);
    if (last.internalErrors > 0) faults.push(`${last.internalErrors} internal error(s) in listeners`);
  } finally {
    if (daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
    }
  }
  if (daemon.exitCode !== 0 && daemon.exitCode !== null) faults.push(`the daemon exited with ${daemon.exitCode}`);
  return { samples, faults, activations, wallS: wallS(), configFile };
}
