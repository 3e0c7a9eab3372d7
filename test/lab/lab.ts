/**
 * Host side of the lab tests: runs a guest scenario (test/lab/guest/) in the lab VM, reads what it left in the
 * output directory, and checks the footage as a custodian would (age, ffprobe, ffmpeg). Where the lab cannot start,
 * every lab test is skipped with a title that names what is missing, and the reason is printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { type LabRun, labMissing, runInLab } from '../../scripts/lab/vm.ts';
import { cli, type DeviceEvent, type ListedIncident, type Status } from '../harness/daemon.ts';
import { ageDecrypt, decodeErrors, type Packet, probeAudio, probeVideo } from '../harness/media-check.ts';
import { which } from '../harness/tools.ts';

function missing(): string | null {
  const tools = ['age', 'ffprobe', 'ffmpeg', 'sox'].filter((t) => which(t) === null);
  if (tools.length > 0) return `${tools.join(', ')} not on PATH`;
  return labMissing();
}

export const skipReason = missing();
if (skipReason !== null) console.warn(`device lab: skipped: ${skipReason}`);

/** `it` when the lab can start here; otherwise a skip whose title says what is missing. */
export const itLab: typeof it =
  skipReason === null
    ? it
    : (((name: string, fn?: unknown, timeout?: number) =>
        it.skip(`${name} (skipped: ${skipReason})`, fn as () => void, timeout)) as unknown as typeof it);

export interface GuestResult {
  devices: Record<string, string>;
  /** Absent in scenarios that run no daemon (doctor). */
  status: Status;
  events: DeviceEvent[];
  [key: string]: unknown;
}

export interface Scenario {
  run: LabRun;
  result: GuestResult;
  /** The incidents the camera recorded, as `bodycam list` prints them (run here on the copied-out camera). */
  incidents: ListedIncident[];
  /** The custodian's key (made here: it never entered the VM). */
  identity: string;
  daemonLog: string;
}

export interface LabCamera {
  /** Channels asked of the microphone at `hw:` level (must match what the loopback is fed). */
  channels: 1 | 2;
  /** The speaker's ALSA device (default: the loopback's playback side, which the microphone hears). */
  speaker?: string;
  /** The board profile `init` starts from (default sim); its GPIO lines and driver are kept. */
  board?: string;
  /** Capture sound (default true). */
  audio?: boolean;
}

export const MICROPHONE = 'hw:Loopback,1,0';

/**
 * keygen and `init --board sim` on the host, then the lab's devices in the config: vivid at a small size and rate
 * (emulation is slow), the loopback's capture side as the microphone, an ALSA speaker, a short pre-roll with sound.
 */
export function prepare(o: LabCamera, outDir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-lab-'))): PreparedCamera {
  const identity = path.join(outDir, 'custodian.key');
  const keygen = cli(['keygen', '--out', identity]);
  if (keygen.code !== 0) throw new Error(`keygen failed: ${keygen.stderr}`);
  const camDir = path.join(outDir, 'cam');
  const init = cli(['init', '--board', o.board ?? 'sim', '--dir', camDir, '--recipient', keygen.stdout.trim()]);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  const configFile = path.join(camDir, 'config.json');
  const c = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, Record<string, unknown>>;
  c['capture'] = {
    ...c['capture'],
    // ffmpeg takes tens of seconds to start under emulation on a busy machine: not a stall.
    stallMs: 60_000,
    source: {
      kind: 'v4l2',
      device: '/dev/video0',
      encoder: 'libx264',
      width: 320,
      height: 240,
      fps: 10,
      videoBitrateKbps: 200,
      audio: o.audio ?? true,
      alsaDevice: MICROPHONE,
      audioChannels: o.channels,
      audioRate: 48_000,
    },
  };
  c['preRecord'] = { ...c['preRecord'], seconds: 3, audio: o.audio ?? true };
  // A real board's profile puts storage under /var/lib/bodycam: the lab keeps it beside the config.
  c['storage'] = { ...c['storage'], dir: 'storage' };
  c['recording'] = { ...c['recording'], segmentSeconds: 10 };
  c['audio'] = { ...c['audio'], driver: 'alsa', device: o.speaker ?? 'plughw:Loopback,0,0' };
  writeFileSync(configFile, JSON.stringify(c, null, 2));
  return { outDir, identity, configFile };
}

export interface PreparedCamera {
  /** The directory that becomes the guest's $LAB_OUT; the camera is its `cam/`. */
  outDir: string;
  identity: string;
  configFile: string;
}

/**
 * Prepares a camera, boots the lab and runs `node test/lab/guest/<name>.ts ...args`; fails with the guest's output
 * when the scenario fails. The camera's directory comes back under the output directory.
 */
export async function scenario(
  name: string,
  camera: LabCamera,
  args: string[] = [],
  { list = true } = {},
): Promise<Scenario> {
  const { outDir, identity } = prepare(camera);
  const run = await runInLab({
    command: `node test/lab/guest/${name}.ts ${args.join(' ')}`,
    outDir,
    timeoutMs: 480_000,
  });
  if (run.code !== 0) {
    throw new Error(
      `lab scenario ${name} exited ${run.code}:\n${run.output.slice(-6000)}\n--- console ---\n${run.console.slice(-2000)}`,
    );
  }
  const result = JSON.parse(readFileSync(path.join(outDir, 'result.json'), 'utf8')) as GuestResult;
  if (!list) return { run, result, incidents: [], identity, daemonLog: '' };
  const configFile = path.join(outDir, 'cam', 'config.json');
  const listed = cli(['list', '--config', configFile, '--json']);
  if (listed.code !== 0) throw new Error(`list failed: ${listed.stderr}`);
  const incidents = (JSON.parse(listed.stdout) as { incidents: ListedIncident[] }).incidents;
  const daemonLog = readFileSync(path.join(outDir, 'daemon.log'), 'utf8');
  return { run, result, incidents, identity, daemonLog };
}

export interface Footage {
  /** Decrypted segments, in order. */
  files: string[];
  video: Packet[];
  timeBase: number;
  width: number;
  height: number;
  audioPackets: number;
}

function frameSize(file: string): { width: number; height: number } {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', file],
    {
      encoding: 'utf8',
    },
  );
  const s = (JSON.parse(r.stdout) as { streams: Array<{ width: number; height: number }> }).streams[0];
  return { width: s?.width ?? 0, height: s?.height ?? 0 };
}

/**
 * Decrypts every segment of the incident with age and checks what the issue asks of lab footage: each segment
 * decodes cleanly and starts on a keyframe, holds the frames its index says, and the video timeline runs on with
 * no gap or duplicate through every segment boundary.
 */
export function checkFootage(incident: ListedIncident, identity: string): Footage {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bodycam-lab-footage-'));
  const files: string[] = [];
  const video: Packet[] = [];
  let timeBase = 0;
  let audioPackets = 0;
  expect(incident.state).toBe('closed');
  expect(incident.segments.length).toBeGreaterThanOrEqual(1);
  for (const seg of incident.segments) {
    expect(seg.state).toBe('closed');
    const dec = ageDecrypt(identity, seg.path, out);
    expect(dec.stderr).toBe('');
    expect(dec.ok).toBe(true);
    expect(decodeErrors(dec.out), seg.path).toBe('');
    const probe = probeVideo(dec.out);
    expect(probe.errors).toBe('');
    expect(probe.packets[0]?.keyframe, `${seg.path} starts on a keyframe`).toBe(true);
    expect(probe.packets.length).toBe(seg.frames);
    timeBase = probe.timeBase;
    video.push(...probe.packets);
    audioPackets += probeAudio(dec.out).packets.length;
    files.push(dec.out);
  }
  // A V4L2 device stamps each frame when it delivers it, so the timeline follows the device (vivid under emulation
  // delivers a frame now and then a fifth of a frame late, which a synthetic source never does). What the camera
  // must not do is lose or repeat one: every step is forward, and shorter than two frames (a lost frame makes one
  // step two frames long).
  const nominal = video[0]?.duration ?? Number.NaN;
  for (let i = 1; i < video.length; i++) {
    const prev = video[i - 1];
    const cur = video[i];
    if (prev === undefined || cur === undefined) throw new Error('unreachable');
    const step = cur.pts - prev.pts;
    expect(step, `frame ${i}: no duplicate`).toBeGreaterThan(0);
    expect(step, `frame ${i}: no lost frame (step ${step}, a frame is ${nominal})`).toBeLessThan(1.5 * nominal);
  }
  return { files, video, timeBase, audioPackets, ...frameSize(files[0] ?? '') };
}

/** One line per test for the lab's report: what ran, on which kernel and devices, how long it took. */
export function report(what: string, s: Scenario, details: string): void {
  const d = s.result.devices;
  console.log(
    `device lab: ${what}: kernel ${s.run.kernelVersion}; video0 "${d['video0'] ?? '?'}", sound "${d['sound'] ?? '?'}"; ${details}; VM ${s.run.seconds.toFixed(0)} s`,
  );
}
