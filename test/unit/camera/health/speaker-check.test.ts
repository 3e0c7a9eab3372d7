/**
 * The speaker check on fake time: at start and every minute in standby, never while recording, a verdict published
 * only when it changes, a stopped check taken as no news; and the file driver's check against a real directory.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCameraBus } from '../../../../src/camera/events.ts';
import { SpeakerCheck, speakerVerdict } from '../../../../src/camera/health/speaker-check.ts';
import { FileAudio, NoAudio } from '../../../../src/hal/audio/file.ts';
import type { AudioOutput } from '../../../../src/hal/audio/port.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';
import { BodycamError, ErrorCode } from '../../../../src/lib/errors.ts';
import { silentLogger } from '../../../../src/lib/logger.ts';

const failed = new BodycamError(ErrorCode.HAL_AUDIO_FAILED, 'aplay exited with code 1: Unknown PCM nosuch');
const stopped = new BodycamError(ErrorCode.HAL_AUDIO_STOPPED, "'speaker-check' was stopped");

describe('speaker verdict', () => {
  it.each([
    ['worked', { ok: true } as const, { state: 'ok', code: '', message: '' }],
    [
      'failed',
      { ok: false, error: failed } as const,
      { state: 'fault', code: 'HAL_AUDIO_FAILED', message: failed.message },
    ],
    [
      'no speaker',
      { ok: false, error: new BodycamError(ErrorCode.HAL_AUDIO_UNAVAILABLE, 'none') } as const,
      { state: 'fault', code: 'HAL_AUDIO_UNAVAILABLE', message: 'none' },
    ],
    ['stopped: no news', { ok: false, error: stopped } as const, null],
  ])('%s', (_name, outcome, verdict) => {
    expect(speakerVerdict(outcome)).toEqual(verdict);
  });
});

/** A speaker whose check succeeds or fails as the test says, counting checks. */
function scriptedSpeaker() {
  const s = { fail: false, checks: 0 };
  const audio: AudioOutput = {
    kind: 'alsa',
    play: () => Promise.reject(new Error('not used')),
    stop: async () => undefined,
    check: async () => {
      s.checks += 1;
      if (s.fail) throw failed;
    },
  };
  return { s, audio };
}

async function setup(everyMs = 60_000) {
  const clock = new FakeClock();
  const bus = createCameraBus();
  const { s, audio } = scriptedSpeaker();
  const seen: string[] = [];
  bus.on('health.speaker', ({ state }) => seen.push(state));
  const check = new SpeakerCheck({ bus, audio, clock, everyMs, logger: silentLogger() });
  return { clock, bus, s, check, seen };
}

describe('speaker check', () => {
  it('checks at start and every minute in standby, publishing only changes', async () => {
    const { clock, s, check, seen } = await setup();
    s.fail = true;
    await check.start();
    await clock.advance(0);
    expect(seen).toEqual(['fault']);
    await clock.advance(60_000);
    expect(s.checks).toBe(2);
    expect(seen).toEqual(['fault']); // still failing: nothing new
    s.fail = false;
    await clock.advance(60_000);
    expect(seen).toEqual(['fault', 'ok']);
    await check.stop();
    await clock.advance(120_000);
    expect(s.checks).toBe(3);
  });

  it('never checks while recording; resumes in standby', async () => {
    const { clock, bus, s, check } = await setup();
    await check.start();
    await clock.advance(0);
    bus.emit('recorder.state', { state: 'recording', previous: 'buffering' });
    await clock.advance(180_000);
    expect(s.checks).toBe(1);
    bus.emit('recorder.state', { state: 'buffering', previous: 'stopping' });
    await clock.advance(60_000);
    expect(s.checks).toBe(2);
  });

  it('0 checks only at start', async () => {
    const { clock, s, check } = await setup(0);
    await check.start();
    await clock.advance(600_000);
    expect(s.checks).toBe(1);
  });

  it('a clip that failed makes the next good check news, and one that played clears a failed check', async () => {
    const { clock, bus, s, check, seen } = await setup();
    await check.start();
    await clock.advance(0);
    expect(seen).toEqual(['ok']);
    bus.emit('speaker.fault', { name: 'tone', code: 'HAL_AUDIO_FAILED', message: 'gone' });
    await clock.advance(60_000);
    expect(seen).toEqual(['ok', 'ok']); // the check says it works again
    s.fail = true;
    await clock.advance(60_000);
    bus.emit('audio.played', { name: 'tone', startedAt: 0, endedAt: 1 });
    await clock.advance(60_000);
    expect(seen).toEqual(['ok', 'ok', 'fault', 'fault']);
  });
});

describe('speaker drivers: check', () => {
  it('file driver: passes while its directory takes files, fails when it cannot be one, writes nothing', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'bodycam-speaker-'));
    const dir = path.join(root, 'speaker');
    const audio = new FileAudio({ dir, clock: new FakeClock() });
    await expect(audio.check()).resolves.toBeUndefined(); // missing, but it can be made: nothing is created
    expect(readdirSync(root)).toEqual([]);
    mkdirSync(dir);
    await expect(audio.check()).resolves.toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a directory');
    await expect(audio.check()).rejects.toMatchObject({ code: 'HAL_AUDIO_FAILED' });
    const under = new FileAudio({ dir: path.join(dir, 'x'), clock: new FakeClock() });
    await expect(under.check()).rejects.toMatchObject({ code: 'HAL_AUDIO_FAILED' });
    await expect(audio.check()).rejects.toMatchObject({ code: 'HAL_AUDIO_FAILED' });
    rmSync(dir);
    await expect(audio.check()).resolves.toBeUndefined();
  });

  it('no speaker: always a fault', async () => {
    await expect(new NoAudio().check()).rejects.toMatchObject({ code: 'HAL_AUDIO_UNAVAILABLE' });
  });
});
