import { Subscriptions } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CameraBus, CameraEvents } from '../events.ts';

export interface StealthPolicyOptions {
  bus: CameraBus;
  /** stealth.allowed: only where policy allows it. */
  allowed: boolean;
  /** The reason recorded when the officer enters stealth from the camera. */
  reason: string;
  logger: Logger;
}

/**
 * Stealth mode (no lights, sounds or vibration) where policy allows it: each request toggles it, and entering and
 * leaving are published (and journaled) with the reason. Where it is not allowed the request is refused, logged,
 * and the officer is told by the refusal cue.
 */
export class StealthPolicy {
  readonly #o: StealthPolicyOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #on = false;

  constructor(options: StealthPolicyOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  get on(): boolean {
    return this.#on;
  }

  async start(): Promise<void> {
    this.#subs.on('command.stealth', ({ from }) => {
      if (!this.#o.allowed) {
        this.#o.logger.warn({ from }, "stealth refused: not allowed by this camera's policy (stealth.allowed)");
        this.#o.bus.emit('stealth.refused', { from });
        return;
      }
      this.#on = !this.#on;
      this.#o.logger.warn(
        { from, reason: this.#o.reason },
        this.#on ? 'stealth on: no lights, sounds or vibration' : 'stealth off',
      );
      this.#o.bus.emit('stealth.changed', { on: this.#on, reason: this.#o.reason });
    });
  }

  async stop(): Promise<void> {
    this.#subs.clear();
  }
}
