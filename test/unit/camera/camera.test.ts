/**
 * The whole camera in-process on fake time, wired by its own composition root (`Camera`): the fake clock, the sim
 * GPIO, the file speaker, a real SQLite index, real age sealing and signing in a temp dir, and ffmpeg scripted behind
 * the process port, delivering the real fixture's fMP4 at media speed on the fake clock. It buffers 30 s of pre-roll,
 * starts recording on a double press (with the spoken warning), seals segments, stops on a hold, and what it wrote
 * verifies, decrypts and plays back as one continuous stream that starts 30 s before the press. Minutes of camera
 * time take a few seconds.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/age/keys.ts';
import type { CameraEvents } from '../../../src/camera/events.ts';
import { createDeviceIdentity, loadDeviceIdentity } from '../../../src/camera/identity.ts';
import { Camera } from '../../../src/camera/main.ts';
import { Fmp4Parser } from '../../../src/camera/media/fmp4/parser.ts';
import type { MediaFragment } from '../../../src/camera/media/types.ts';
import { buildInitialConfig } from '../../../src/cli/init.ts';
import { validateConfig } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/schema.ts';
import { verifyDirectory } from '../../../src/evidence/verify.ts';
import { toneClip } from '../../../src/hal/audio/wav.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { SimGpio } from '../../../src/hal/gpio/sim.ts';
import { ScriptedProcesses } from '../../../src/hal/process/scripted.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { decryptWith } from '../../harness/age.ts';
import { ScriptedFfmpeg } from '../../harness/scripted-ffmpeg.ts';

const LANGUAGES = ['nl', 'fr', 'de'] as const;
/** The fixture's GOP, in media ms (10 frames at 10 fps; the first one a little longer). */
const GOP_MS = 1022;

interface Scene {
  dir: string;
  config: Config;
  custodian: string;
  clock: FakeClock;
  gpio: SimGpio;
  ffmpeg: ScriptedFfmpeg;
  camera: Camera;
  events: Array<{ [K in keyof CameraEvents]: { name: K; at: number; payload: CameraEvents[K] } }[keyof CameraEvents]>;
  /** Log lines at warn and above. */
  problems: Array<{ level: number; msg: string }>;
  /** Time passes on the camera: `ms` of fake time, its timers and file writes in order. */
  run(ms: number): Promise<void>;
  /** The officer presses the record button (`count` presses, the last held `holdMs` if given), in fake time. */
  press(opts: { count?: number; holdMs?: number }): Promise<void>;
  of<K extends keyof CameraEvents>(name: K): CameraEvents[K][];
}

let current: Scene | undefined;
afterEach(async () => {
  await current?.camera.stop();
  current = undefined;
});

async function boot(): Promise<Scene> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-camera-'));
  const { identity: custodian, recipient } = generateIdentity();
  const doc = buildInitialConfig({ dir, recipient: [recipient], board: 'sim', deviceId: 'cam-1', force: false });
  // The fixture's format, 10 s segments, and no simulated room (it feeds a real ffmpeg's microphone, at its pace).
  Object.assign(doc, {
    capture: {
      source: { kind: 'synthetic', width: 160, height: 120, fps: 10, gopSeconds: 1, audio: true, speed: 1 },
    },
    recording: { segmentSeconds: 10 },
    audio: { driver: 'file', dir: 'speaker', roomToMicrophone: false },
  });
  const checked = validateConfig(doc, dir);
  if (!checked.ok) throw new Error(`config: ${JSON.stringify(checked.problems)}`);
  const config = checked.config;
  await createDeviceIdentity(config.evidence.keyFile);
  // The spoken warning's prompts, as `bodycam prompts` would leave them (tones stand in for the voices).
  mkdirSync(config.warning.promptsDir, { recursive: true });
  for (const [i, language] of LANGUAGES.entries()) {
    const clip = toneClip(`warning-${language}`, { frequencyHz: 300 + 100 * i, durationMs: 1500 });
    writeFileSync(path.join(config.warning.promptsDir, `warning-${language}.wav`), clip.wav);
  }

  const clock = new FakeClock();
  const gpio = new SimGpio({ clock });
  const processes = new ScriptedProcesses({ clock });
  const ffmpeg = new ScriptedFfmpeg(processes, { live: { clock } });
  const problems: Scene['problems'] = [];
  const logs = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      const line = JSON.parse(chunk.toString()) as { level: number; msg: string };
      if (line.level >= 40) problems.push({ level: line.level, msg: line.msg });
      done();
    },
  });
  const camera = new Camera(config, createLogger('warn', logs), { clock, gpio, processes, gauge: null });
  const events: Scene['events'] = [];
  for (const name of [
    'capture.state',
    'recorder.state',
    'incident.started',
    'incident.closed',
    'segment.sealed',
    'warning.finished',
    'audio.played',
  ] as const) {
    camera.bus.on(name, (payload) => events.push({ name, at: clock.now(), payload } as never));
  }
  const scene: Scene = {
    dir,
    config,
    custodian,
    clock,
    gpio,
    ffmpeg,
    camera,
    events,
    problems,
    run: (ms) => clock.advance(ms),
    async press(opts) {
      const pressing = gpio.press(config.controls.recordInput, opts);
      await clock.advance((opts.count ?? 1) * 270 + (opts.holdMs ?? 0) + 500);
      await pressing;
    },
    of: (name) => events.filter((e) => e.name === name).map((e) => e.payload) as never,
  };
  current = scene;
  await camera.start();
  return scene;
}

/** The plaintext fMP4 of each sealed segment of `incident`, parsed: its video fragments in order. */
function footage(s: Scene, incident: string): MediaFragment[][] {
  const dir = path.join(s.config.storage.dir, 'footage', incident);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.mp4.age'))
    .sort();
  return files.map((f) => {
    const video: MediaFragment[] = [];
    const parser = new Fmp4Parser({
      onInit: () => undefined,
      onFragment: (fragment) => {
        if (fragment.kind === 'video') video.push(fragment);
      },
      onError: (e) => {
        throw e;
      },
    });
    parser.push(decryptWith(s.custodian, path.join(dir, f)));
    return video;
  });
}

describe('the camera in-process on fake time', () => {
  it('buffers 30 s of pre-roll, records on a double press with the warning, seals segments, stops on a hold', async () => {
    const s = await boot();
    expect(s.ffmpeg.runs).toHaveLength(1);

    // Buffering: 30 s of pre-roll in RAM, nothing on the card, green light.
    await s.run(35_000);
    const buffering = s.camera.status();
    expect(buffering).toMatchObject({ state: 'buffering', incident: null, indication: 'standby' });
    expect(buffering?.capture).toMatchObject({ state: 'running', gaps: 0, video: { width: 160, height: 120 } });
    expect(buffering?.ring.seconds).toBeGreaterThanOrEqual(30);
    expect(buffering?.ring.seconds).toBeLessThanOrEqual(30 + (2 * GOP_MS) / 1000);
    expect(s.gpio.outputState('ledGreen')).toBe(true);
    expect(readdirSync(s.config.storage.dir)).not.toContain('footage');

    // A double press: recording, with the pre-roll, the red light and the spoken warning.
    const pressedAt = s.clock.now();
    await s.press({ count: 2 });
    const [started] = s.of('incident.started');
    expect(started).toMatchObject({ trigger: 'button', prerollRequestedMs: 30_000, warning: { speak: true } });
    expect(started?.prerollActualMs).toBeGreaterThanOrEqual(30_000);
    expect(started?.prerollActualMs).toBeLessThanOrEqual(30_000 + GOP_MS);
    expect(s.camera.status()).toMatchObject({ state: 'recording', indication: 'recording' });
    expect(s.gpio.outputState('ledRed')).toBe(true);
    expect(s.clock.now() - pressedAt).toBeLessThan(1500);

    await s.run(10_000);
    expect(readdirSync(path.join(s.dir, 'speaker')).sort()).toEqual([
      '0001-tone.wav',
      '0002-warning-nl.wav',
      '0003-warning-fr.wav',
      '0004-warning-de.wav',
    ]);
    expect(s.of('warning.finished')).toMatchObject([
      { incidentId: started?.id, state: 'given', languages: ['nl', 'fr', 'de'] },
    ]);

    // Segments are sealed as the recording goes on.
    await s.run(20_000);
    expect(s.of('segment.sealed').length).toBeGreaterThanOrEqual(2);

    // A hold stops it; the camera buffers again.
    await s.press({ holdMs: 3500 });
    await s.run(5000);
    expect(s.of('incident.closed')).toMatchObject([{ id: started?.id, reason: 'button-hold' }]);
    const after = s.camera.status();
    expect(after).toMatchObject({ state: 'buffering', incident: null, indication: 'standby', internalErrors: 0 });
    expect(after?.capture).toMatchObject({ state: 'running', gaps: 0 });
    expect(after?.storage?.level).toBe('ok');
    expect(after?.faults).toEqual([]);
    expect(s.ffmpeg.runs).toHaveLength(1);
    // The frame size differs from nothing, no listener failed, nothing was logged as a problem.
    expect(s.problems).toEqual([]);

    await s.camera.stop();
    expect(s.ffmpeg.last.signals).toEqual(['SIGINT']);
    expect(s.clock.pending).toBeLessThanOrEqual(1); // at most the scripted ffmpeg's next GOP, which finds it gone

    // What it wrote verifies with the device key, and plays as one stream from 30 s before the press.
    const device = await loadDeviceIdentity(s.config.evidence.keyFile);
    const report = await verifyDirectory(s.config.storage.dir, { single: device.publicKey });
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.ok).toBe(true);
    const [result] = report.devices;
    expect(result?.incidents.map((i) => i.id)).toEqual([started?.id]);
    const segments = footage(s, started?.id ?? '');
    expect(segments.length).toBe(s.of('segment.sealed').length);
    const video = segments.flat();
    expect(video[0]?.keyframe).toBe(true);
    for (const [i, f] of video.entries()) {
      if (i > 0) expect(f.baseTime).toBe((video[i - 1]?.baseTime ?? 0) + (video[i - 1]?.duration ?? 0));
    }
    const activationMs = started?.activationMs ?? 0;
    expect(activationMs - (video[0]?.startMs ?? 0)).toBeGreaterThanOrEqual(30_000);
    expect(video.at(-1)?.endMs).toBeGreaterThan(activationMs + 30_000);
  });

  it('keeps recording through an ffmpeg crash: restarted after the backoff, the outage recorded as a gap', async () => {
    const s = await boot();
    await s.run(35_000);
    await s.press({ count: 2 });
    const [started] = s.of('incident.started');
    await s.run(5000);
    s.ffmpeg.last.exit(1); // the capture process dies mid-recording
    await s.run(1000);
    expect(s.ffmpeg.runs).toHaveLength(2); // restarted after the first backoff (500 ms)
    await s.run(10_000);
    expect(s.camera.status()).toMatchObject({ state: 'recording', capture: { state: 'running', gaps: 1 } });
    await s.press({ holdMs: 3500 });
    await s.run(5000);
    expect(s.of('incident.closed')).toMatchObject([{ id: started?.id, reason: 'button-hold' }]);
    expect(s.problems.map((p) => p.msg)).toEqual(['capture pipeline ended unexpectedly; restarting']);
    await s.camera.stop();

    const device = await loadDeviceIdentity(s.config.evidence.keyFile);
    const report = await verifyDirectory(s.config.storage.dir, { single: device.publicKey });
    expect(report.ok).toBe(true);
    // One timeline: nothing repeated or reordered across the restart; the outage is the one step forward.
    const video = footage(s, started?.id ?? '').flat();
    const steps = video.slice(1).map((f, i) => f.startMs - (video[i]?.endMs ?? 0));
    expect(steps.filter((d) => d < -0.5)).toEqual([]);
    expect(steps.filter((d) => d > 0.5)).toHaveLength(1);
  });
});
