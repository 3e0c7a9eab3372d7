import path from 'node:path';
import type { AudioClip, AudioOutput } from '../../hal/audio/port.ts';
import type { Clock } from '../../hal/clock/port.ts';
import { isBodycamError, isSubsystemError } from '../../lib/errors.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CameraBus, CameraEvents, IncidentStarted, WarningFinished } from '../events.ts';
import type { WarningStore } from '../storage/incidents.ts';
import type { WarningClips } from './prompts.ts';

export interface SpokenWarningOptions {
  bus: CameraBus;
  audio: AudioOutput;
  /** The tone and phrases; null when the warning is disabled (every activation is then recorded as suppressed). */
  clips: WarningClips | null;
  incidents: WarningStore;
  clock: Clock;
  /** Media ms per wall ms of the capture (1 on a camera), to place the warning on the capture timeline. */
  speed: number;
  logger: Logger;
}

/**
 * The spoken warning to the person being filmed: on every activation that is not silent, the attention tone and
 * then the phrase in each configured language, in order, through the speaker. It never delays the recording (it
 * runs after the activation, beside the writes). What was played, when (wall clock and capture timeline) and for how
 * long is written on the incident, so the footage and the record agree; a speaker that fails, or a language whose
 * prompt is missing, is a fault and a warning recorded as partial or failed, never a stopped camera.
 */
export class SpokenWarning {
  readonly #o: SpokenWarningOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #running: Promise<void> = Promise.resolve();

  constructor(options: SpokenWarningOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  async start(): Promise<void> {
    this.#subs.on('incident.started', (e) => {
      this.#running = this.#warn(e);
    });
  }

  /** Stops what is playing; the incident's record then says what was played. */
  async stop(): Promise<void> {
    this.#subs.clear();
    await this.#o.audio.stop();
    await this.#running;
  }

  async #warn(e: IncidentStarted): Promise<void> {
    const { clock, clips, bus } = this.#o;
    if (!e.warning.speak || clips === null) {
      const reason = e.warning.speak ? 'disabled' : e.warning.reason;
      this.#finish({
        incidentId: e.id,
        state: 'suppressed',
        reason,
        startedMediaMs: null,
        startedAt: null,
        durationMs: null,
        languages: [],
      });
      return;
    }
    const queue: Array<{ clip: AudioClip; language: string | null }> = [
      { clip: clips.tone, language: null },
      ...clips.phrases.map((p) => ({ clip: p.clip, language: p.language })),
    ];
    let first: number | null = null;
    let last: number | null = null;
    const languages: string[] = [];
    let failure: string | null = null;
    for (const { clip, language } of queue) {
      try {
        const played = await this.#o.audio.play(clip);
        first ??= played.startedAt;
        last = played.endedAt;
        if (language !== null) languages.push(language);
        bus.emit('audio.played', { name: clip.name, startedAt: played.startedAt, endedAt: played.endedAt });
      } catch (err) {
        if (isBodycamError(err, 'HAL_AUDIO_STOPPED')) {
          failure = 'stopped';
          break;
        }
        const code = isBodycamError(err) ? err.code : 'unknown';
        failure = (err as Error).message;
        this.#o.logger.error(
          { clip: clip.name, code, message: failure },
          'the speaker failed: the warning was not (fully) given',
        );
        bus.emit('speaker.fault', { name: clip.name, code, message: failure });
        break;
      }
    }
    // A language without a prompt was not spoken: the warning is then partial or failed, and says which and why.
    if (failure === null && clips.missing.length > 0) {
      failure = `no prompt for ${clips.missing.map((m) => `${m.language} (${path.basename(m.file)} ${m.problem})`).join(', ')}`;
    }
    const spoken = languages.length;
    const state = spoken === clips.phrases.length && failure === null ? 'given' : spoken > 0 ? 'partial' : 'failed';
    const toWall = (mono: number) => new Date(clock.wallNow() - (clock.now() - mono)).toISOString();
    this.#finish({
      incidentId: e.id,
      state,
      reason: failure,
      startedMediaMs: first === null ? null : e.activationMs + (first - e.atMono) * this.#o.speed,
      startedAt: first === null ? null : toWall(first),
      durationMs: first === null || last === null ? null : Math.round(last - first),
      languages,
    });
  }

  #finish(w: WarningFinished): void {
    try {
      this.#o.incidents.setWarning(w.incidentId, w);
    } catch (e) {
      if (!isSubsystemError(e, 'STORAGE')) throw e;
      this.#o.logger.warn({ incident: w.incidentId, code: e.code }, 'warning outcome not indexed: storage unavailable');
    }
    this.#o.logger.info(
      { incident: w.incidentId, warning: w.state, reason: w.reason, languages: w.languages },
      'warning',
    );
    this.#o.bus.emit('warning.finished', w);
  }
}
