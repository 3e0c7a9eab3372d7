import { Subscriptions } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CameraBus, CameraEvents, WarningPlan } from '../events.ts';
import type { PreRecordRing } from '../media/ring.ts';
import { type InitSegment, sameInit } from '../media/types.ts';
import type { Recorder } from './recorder.ts';

export interface ActivationOptions {
  bus: CameraBus;
  ring: PreRecordRing;
  recorder: Recorder;
  /** Where "now" falls on the capture timeline (the capture's media clock). */
  mediaNowMs: () => number;
  prerollMs: number;
  /** warning.enabled: false means no activation speaks (recorded as suppressed: disabled). */
  warningEnabled: boolean;
  /** The monotonic clock, and where "first footage durable" goes (activation to first synced fragment, ms). */
  now?: () => number;
  logger?: Logger;
}

/**
 * Feeds the pre-record ring and turns start and stop commands into recorder calls: on a start, the ring's pre-roll
 * (from the latest keyframe at least `prerollMs` before now) opens the incident. Fragments and commands both
 * arrive on the event loop, so an activation always falls between two fragments.
 */
export class Activation {
  readonly #o: ActivationOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #init: InitSegment | null = null;
  #stealth = false;
  /** The incident whose first synced footage is awaited, with its activation time (monotonic ms). */
  #awaitingFirst: { id: string; atMono: number } | null = null;

  constructor(options: ActivationOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  async start(): Promise<void> {
    const { ring } = this.#o;
    this.#subs.on('capture.init', (init) => {
      // Fragments only play after the init they came with: another one makes the pre-roll held so far unusable.
      if (this.#init !== null && !sameInit(this.#init, init)) ring.clear();
      this.#init = init;
    });
    this.#subs.on('capture.fragment', (f) => ring.push(f));
    this.#subs.on('command.start', ({ trigger, silent }) => {
      this.activate(trigger, silent);
    });
    this.#subs.on('stealth.changed', ({ on }) => {
      this.#stealth = on;
    });
    this.#subs.on('command.stop', ({ reason }) => {
      this.stopRecording(reason);
    });
    this.#subs.on('incident.started', ({ id, atMono }) => {
      this.#awaitingFirst = { id, atMono };
    });
    this.#subs.on('segment.synced', ({ incidentId, endMs }) => {
      const a = this.#awaitingFirst;
      if (a === null || a.id !== incidentId || this.#o.now === undefined) return;
      this.#awaitingFirst = null;
      const ms = Math.round(this.#o.now() - a.atMono);
      this.#o.logger?.info({ incident: incidentId, ms, endMs }, 'first footage durable');
    });
  }

  async stop(): Promise<void> {
    this.#subs.clear();
    this.#o.ring.clear();
  }

  /**
   * Start an incident from the ring's pre-roll; null while one is open or when the index cannot take it. `silent`
   * (a reason code) starts it without the spoken warning, as stealth and a disabled warning do.
   */
  activate(trigger: string, silent?: string): string | null {
    const { recorder, ring } = this.#o;
    if (recorder.state === 'recording') return null;
    const activationMs = this.#o.mediaNowMs();
    const selected = ring.selectPreroll(activationMs);
    return recorder.activate({
      trigger,
      activationMs,
      requestedPrerollMs: this.#o.prerollMs,
      preroll: selected.fragments,
      warning: this.#warningPlan(silent),
    });
  }

  #warningPlan(silent: string | undefined): WarningPlan {
    if (silent !== undefined) return { speak: false, reason: silent };
    if (this.#stealth) return { speak: false, reason: 'stealth' };
    if (!this.#o.warningEnabled) return { speak: false, reason: 'disabled' };
    return { speak: true };
  }

  /** Place a stop at the current media position; false when not recording. */
  stopRecording(reason: string): boolean {
    return this.#o.recorder.requestStop(reason, this.#o.mediaNowMs());
  }

  /** Close an open incident at the current media position while capture still runs (shutdown order). */
  async finish(): Promise<void> {
    await this.#o.recorder.shutdown(this.#o.mediaNowMs());
  }
}
