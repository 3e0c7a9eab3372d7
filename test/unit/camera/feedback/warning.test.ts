/**
 * The spoken warning on fake time, against a real index (the outcome lands on the incident row): the tone and each
 * language in order through the speaker, timed against the activation; suppressed for a silent activation; partial
 * or failed, with a speaker fault, when the speaker gives up (the ALSA driver with a scripted aplay).
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CameraEvents,
  createCameraBus,
  type IncidentStarted,
  type WarningPlan,
} from '../../../../src/camera/events.ts';
import type { WarningClips } from '../../../../src/camera/feedback/prompts.ts';
import { attentionTone } from '../../../../src/camera/feedback/prompts.ts';
import { SpokenWarning } from '../../../../src/camera/feedback/warning.ts';
import { CameraStore } from '../../../../src/camera/storage/store.ts';
import { AlsaAudio } from '../../../../src/hal/audio/alsa.ts';
import { FileAudio } from '../../../../src/hal/audio/file.ts';
import type { AudioOutput } from '../../../../src/hal/audio/port.ts';
import { clipFromWav, toneClip } from '../../../../src/hal/audio/wav.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';
import { ScriptedProcesses } from '../../../../src/hal/process/scripted.ts';
import { silentLogger } from '../../../../src/lib/logger.ts';

const clips: WarningClips = {
  tone: attentionTone(880, 400),
  phrases: (['nl', 'fr', 'de'] as const).map((language, i) => ({
    language,
    clip: toneClip(`warning-${language}`, { frequencyHz: 300 + 100 * i, durationMs: 2000 }),
  })),
  missing: [],
};

async function setup(audio: (clock: FakeClock) => AudioOutput, withClips: WarningClips = clips) {
  const clock = new FakeClock();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-warning-'));
  const store = CameraStore.open(dir, { wallNow: () => clock.wallNow() });
  const bus = createCameraBus();
  const seen: Array<{ [K in keyof CameraEvents]: [K, CameraEvents[K]] }[keyof CameraEvents]> = [];
  for (const name of ['audio.played', 'speaker.fault', 'warning.finished'] as const) {
    bus.on(name, (e) => seen.push([name, e] as never));
  }
  const warning = new SpokenWarning({
    bus,
    audio: audio(clock),
    clips: withClips,
    incidents: store.incidents,
    clock,
    speed: 1,
    logger: silentLogger(),
  });
  await warning.start();
  const activate = async (id: string, plan: WarningPlan) => {
    store.incidents.open(
      {
        id,
        trigger: 'button',
        activatedAt: new Date(clock.wallNow()).toISOString(),
        activationMediaMs: 40_000,
        prerollRequestedMs: 30_000,
        prerollActualMs: 30_000,
        firstMediaMs: 10_000,
        warning: plan.speak ? { state: 'pending' } : { state: 'suppressed', reason: plan.reason },
      },
      {},
    );
    const e: IncidentStarted = {
      id,
      trigger: 'button',
      activationMs: 40_000,
      prerollRequestedMs: 30_000,
      prerollActualMs: 30_000,
      atMono: clock.now(),
      warning: plan,
    };
    bus.emit('incident.started', e);
  };
  return { clock, dir, store, bus, seen, warning, activate };
}

describe('spoken warning', () => {
  it('plays the tone then each language in order, and writes when and what on the incident', async () => {
    const speakerDir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-speaker-'));
    const { clock, store, seen, activate } = await setup((clock) => new FileAudio({ dir: speakerDir, clock }));
    await clock.advance(500);
    await activate('inc-1', { speak: true });
    await clock.advance(8000);
    expect(readdirSync(speakerDir)).toEqual([
      '0001-tone.wav',
      '0002-warning-nl.wav',
      '0003-warning-fr.wav',
      '0004-warning-de.wav',
    ]);
    const played = seen.filter(([name]) => name === 'audio.played').map(([, e]) => e) as CameraEvents['audio.played'][];
    expect(played.map((p) => p.name)).toEqual(['tone', 'warning-nl', 'warning-fr', 'warning-de']);
    // One straight after another, each as long as its clip (the file speaker's writes land within the fake step).
    for (const [i, p] of played.entries()) {
      const clip = i === 0 ? clips.tone : clips.phrases[i - 1]?.clip;
      expect(p.endedAt - p.startedAt).toBeCloseTo(clip?.durationMs ?? Number.NaN, 6);
      if (i > 0) expect(p.startedAt).toBe(played[i - 1]?.endedAt);
    }
    const first = played[0]?.startedAt ?? Number.NaN;
    const row = store.incidents.get('inc-1');
    expect(row).toMatchObject({ warningState: 'given', warningReason: null, warningLanguages: '["nl","fr","de"]' });
    // Timed against the activation (at 500 ms on the fake clock, media 40 000 ms): the tone starts at once.
    expect(first).toBe(500);
    expect(row?.warningStartedMediaMs).toBe(40_000);
    expect(row?.warningStartedAt).toBe(new Date(Date.UTC(2026, 0, 1) + first).toISOString());
    expect(row?.warningDurationMs).toBe(Math.round((played.at(-1)?.endedAt ?? Number.NaN) - first));
  });

  it('records a silent activation as suppressed with its reason and plays nothing', async () => {
    const speakerDir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-speaker-'));
    const { clock, store, seen, activate } = await setup((clock) => new FileAudio({ dir: speakerDir, clock }));
    await activate('inc-2', { speak: false, reason: 'crowd' });
    await clock.advance(3000);
    expect(readdirSync(speakerDir)).toEqual([]);
    expect(store.incidents.get('inc-2')).toMatchObject({
      warningState: 'suppressed',
      warningReason: 'crowd',
      warningStartedAt: null,
    });
    expect(seen.map(([name]) => name)).toEqual(['warning.finished']);
  });

  it('records a partial warning and a speaker fault when the speaker fails mid-way', async () => {
    const { clock, store, seen, activate } = await setup((clock) => {
      const processes = new ScriptedProcesses({ clock });
      let calls = 0;
      processes.define('aplay', async (call) => {
        calls += 1;
        const clip = clipFromWav('stdin', await call.stdin);
        if (calls === 3) {
          call.stderr('aplay: main:831: audio open error: Device or resource busy\n');
          call.exit(1);
          return;
        }
        clock.setTimeout(() => call.exit(0), clip.durationMs);
      });
      return new AlsaAudio({ device: 'hw:0,0', processes, clock });
    });
    await activate('inc-3', { speak: true });
    await clock.advance(8000);
    const row = store.incidents.get('inc-3');
    expect(row).toMatchObject({ warningState: 'partial', warningLanguages: '["nl"]' });
    expect(row?.warningReason).toContain('Device or resource busy');
    const fault = seen.find(([name]) => name === 'speaker.fault')?.[1] as CameraEvents['speaker.fault'];
    expect(fault).toMatchObject({ name: 'warning-fr', code: 'HAL_AUDIO_FAILED' });
  });

  it('plays the languages whose prompt loaded and records the warning as partial, naming the missing ones', async () => {
    const speakerDir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-speaker-'));
    const missing = (['fr', 'de'] as const).map((language) => ({
      language,
      file: `/etc/bodycam/prompts/warning-${language}.wav`,
      problem: 'is missing',
    }));
    const onlyNl: WarningClips = { tone: clips.tone, phrases: clips.phrases.slice(0, 1), missing };
    const { clock, store, activate } = await setup((clock) => new FileAudio({ dir: speakerDir, clock }), onlyNl);
    await activate('inc-5', { speak: true });
    await clock.advance(4000);
    expect(readdirSync(speakerDir)).toEqual(['0001-tone.wav', '0002-warning-nl.wav']);
    const row = store.incidents.get('inc-5');
    expect(row).toMatchObject({ warningState: 'partial', warningLanguages: '["nl"]' });
    expect(row?.warningReason).toBe('no prompt for fr (warning-fr.wav is missing), de (warning-de.wav is missing)');
    // With no prompt at all only the attention tone plays, and the warning is recorded as not given.
    const none: WarningClips = { tone: clips.tone, phrases: [], missing: [...missing] };
    const bare = await setup(
      (clock) => new FileAudio({ dir: mkdtempSync(path.join(os.tmpdir(), 'bodycam-speaker-')), clock }),
      none,
    );
    await bare.activate('inc-6', { speak: true });
    await bare.clock.advance(1500);
    expect(bare.store.incidents.get('inc-6')).toMatchObject({ warningState: 'failed', warningLanguages: '[]' });
    expect(bare.store.incidents.get('inc-6')?.warningReason).toContain('no prompt for fr');
  });

  it('records a failed warning when the speaker cannot play at all', async () => {
    const blocker = path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-speaker-')), 'not-a-dir');
    writeFileSync(blocker, 'a file where the speaker directory should be');
    const { clock, store, seen, activate } = await setup((clock) => new FileAudio({ dir: blocker, clock }));
    await activate('inc-4', { speak: true });
    await clock.advance(1000);
    expect(store.incidents.get('inc-4')).toMatchObject({
      warningState: 'failed',
      warningLanguages: '[]',
      warningStartedAt: null,
    });
    expect(seen.filter(([name]) => name === 'speaker.fault')).toHaveLength(1);
  });
});
