import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlsaAudio } from '../../../src/hal/audio/alsa.ts';
import { clipFileName, FileAudio, NoAudio } from '../../../src/hal/audio/file.ts';
import { createAudioOutput } from '../../../src/hal/audio/index.ts';
import { toneClip } from '../../../src/hal/audio/wav.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { ScriptedProcesses } from '../../../src/hal/process/scripted.ts';
import { type BodycamError, isBodycamError } from '../../../src/lib/errors.ts';

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

/** The driver has written the clip and set its playback timer (the fake clock lets the real file write land). */
async function playing(clock: FakeClock): Promise<void> {
  await clock.advance(0);
  expect(clock.pending).toBe(1);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bodycam-audio-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('clipFileName', () => {
  it.each([
    [1, 'beep', '0001-beep.wav'],
    [42, 'warning-nl', '0042-warning-nl.wav'],
    [12345, 'x', '12345-x.wav'],
    [3, '../etc/pass wd', '0003-.._etc_pass_wd.wav'],
  ])('%i %s → %s', (n, name, want) => {
    expect(clipFileName(n, name)).toBe(want);
  });
});

describe('FileAudio', () => {
  it('writes the exact WAV bytes and ends after the clip duration on the clock', async () => {
    const clock = new FakeClock({ now: 500 });
    const audio = new FileAudio({ dir, clock });
    let done = false;
    const played = audio.play(beep).then((p) => {
      done = true;
      return p;
    });
    await playing(clock);
    await clock.advance(199);
    expect(done).toBe(false);
    expect(await readdir(dir)).toEqual(['0001-beep.wav']);
    expect((await readFile(join(dir, '0001-beep.wav'))).equals(beep.wav)).toBe(true);
    await clock.advance(1);
    expect(await played).toEqual({ startedAt: 500, endedAt: 700 });
  });

  it('plays one at a time in call order, numbering on', async () => {
    const clock = new FakeClock();
    const audio = new FileAudio({ dir, clock });
    const first = audio.play(warning);
    const second = audio.play(beep);
    await playing(clock);
    await clock.advance(1500);
    await playing(clock);
    await clock.advance(200);
    expect(await first).toEqual({ startedAt: 0, endedAt: 1500 });
    expect(await second).toEqual({ startedAt: 1500, endedAt: 1700 });
    expect((await readdir(dir)).sort()).toEqual(['0001-warning-nl.wav', '0002-beep.wav']);
  });

  it('continues after the files already in the directory (a restart overwrites nothing)', async () => {
    await writeFile(join(dir, '0007-beep.wav'), 'old');
    await writeFile(join(dir, 'notes.txt'), 'not numbered');
    const clock = new FakeClock();
    const played = new FileAudio({ dir, clock }).play(beep);
    await playing(clock);
    await clock.advance(200);
    await played;
    expect((await readdir(dir)).sort()).toEqual(['0007-beep.wav', '0008-beep.wav', 'notes.txt']);
    expect(await readFile(join(dir, '0007-beep.wav'), 'utf8')).toBe('old');
  });

  it('creates a missing directory', async () => {
    const clock = new FakeClock();
    const sub = join(dir, 'sim', 'speaker');
    const played = new FileAudio({ dir: sub, clock }).play(beep);
    await playing(clock);
    await clock.advance(200);
    await played;
    expect(await readdir(sub)).toEqual(['0001-beep.wav']);
  });

  it('an unwritable directory is HAL_AUDIO_FAILED naming the path', async () => {
    await writeFile(join(dir, 'plain-file'), '');
    const bad = join(dir, 'plain-file', 'clips');
    const e = await failure(new FileAudio({ dir: bad, clock: new FakeClock() }).play(beep));
    expect(e.code).toBe('HAL_AUDIO_FAILED');
    expect(e.message).toContain(bad);
    expect(e.details).toEqual({ path: bad });
  });

  it('stop() ends the playing clip and drops the queue with HAL_AUDIO_STOPPED, leaving no timer', async () => {
    const clock = new FakeClock();
    const audio = new FileAudio({ dir, clock });
    const current = failure(audio.play(warning));
    const queued = failure(audio.play(beep));
    await playing(clock);
    await clock.advance(300);
    await audio.stop();
    expect((await current).code).toBe('HAL_AUDIO_STOPPED');
    expect((await queued).code).toBe('HAL_AUDIO_STOPPED');
    expect(clock.pending).toBe(0);
    expect(await readdir(dir)).toEqual(['0001-warning-nl.wav']);
    const after = audio.play(beep);
    await playing(clock);
    await clock.advance(200);
    expect(await after).toEqual({ startedAt: 300, endedAt: 500 });
  });
});

describe('NoAudio', () => {
  it('refuses to play with HAL_AUDIO_UNAVAILABLE, so no one is told a warning was given', async () => {
    const audio = new NoAudio();
    const e = await failure(audio.play(warning));
    expect(e.code).toBe('HAL_AUDIO_UNAVAILABLE');
    expect(e.message).toContain("cannot play 'warning-nl': this board has no speaker configured");
    await expect(audio.stop()).resolves.toBeUndefined();
  });
});

describe('createAudioOutput', () => {
  const deps = { processes: new ScriptedProcesses(), clock: new FakeClock() };

  it('picks the driver the config names', () => {
    expect(createAudioOutput({ driver: 'alsa', device: 'hw:0' }, deps)).toBeInstanceOf(AlsaAudio);
    expect(createAudioOutput({ driver: 'file', dir }, deps)).toBeInstanceOf(FileAudio);
    expect(createAudioOutput({ driver: 'none' }, deps).kind).toBe('none');
  });

  it('alsa without a device plays on ALSA default', async () => {
    const processes = new ScriptedProcesses().define('aplay', (call) => call.exit(0));
    await createAudioOutput({ driver: 'alsa' }, { processes, clock: new FakeClock() }).play(beep);
    expect(processes.calls[0]?.args).toContain('default');
  });

  it('file without a directory, or an unknown driver, is HAL_AUDIO_UNAVAILABLE naming the fix', () => {
    expect(() => createAudioOutput({ driver: 'file' }, deps)).toThrow(/audio\.dir/);
    let err: unknown;
    try {
      createAudioOutput({ driver: 'pulse' as 'alsa' }, deps);
    } catch (e) {
      err = e;
    }
    expect(isBodycamError(err, 'HAL_AUDIO_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain("unknown audio driver 'pulse'; use one of alsa, file, none");
  });
});
