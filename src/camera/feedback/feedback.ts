import type { AudioClip, AudioOutput } from '../../hal/audio/port.ts';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import type { GpioDriver } from '../../hal/gpio/port.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CameraBus, CameraEvents } from '../events.ts';
import { Haptics } from './haptics.ts';
import { StatusLeds } from './leds.ts';
import { type FeedbackState, type HapticCue, hapticSteps, type LedPlan, ledPlan } from './patterns.ts';

export interface OutputLine {
  pin: number;
  activeLow: boolean;
}

export interface FeedbackSettings {
  /** Reminder every this many seconds while recording; 0 for none. */
  reminderSeconds: number;
  /** The attention tone at activations whose warning is disabled (with a warning, its own tone is the start tone). */
  startTone: boolean;
  hapticPulseMs: number;
}

export interface FeedbackOptions {
  bus: CameraBus;
  gpio: GpioDriver;
  /** Output lines by name from the config (`ledRed`, `ledGreen`, `haptic`); a board without one skips it. */
  outputs: Readonly<Record<string, OutputLine>>;
  audio: AudioOutput;
  tones: { start: AudioClip; reminder: AudioClip; refused: AudioClip };
  settings: FeedbackSettings;
  clock: Clock;
  logger: Logger;
}

export interface FeedbackOutputs {
  led: LedPlan | null;
  vibration: { active: boolean; last: string | null };
  lastPlayed: { name: string; at: string } | null;
  stealth: boolean;
}

/**
 * What the officer sees, feels and hears, driven by camera events only: the LEDs follow `ledPlan` of the current
 * state; the motor pulses twice at start and once at stop; tones at start and a reminder while recording (neither
 * in a silent activation); a refusal (stealth not allowed, no room for footage, a recording stopped by full storage)
 * buzzes low with short pulses; a warning the speaker could not give gives long pulses; stealth silences all of it.
 * Outputs go through the GPIO and audio ports.
 */
export class Feedback {
  readonly #o: FeedbackOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  readonly #state: FeedbackState = {
    recorder: 'buffering',
    stealth: false,
    capture: 'starting',
    storage: 'ok',
    clock: 'ok',
    speaker: 'ok',
    microphone: 'ok',
    prompts: 'ok',
    identity: 'ok',
    battery: 'ok',
  };
  #leds: StatusLeds | null = null;
  #haptics: Haptics | null = null;
  #reminder: TimerHandle | null = null;
  #lastPlayed: { name: string; at: string } | null = null;

  constructor(options: FeedbackOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  outputs(): FeedbackOutputs {
    return {
      led: this.#leds?.plan ?? null,
      vibration: { active: this.#haptics?.active ?? false, last: this.#haptics?.last ?? null },
      lastPlayed: this.#lastPlayed,
      stealth: this.#state.stealth,
    };
  }

  async start(): Promise<void> {
    const { gpio, clock } = this.#o;
    const lines = new Map<string, (on: boolean) => void>();
    for (const [name, line] of Object.entries(this.#o.outputs)) {
      lines.set(name, await gpio.openOutput({ name, pin: line.pin, activeLow: line.activeLow }));
    }
    this.#leds = new StatusLeds({ red: lines.get('ledRed'), green: lines.get('ledGreen'), clock });
    this.#haptics = new Haptics(lines.get('haptic'), clock);
    this.#render();
    const s = this.#subs;
    const st = this.#state;
    s.on('capture.state', ({ state }) => {
      if (state === 'running') this.#set({ capture: 'ok' });
      else if (state === 'restarting') this.#set({ capture: 'fault' });
    });
    s.on('recorder.state', ({ state }) => this.#set({ recorder: state }));
    s.on('stealth.changed', ({ on }) => {
      this.#set({ stealth: on });
      if (on) {
        this.#haptics?.stop();
        // Stealth holds whatever the speaker does; a speaker that cannot be stopped is a fault to log, not a crash.
        this.#o.audio
          .stop()
          .catch((e: unknown) => this.#o.logger.error({ err: e }, 'the speaker did not stop for stealth mode'));
      }
    });
    s.on('health.storage', ({ level }) => this.#set({ storage: level }));
    s.on('health.clock', ({ state }) => this.#set({ clock: state }));
    s.on('storage.fault', ({ code }) => {
      if (code === 'STORAGE_FULL') this.#set({ storage: 'full' });
    });
    s.on('speaker.fault', () => this.#set({ speaker: 'fault' }));
    s.on('health.speaker', ({ state }) => this.#set({ speaker: state }));
    s.on('health.microphone', ({ state }) => this.#set({ microphone: state }));
    s.on('setup.fault', ({ part }) => this.#set(part === 'prompts' ? { prompts: 'missing' } : { identity: 'fault' }));
    s.on('health.battery', ({ level, changed }) => {
      if (!changed) return;
      this.#set({ battery: level });
      if (level === 'low') this.#cue('battery-low');
    });
    s.on('audio.played', ({ name }) => {
      this.#lastPlayed = { name, at: new Date(clock.wallNow()).toISOString() };
      if (st.speaker === 'fault') this.#set({ speaker: 'ok' });
    });
    s.on('incident.started', ({ warning }) => {
      this.#cue('start');
      const silent = !warning.speak && warning.reason !== 'disabled';
      if (!warning.speak && !silent && this.#o.settings.startTone) this.#play(this.#o.tones.start);
      this.#startReminders(silent);
    });
    s.on('incident.closed', ({ reason }) => {
      this.#stopReminders();
      if (reason !== 'storage-full') {
        this.#cue('stop');
        return;
      }
      // The recording reached the storage reserve: full storage shows at once, with the refusal's buzz and pulses.
      this.#set({ storage: 'full' });
      this.#refused();
    });
    s.on('activation.refused', () => {
      this.#set({ storage: 'full' });
      this.#refused();
    });
    s.on('stealth.refused', () => this.#refused());
    s.on('warning.finished', ({ state }) => {
      // The person filmed did not hear (all of) it: the officer feels that they must give it themselves.
      if (state === 'failed' || state === 'partial') this.#cue('say-warning', true);
    });
  }

  async stop(): Promise<void> {
    this.#subs.clear();
    this.#stopReminders();
    this.#haptics?.stop();
    this.#leds?.stop();
  }

  #set(change: Partial<FeedbackState>): void {
    Object.assign(this.#state, change);
    this.#render();
  }

  #render(): void {
    this.#leds?.show(ledPlan(this.#state));
  }

  #cue(cue: HapticCue, follow = false): void {
    if (this.#state.stealth) return;
    this.#haptics?.play(cue, hapticSteps(cue, this.#o.settings.hapticPulseMs), follow);
  }

  /** Something the officer asked for is not done: a low buzz and short pulses. */
  #refused(): void {
    this.#cue('refused');
    this.#play(this.#o.tones.refused);
  }

  /** Plays a tone to the officer; a failure shows as a speaker fault, never as an error upward. */
  #play(clip: AudioClip): void {
    if (this.#state.stealth) return;
    this.#o.audio
      .play(clip)
      .then((p) => this.#o.bus.emit('audio.played', { name: clip.name, startedAt: p.startedAt, endedAt: p.endedAt }))
      .catch((err: unknown) => {
        const e = err as { code?: string; message?: string };
        if (e.code === 'HAL_AUDIO_STOPPED') return;
        this.#o.logger.error({ clip: clip.name, code: e.code, message: e.message }, 'the speaker failed');
        this.#o.bus.emit('speaker.fault', { name: clip.name, code: e.code ?? 'unknown', message: e.message ?? '' });
      });
  }

  /** A reminder tone (not in a silent activation) and pulse every `reminderSeconds` until the incident closes. */
  #startReminders(silent: boolean): void {
    this.#stopReminders();
    const every = this.#o.settings.reminderSeconds * 1000;
    if (every <= 0) return;
    this.#reminder = this.#o.clock.setInterval(() => {
      this.#cue('reminder');
      if (!silent) this.#play(this.#o.tones.reminder);
    }, every);
  }

  #stopReminders(): void {
    if (this.#reminder !== null) this.#o.clock.clearInterval(this.#reminder);
    this.#reminder = null;
  }
}
