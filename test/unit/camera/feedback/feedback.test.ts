/**
 * The officer's feedback on fake time: LEDs follow the state, the motor pulses twice at start and once at stop,
 * a reminder tone and pulse every 2 minutes while recording that ends with the recording, nothing audible in a
 * silent activation, nothing at all in stealth, and a refusal cue. Outputs go through the sim GPIO driver and the
 * file speaker (real files in a temp dir), the stand-ins behind the same ports as the hardware.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCameraBus, type IncidentStarted, type WarningPlan } from '../../../../src/camera/events.ts';
import { Feedback } from '../../../../src/camera/feedback/feedback.ts';
import { attentionTone, refusedTone, reminderTone } from '../../../../src/camera/feedback/prompts.ts';
import { FileAudio } from '../../../../src/hal/audio/file.ts';
import type { AudioOutput } from '../../../../src/hal/audio/port.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';
import { SimGpio } from '../../../../src/hal/gpio/sim.ts';
import { type Logger, silentLogger } from '../../../../src/lib/logger.ts';
import { captureLogger } from '../../../harness/dock.ts';

const MINUTE = 60_000;

async function setup(options: { audio?: AudioOutput; logger?: Logger } = {}) {
  const clock = new FakeClock();
  const bus = createCameraBus();
  const gpio = new SimGpio({ clock });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-feedback-'));
  const rises: Record<string, number[]> = { haptic: [], ledRed: [], ledGreen: [] };
  gpio.onOutput((name, active, at) => {
    if (active) rises[name]?.push(at);
  });
  const feedback = new Feedback({
    bus,
    gpio,
    outputs: {
      ledRed: { pin: 23, activeLow: false },
      ledGreen: { pin: 24, activeLow: false },
      haptic: { pin: 25, activeLow: false },
    },
    audio: options.audio ?? new FileAudio({ dir, clock }),
    tones: { start: attentionTone(880, 400), reminder: reminderTone(), refused: refusedTone() },
    settings: { reminderSeconds: 120, startTone: true, hapticPulseMs: 150 },
    clock,
    logger: options.logger ?? silentLogger(),
  });
  await feedback.start();
  bus.emit('capture.state', { state: 'running' });
  const started = (warning: WarningPlan): IncidentStarted => ({
    id: 'inc',
    trigger: 'button',
    activationMs: 30_000,
    prerollRequestedMs: 30_000,
    prerollActualMs: 30_000,
    atMono: clock.now(),
    warning,
  });
  /** Files the speaker wrote, by clip name (the fake clock lets the pending writes land). */
  const played = async () => {
    await clock.advance(0);
    return readdirSync(dir).map((f) => f.replace(/^\d+-|\.wav$/g, ''));
  };
  const pulsesBetween = (from: number, to: number) => rises['haptic']?.filter((t) => t >= from && t < to).length;
  return { clock, bus, feedback, gpio, rises, started, played, pulsesBetween };
}

describe('officer feedback', () => {
  it('red while recording, green on standby, two pulses at start and one at stop', async () => {
    const { clock, bus, feedback, gpio, started, pulsesBetween } = await setup();
    expect(feedback.outputs().led?.indication).toBe('standby');
    expect([gpio.outputState('ledRed'), gpio.outputState('ledGreen')]).toEqual([false, true]);
    bus.emit('recorder.state', { state: 'recording', previous: 'buffering' });
    bus.emit('incident.started', started({ speak: true }));
    await clock.advance(1000);
    expect([gpio.outputState('ledRed'), gpio.outputState('ledGreen')]).toEqual([true, false]);
    expect(pulsesBetween(0, 1000)).toBe(2);
    expect(gpio.outputState('haptic')).toBe(false);
    bus.emit('incident.closed', { id: 'inc', reason: 'button-hold', stopAtMs: 40_000 });
    bus.emit('recorder.state', { state: 'buffering', previous: 'stopping' });
    await clock.advance(1000);
    expect(pulsesBetween(1000, 2000)).toBe(1);
    expect(feedback.outputs()).toMatchObject({
      led: { indication: 'standby' },
      vibration: { active: false, last: 'stop' },
    });
    await feedback.stop();
  });

  it('reminds every 2 minutes of recording with a tone and a pulse, and stops with the recording', async () => {
    const { clock, bus, started, played, pulsesBetween } = await setup();
    bus.emit('incident.started', started({ speak: true }));
    await clock.advance(2 * MINUTE - 1);
    expect((await played()).filter((n) => n === 'reminder')).toHaveLength(0);
    await clock.advance(1);
    expect((await played()).filter((n) => n === 'reminder')).toHaveLength(1);
    expect(pulsesBetween(2 * MINUTE, 2 * MINUTE + 1000)).toBe(1);
    await clock.advance(2 * MINUTE);
    expect((await played()).filter((n) => n === 'reminder')).toHaveLength(2);
    await clock.advance(30_000);
    bus.emit('incident.closed', { id: 'inc', reason: 'button-hold', stopAtMs: 300_000 });
    await clock.advance(10 * MINUTE);
    expect((await played()).filter((n) => n === 'reminder')).toHaveLength(2);
    expect(pulsesBetween(4 * MINUTE + 1000, 15 * MINUTE)).toBe(1); // the stop pulse only
  });

  it('plays nothing in a silent activation but still tells the officer by vibration', async () => {
    const { clock, bus, started, played, pulsesBetween } = await setup();
    bus.emit('incident.started', started({ speak: false, reason: 'severity' }));
    await clock.advance(2 * MINUTE + 1000);
    expect(await played()).toEqual([]);
    expect(pulsesBetween(0, 1000)).toBe(2);
    expect(pulsesBetween(2 * MINUTE, 2 * MINUTE + 1000)).toBe(1);
  });

  it('plays the start tone itself when the spoken warning is disabled', async () => {
    const { clock, bus, started, played } = await setup();
    bus.emit('incident.started', started({ speak: false, reason: 'disabled' }));
    await clock.advance(1000);
    expect(await played()).toEqual(['tone']);
  });

  it('in stealth: no light, no sound, no vibration', async () => {
    const { clock, bus, feedback, gpio, rises, started, played } = await setup();
    bus.emit('stealth.changed', { on: true, reason: 'covert' });
    const before = { red: rises['ledRed']?.length, green: rises['ledGreen']?.length };
    bus.emit('recorder.state', { state: 'recording', previous: 'buffering' });
    bus.emit('incident.started', started({ speak: false, reason: 'stealth' }));
    await clock.advance(5 * MINUTE);
    expect(await played()).toEqual([]);
    expect(rises['haptic']).toEqual([]);
    expect({ red: rises['ledRed']?.length, green: rises['ledGreen']?.length }).toEqual(before);
    expect([gpio.outputState('ledRed'), gpio.outputState('ledGreen')]).toEqual([false, false]);
    expect(feedback.outputs()).toMatchObject({ stealth: true, led: { indication: 'stealth' } });
  });

  it('a speaker that fails to stop as stealth begins is logged, and stealth holds', async () => {
    const { logger, lines } = captureLogger();
    const clock = new FakeClock();
    const file = new FileAudio({ dir: mkdtempSync(path.join(os.tmpdir(), 'bodycam-feedback-')), clock });
    const audio: AudioOutput = {
      kind: file.kind,
      play: (clip) => file.play(clip),
      check: () => file.check(),
      stop: () => Promise.reject(new Error('aplay would not stop')),
    };
    const { bus, feedback } = await setup({ audio, logger });
    bus.emit('stealth.changed', { on: true, reason: 'covert' });
    await clock.advance(10);
    expect(feedback.outputs()).toMatchObject({ stealth: true, led: { indication: 'stealth' } });
    expect(lines.map((l) => l.msg)).toContain('the speaker did not stop for stealth mode');
  });

  it('answers a refused request with its own tone and three short pulses', async () => {
    const { clock, bus, played, pulsesBetween } = await setup();
    bus.emit('stealth.refused', { from: 'line:silent' });
    await clock.advance(2000);
    expect(await played()).toEqual(['refused']);
    expect(pulsesBetween(0, 2000)).toBe(3);
  });

  it('double-flashes red when storage is full and blinks red fast when the capture is down', async () => {
    const { clock, bus, feedback, rises } = await setup();
    bus.emit('storage.fault', { code: 'STORAGE_FULL', message: 'full', run: 1, report: true, incidentId: null });
    const t0 = clock.now();
    await clock.advance(1999);
    expect(feedback.outputs().led?.indication).toBe('storage-full');
    expect(rises['ledRed']?.filter((t) => t >= t0).map((t) => t - t0)).toEqual([0, 240, 1000, 1240]);
    bus.emit('capture.state', { state: 'restarting' });
    const t1 = clock.now();
    await clock.advance(999);
    expect(feedback.outputs().led?.indication).toBe('capture-fault');
    expect(rises['ledRed']?.filter((t) => t >= t1).map((t) => t - t1)).toEqual([0, 500]);
  });

  it('refuses an activation on a full card: low buzz, three short pulses, red double flash, no warning', async () => {
    const { clock, bus, feedback, played, pulsesBetween } = await setup();
    bus.emit('activation.refused', { trigger: 'button', reason: 'storage-full', freeBytes: 0, reserveBytes: 8 << 20 });
    await clock.advance(2000);
    expect(await played()).toEqual(['refused']);
    expect(pulsesBetween(0, 2000)).toBe(3);
    expect(feedback.outputs()).toMatchObject({
      led: { indication: 'storage-full', red: 'flash2', green: 'off' },
      vibration: { last: 'refused' },
    });
  });

  it('a recording stopped by full storage ends with the refusal, not the plain stop pulse', async () => {
    const { clock, bus, feedback, started, played, pulsesBetween } = await setup();
    bus.emit('recorder.state', { state: 'recording', previous: 'buffering' });
    bus.emit('incident.started', started({ speak: false, reason: 'severity' }));
    await clock.advance(1000);
    bus.emit('incident.closed', { id: 'inc', reason: 'storage-full', stopAtMs: 40_000 });
    bus.emit('recorder.state', { state: 'buffering', previous: 'recording' });
    await clock.advance(2000);
    expect(await played()).toEqual(['refused']);
    expect(pulsesBetween(1000, 3000)).toBe(3);
    expect(feedback.outputs()).toMatchObject({ led: { indication: 'storage-full' }, vibration: { last: 'refused' } });
  });

  it('after a warning the speaker could not give: three long pulses, once the start pulses are felt', async () => {
    const { clock, bus, feedback, started, rises } = await setup();
    bus.emit('incident.started', started({ speak: true }));
    await clock.advance(100); // the start cue runs (150 on, 150 off, 150 on)
    bus.emit('warning.finished', {
      incidentId: 'inc',
      state: 'failed',
      reason: 'no speaker',
      startedMediaMs: null,
      startedAt: null,
      durationMs: null,
      languages: [],
    });
    await clock.advance(5000);
    // start: 0 and 300; then a 400 ms pause after its end at 450, and 600 on / 300 off three times
    expect(rises['haptic']).toEqual([0, 300, 850, 1750, 2650]);
    expect(feedback.outputs().vibration.last).toBe('say-warning');
  });

  it('says nothing more when the warning was given or suppressed', async () => {
    const { clock, bus, started, rises } = await setup();
    bus.emit('incident.started', started({ speak: true }));
    for (const state of ['given', 'suppressed'] as const)
      bus.emit('warning.finished', {
        incidentId: 'inc',
        state,
        reason: null,
        startedMediaMs: null,
        startedAt: null,
        durationMs: null,
        languages: [],
      });
    await clock.advance(5000);
    expect(rises['haptic']).toEqual([0, 300]);
  });

  it('shows a speaker found failing in standby with its own red pattern beside green, and clears it', async () => {
    const { clock, bus, feedback, rises } = await setup();
    bus.emit('health.speaker', { state: 'fault', code: 'HAL_AUDIO_FAILED', message: 'Unknown PCM nosuch' });
    const t0 = clock.now();
    await clock.advance(1999);
    expect(feedback.outputs().led).toMatchObject({ red: 'wink', green: 'on', warning: 'speaker-fault' });
    expect(rises['ledRed']?.filter((t) => t >= t0).map((t) => t - t0)).toEqual([0, 900]);
    bus.emit('health.speaker', { state: 'ok', code: '', message: '' });
    expect(feedback.outputs().led).toMatchObject({ red: 'off', green: 'on', warning: null });
  });
});
