/**
 * Inside the lab VM. The host prepared the camera (keygen, `init --board sim`, the lab's devices in its config)
 * under $LAB_OUT/cam; it is copied to the guest's tmpfs (SQLite's WAL does not work over 9p), run there with
 * `bodycam run`, and copied back at the end for the host to check. Emulation makes every Node start cost seconds,
 * so the scenario talks to the daemon over its control socket with the client the CLI uses, in this one process.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { controlRequest } from '../../../src/camera/control/client.ts';
import type { CameraStatus } from '../../../src/camera/status.ts';
import type { DeviceEvent } from '../../harness/daemon.ts';

export const OUT = process.env['LAB_OUT'] ?? '/tmp/lab-out';
const REPO = path.resolve(import.meta.dirname, '../../..');
const HOST_CAM = path.join(OUT, 'cam');
const CAM = '/tmp/lab-cam';

/** Progress on the lab's output, so a slow or stuck run shows where it was. */
export function step(what: string): void {
  console.log(`[guest ${(process.uptime()).toFixed(1)} s] ${what}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `promise`, or 'timed out' after `ms`. The timer is cleared once the promise settles: a pending timer keeps the
 * guest's Node alive, and the VM running, until it fires (a bare `sleep` in a race held every lab VM up to 5 minutes).
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A user to run the daemon as (numeric ids; the supplementary groups by id). */
export interface DaemonUser {
  uid: number;
  gid: number;
  groups: Record<string, number>;
}

/**
 * The daemon, started through the CLI (`bodycam run`) on the camera copied to the guest's tmpfs; as root, or as
 * `user` (the camera's files handed to it, the daemon started through setpriv with its groups, as systemd would).
 */
/** How long the daemon gets to end after SIGTERM (under full emulation, closing its parts takes seconds). */
const STOP_MS = 180_000;

export class LabDaemon {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly socket = path.join(CAM, 'storage', 'bodycam.sock');
  log = '';

  constructor(user?: DaemonUser) {
    cpSync(HOST_CAM, CAM, { recursive: true });
    if (user !== undefined) execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, CAM]);
    // The first ffmpeg start reads its hundred libraries over 9p, which under emulation can outlast the daemon's
    // 10 s check of ffmpeg: read them once before.
    spawnSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
    step('ffmpeg warmed up');
    // The arm64 system runs the application as the device has it (LAB_BODYCAM), on the Node running this script.
    const cli = process.env['LAB_BODYCAM'] ?? path.join(REPO, 'dist/cli/bodycam.js');
    const run = [process.execPath, cli, 'run', '--config', `${CAM}/config.json`];
    const as =
      user === undefined
        ? []
        : [
            'setpriv',
            `--reuid=${user.uid}`,
            `--regid=${user.gid}`,
            `--groups=${Object.values(user.groups).join(',')}`,
            '--inh-caps=-all',
            '--',
          ];
    const [command = '', ...args] = [...as, ...run];
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const add = (d: Buffer) => {
      this.log += d.toString();
    };
    this.child.stdout?.on('data', add);
    this.child.stderr?.on('data', add);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  async status(): Promise<CameraStatus> {
    return (await controlRequest(this.socket, { cmd: 'status' }, 60_000)) as CameraStatus;
  }

  async events(): Promise<DeviceEvent[]> {
    return ((await controlRequest(this.socket, { cmd: 'events', limit: 1000 }, 60_000)) as { events: DeviceEvent[] })
      .events;
  }

  async press(input: string, count = 1, holdMs = 0): Promise<void> {
    await controlRequest(this.socket, { cmd: 'press', input, count, holdMs }, holdMs + count * 1000 + 60_000);
  }

  async waitFor(pred: (s: CameraStatus) => boolean, timeoutMs: number, what: string): Promise<CameraStatus> {
    const deadline = Date.now() + timeoutMs;
    let last: CameraStatus | null = null;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new Error(`daemon exited while waiting for ${what}:\n${this.log.slice(-3000)}`);
      last = await this.status().catch(() => null);
      if (last !== null && pred(last)) {
        step(what);
        return last;
      }
      await sleep(500);
    }
    throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last)}\n${this.log.slice(-3000)}`);
  }

  async waitForEvent(kind: string, timeoutMs: number): Promise<DeviceEvent> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = (await this.events().catch(() => [])).find((e) => e.kind === kind);
      if (found !== undefined) {
        step(`event ${kind}`);
        return found;
      }
      await sleep(500);
    }
    throw new Error(`timed out waiting for event ${kind}\n${this.log.slice(-3000)}`);
  }

  /** Ends the daemon and hands the camera's directory (footage, index) back to the host. */
  async finish(result: Record<string, unknown>): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    // Bounded: a daemon that does not end on SIGTERM fails the scenario now, with its log, not at the VM's timeout.
    const code = await within(this.exited, STOP_MS);
    if (code === 'timed out') {
      this.child.kill('SIGKILL');
      throw new Error(
        `the daemon did not end ${STOP_MS / 1000} s after SIGTERM; its log ends:\n${this.log.slice(-3000)}`,
      );
    }
    step(`daemon exited ${code}`);
    rmSync(HOST_CAM, { recursive: true, force: true });
    cpSync(CAM, HOST_CAM, { recursive: true, filter: (src) => !src.endsWith('.sock') });
    writeFileSync(path.join(OUT, 'daemon.log'), this.log);
    writeFileSync(path.join(OUT, 'result.json'), JSON.stringify({ devices: devices(), ...result }, null, 2));
  }
}

/**
 * Pre-roll, a press of `input` (a double press of record), recording for `recordMs` (or until `until` settles),
 * the stop hold.
 */
export async function recordIncident(
  daemon: LabDaemon,
  recordMs: number,
  input = 'record',
  until?: () => Promise<unknown>,
): Promise<void> {
  await daemon.waitFor((s) => s.ring.seconds >= 3, 240_000, 'the pre-roll');
  await daemon.press(input, input === 'record' ? 2 : 1);
  await daemon.waitFor((s) => s.state === 'recording', 60_000, 'recording');
  if (until !== undefined) await until();
  await sleep(recordMs);
  await daemon.press('record', 1, 3500);
  await daemon.waitFor((s) => s.state === 'buffering', 120_000, 'the stop');
}

/**
 * Feeds the loopback's playback side with a 440 Hz tone (-21 dBFS) at `channels` channels and 48 kHz, as a room
 * heard by a microphone whose hardware format is that; opened first, it fixes what the capture side must ask for.
 */
export function feedLoopback(channels: 1 | 2): ChildProcess {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi'];
  args.push('-i', 'sine=frequency=440:sample_rate=48000', '-ac', String(channels), '-f', 'alsa', 'hw:Loopback,0,0');
  return spawn('ffmpeg', args, { stdio: 'ignore' });
}

export async function stopFeed(feed: ChildProcess): Promise<void> {
  if (feed.exitCode !== null || feed.signalCode !== null) return;
  const gone = new Promise((r) => feed.once('exit', r));
  feed.kill('SIGTERM');
  await gone;
}

/** The devices the lab gave this run, for the host's report. */
export function devices(): Record<string, string> {
  if (!existsSync('/sys/class/video4linux/video0')) return {};
  const video = readFileSync('/sys/class/video4linux/video0/name', 'utf8').trim();
  const cards = readFileSync('/proc/asound/cards', 'utf8').trim();
  return { video0: video, sound: cards.split('\n')[0]?.replace(/\s+/g, ' ').trim() ?? '' };
}
