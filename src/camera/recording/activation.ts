import { Subscriptions } from '../../lib/event-bus.ts';
import type { CameraBus, CameraEvents } from '../events.ts';
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
    this.#subs.on('command.start', ({ trigger }) => {
      this.activate(trigger);
    });
    this.#subs.on('command.stop', ({ reason }) => {
      this.stopRecording(reason);
    });
  }

  async stop(): Promise<void> {
    this.#subs.clear();
    this.#o.ring.clear();
  }

  /** Start an incident from the ring's pre-roll; null while one is open or when the index cannot take it. */
  activate(trigger: string): string | null {
    const { recorder, ring } = this.#o;
    if (recorder.state === 'recording') return null;
    const activationMs = this.#o.mediaNowMs();
    const selected = ring.selectPreroll(activationMs);
    return recorder.activate({
      trigger,
      activationMs,
      requestedPrerollMs: this.#o.prerollMs,
      preroll: selected.fragments,
    });
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
