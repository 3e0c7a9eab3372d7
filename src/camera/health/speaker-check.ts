import type { AudioOutput } from '../../hal/audio/port.ts';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { isBodycamError } from '../../lib/errors.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CameraBus, CameraEvents, RecorderState } from '../events.ts';

export interface SpeakerCheckOptions {
  bus: CameraBus;
  audio: AudioOutput;
  clock: Clock;
  /** Check again this often in standby; 0: only at start. */
  everyMs: number;
  logger: Logger;
}

export type SpeakerVerdict = { state: 'ok' | 'fault'; code: string; message: string } | null;

/**
 * What a check's outcome means: a stopped check (the daemon stopping, stealth silencing the speaker) says nothing;
 * anything else that failed is a fault.
 */
export function speakerVerdict(outcome: { ok: true } | { ok: false; error: unknown }): SpeakerVerdict {
  if (outcome.ok) return { state: 'ok', code: '', message: '' };
  if (isBodycamError(outcome.error, 'HAL_AUDIO_STOPPED')) return null;
  const code = isBodycamError(outcome.error) ? outcome.error.code : 'unknown';
  return { state: 'fault', code, message: (outcome.error as Error).message ?? String(outcome.error) };
}

/**
 * Checks the speaker path at start and then periodically in standby (never while recording, when the warning and
 * the reminders use it and show its faults themselves), so a missing or failing speaker shows before the officer
 * needs it. Publishes `health.speaker` when the verdict changes.
 */
export class SpeakerCheck {
  readonly #o: SpeakerCheckOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #timer: TimerHandle | null = null;
  #recorder: RecorderState = 'buffering';
  #state: 'ok' | 'fault' | null = null;
  #running: Promise<void> | null = null;

  constructor(options: SpeakerCheckOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  async start(): Promise<void> {
    this.#subs.on('recorder.state', ({ state }) => {
      this.#recorder = state;
    });
    // A clip that played, or failed, says the same as a check: the next check starts from what it said.
    this.#subs.on('audio.played', () => {
      this.#state = 'ok';
    });
    this.#subs.on('speaker.fault', () => {
      this.#state = 'fault';
    });
    void this.check();
    if (this.#o.everyMs > 0) this.#timer = this.#o.clock.setInterval(() => void this.check(), this.#o.everyMs);
  }

  async stop(): Promise<void> {
    this.#subs.clear();
    if (this.#timer !== null) this.#o.clock.clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** One check, unless one is running or a recording is. */
  check(): Promise<void> {
    if (this.#running !== null || this.#recorder !== 'buffering') return this.#running ?? Promise.resolve();
    this.#running = this.#o.audio
      .check()
      .then(
        () => speakerVerdict({ ok: true }),
        (error: unknown) => speakerVerdict({ ok: false, error }),
      )
      .then((verdict) => {
        this.#running = null;
        if (verdict === null || verdict.state === this.#state) return;
        this.#state = verdict.state;
        if (verdict.state === 'fault') this.#o.logger.error({ message: verdict.message }, 'the speaker check failed');
        else this.#o.logger.info('the speaker works again');
        this.#o.bus.emit('health.speaker', verdict);
      });
    return this.#running;
  }
}
