import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlsaAudio, aplayArgs } from '../../../src/hal/audio/alsa.ts';
import { clipFromWav, parseWav, toneClip } from '../../../src/hal/audio/wav.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { NodeProcessRunner } from '../../../src/hal/process/node.ts';
import { type ScriptedCall, ScriptedProcesses } from '../../../src/hal/process/scripted.ts';
import { type BodycamError, isBodycamError } from '../../../src/lib/errors.ts';

const DEVICE = 'plughw:CARD=Headphones';
const beep = toneClip('beep', { frequencyHz: 1000, durationMs: 200, sampleRate: 8000 });
const warning = toneClip('warning-nl', { frequencyHz: 500, durationMs: 1500, sampleRate: 8000 });

async function failure(p: Promise<unknown>): Promise<BodycamError> {
  try {
    await p;
  } catch (e) {
    if (isBodycamError(e)) return e;
    throw e;
  }
  throw new Error('expected a BodycamError');
}

/** A test rig: aplay as a speaker that plays each WAV from stdin for its duration on the fake clock. */
function rig(graceMs?: number) {
  const clock = new FakeClock({ now: 1000 });
  const processes = new ScriptedProcesses({ clock });
  const speaker = async (call: ScriptedCall) => {
    const clip = clipFromWav('stdin', await call.stdin);
    const timer = clock.setTimeout(() => call.exit(0), clip.durationMs);
    const die = call.onKill;
    call.onKill = (signal) => {
      clock.clearTimeout(timer);
      die(signal);
    };
  };
  processes.define('aplay', speaker);
  const audio = new AlsaAudio({ device: DEVICE, processes, clock, ...(graceMs === undefined ? {} : { graceMs }) });
  return { clock, processes, audio, speaker };
}

describe('aplayArgs', () => {
  it('plays one WAV from stdin on the device, quietly', () => {
    expect(aplayArgs('hw:1,0')).toEqual(['-q', '-D', 'hw:1,0', '-t', 'wav', '-']);
  });
});

describe('AlsaAudio', () => {
  it('pipes the clip bytes to aplay and reports clock times', async () => {
    const { clock, processes, audio } = rig();
    const played = audio.play(beep);
    await clock.advance(200);
    expect(await played).toEqual({ startedAt: 1000, endedAt: 1200 });
    const call = processes.calls[0];
    expect(call?.command).toBe('aplay');
    expect(call?.args).toEqual(aplayArgs(DEVICE));
    expect(call?.spec.detached).toBe(true);
    expect((await call?.stdin)?.equals(beep.wav)).toBe(true);
  });

  it('plays one clip at a time, in call order', async () => {
    const { clock, processes, audio } = rig();
    const first = audio.play(warning);
    const second = audio.play(beep);
    await clock.advance(1000);
    expect(processes.calls).toHaveLength(1); // the second waits for the first
    await clock.advance(700);
    expect(await first).toEqual({ startedAt: 1000, endedAt: 2500 });
    expect(await second).toEqual({ startedAt: 2500, endedAt: 2700 });
    const sent = await Promise.all(processes.calls.map((c) => c.stdin));
    expect(sent.map((b) => b.equals(warning.wav))).toEqual([true, false]);
    expect(sent[1]?.equals(beep.wav)).toBe(true);
  });

  it('a non-zero exit is HAL_AUDIO_FAILED naming the device and the end of stderr; the next clip still plays', async () => {
    const { clock, processes, audio, speaker } = rig();
    processes.define('aplay', (call) => {
      call.stderr('ALSA lib pcm.c:2664:(snd_pcm_open_noupdate) Unknown PCM plughw:CARD=Headphones\n');
      call.stderr('aplay: main:831: audio open error: No such file or directory\n');
      call.exit(1);
    });
    const e = await failure(audio.play(beep));
    expect(e.code).toBe('HAL_AUDIO_FAILED');
    expect(e.message).toContain(`on ALSA device ${DEVICE}`);
    expect(e.message).toContain('exited with code 1');
    expect(e.message).toContain('audio open error: No such file or directory');
    expect(e.details).toMatchObject({ device: DEVICE, clip: 'beep', code: 1 });
    processes.define('aplay', speaker);
    const next = audio.play(beep);
    await clock.advance(200);
    expect((await next).endedAt - (await next).startedAt).toBe(200);
  });

  it('death by a signal is HAL_AUDIO_FAILED', async () => {
    const { processes, audio } = rig();
    processes.define('aplay', (call) => call.exitBySignal('SIGSEGV'));
    const e = await failure(audio.play(beep));
    expect(e.code).toBe('HAL_AUDIO_FAILED');
    expect(e.message).toContain('aplay was killed by SIGSEGV');
    expect(e.message).toContain('(nothing on stderr)');
  });

  it('a missing aplay is HAL_AUDIO_FAILED saying how to install alsa-utils', async () => {
    const clock = new FakeClock();
    const audio = new AlsaAudio({ device: DEVICE, processes: new ScriptedProcesses(), clock });
    const e = await failure(audio.play(beep));
    expect(e.code).toBe('HAL_AUDIO_FAILED');
    expect(e.message).toContain(DEVICE);
    expect(e.message).toContain('alsa-utils is missing');
    expect(e.message).toContain('apt-get install alsa-utils');
  });

  it('through the real runner, on a system without aplay (an empty PATH): the same advice', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = mkdtempSync(join(tmpdir(), 'bodycam-no-aplay-'));
    try {
      const audio = new AlsaAudio({ device: DEVICE, processes: new NodeProcessRunner(), clock: new FakeClock() });
      const e = await failure(audio.play(beep));
      expect(e.code).toBe('HAL_AUDIO_FAILED');
      expect(e.message).toContain('apt-get install alsa-utils');
    } finally {
      process.env['PATH'] = path;
    }
  });

  it('stop() kills the playing aplay and drops the queue with HAL_AUDIO_STOPPED; later clips play', async () => {
    const { clock, processes, audio } = rig();
    const playing = failure(audio.play(warning));
    const queued = failure(audio.play(beep));
    await clock.advance(500);
    await audio.stop();
    expect((await playing).code).toBe('HAL_AUDIO_STOPPED');
    expect((await queued).code).toBe('HAL_AUDIO_STOPPED');
    expect(processes.calls).toHaveLength(1); // the queued clip never started aplay
    expect(processes.calls[0]?.signals).toEqual(['SIGTERM']);
    const after = audio.play(beep);
    await clock.advance(200);
    expect(await after).toEqual({ startedAt: 1500, endedAt: 1700 });
    expect(clock.pending).toBe(0);
  });

  it('stop() escalates to SIGKILL when aplay ignores SIGTERM', async () => {
    const { clock, processes, audio, speaker } = rig(300);
    processes.define('aplay', async (call) => {
      await speaker(call);
      const die = call.onKill;
      call.onKill = (signal) => {
        if (signal === 'SIGKILL') die(signal);
      };
    });
    const playing = failure(audio.play(warning));
    await clock.advance(100);
    let stopped = false;
    const stopping = audio.stop().then(() => {
      stopped = true;
    });
    await clock.advance(299);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await stopping;
    expect(processes.calls[0]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect((await playing).code).toBe('HAL_AUDIO_STOPPED');
    expect(clock.pending).toBe(0);
  });

  it('check() plays 50 ms of silence on the device, in turn after what is playing', async () => {
    const { clock, processes, audio } = rig();
    const playing = audio.play(beep);
    let checked = false;
    const check = audio.check().then(() => {
      checked = true;
    });
    await clock.advance(200);
    await playing;
    expect(checked).toBe(false);
    // aplay for the check starts once the beep's has ended; step the clock until its 50 ms are played.
    for (let i = 0; i < 20 && !checked; i++) {
      await new Promise((r) => setImmediate(r));
      await clock.advance(10);
    }
    await check;
    expect(checked).toBe(true);
    expect(clock.now()).toBeGreaterThanOrEqual(1250);
    expect(processes.calls.map((c) => c.args)).toEqual([aplayArgs(DEVICE), aplayArgs(DEVICE)]);
    const sent = clipFromWav('check', (await processes.calls[1]?.stdin) ?? Buffer.alloc(0));
    expect(sent.durationMs).toBeCloseTo(50, 0);
    expect(parseWav(sent.wav).data.every((b) => b === 0)).toBe(true); // silence: nothing audible
  });

  it('check() fails as a play does, and a check that hangs is ended after 3 s and fails', async () => {
    const { clock, processes, audio } = rig(100);
    processes.define('aplay', (call) => {
      call.stderr('aplay: main:831: audio open error: Device or resource busy\n');
      call.exit(1);
    });
    const e = await failure(audio.check());
    expect(e.code).toBe('HAL_AUDIO_FAILED');
    expect(e.message).toContain('Device or resource busy');
    processes.define('aplay', (call) => {
      call.onKill = () => call.exitBySignal('SIGTERM');
    });
    const hung = failure(audio.check());
    await clock.advance(3000);
    const h = await hung;
    expect(h.code).toBe('HAL_AUDIO_FAILED');
    expect(h.message).toContain('no end after 3000 ms');
    expect(clock.pending).toBe(0);
  });

  it('stop() with nothing playing resolves at once', async () => {
    const { audio, processes } = rig();
    await audio.stop();
    expect(processes.calls).toHaveLength(0);
  });
});
