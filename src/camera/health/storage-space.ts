import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import type { CameraBus, CameraEvents, StorageLevel } from '../events.ts';
import type { StorageBudget } from './storage-budget.ts';

export interface StorageSpaceOptions {
  bus: CameraBus;
  budget: StorageBudget;
  clock: Clock;
  everyMs?: number;
}

/**
 * Watches the evidence storage in minutes of recording left (docs/design.md §18) and publishes `health.storage`
 * when its level changes, so the officer sees low or full storage before recording stops. It looks again at once
 * after a failed write, a refused activation, a recording that reached the reserve and an offload (space freed),
 * and then publishes even an unchanged level, since the LEDs may have shown full meanwhile.
 */
export class StorageSpace {
  readonly #o: StorageSpaceOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #timer: TimerHandle | null = null;
  #level: StorageLevel | null = null;

  constructor(options: StorageSpaceOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  async start(): Promise<void> {
    this.check();
    this.#timer = this.#o.clock.setInterval(() => this.check(), this.#o.everyMs ?? 10_000);
    this.#subs.on('storage.fault', () => this.check(true));
    this.#subs.on('activation.refused', () => this.check(true));
    this.#subs.on('offload.done', () => this.check(true));
    this.#subs.on('incident.closed', ({ reason }) => this.check(reason === 'storage-full'));
  }

  async stop(): Promise<void> {
    this.#subs.clear();
    if (this.#timer !== null) this.#o.clock.clearInterval(this.#timer);
    this.#timer = null;
  }

  check(publish = false): void {
    if (!this.#o.budget.refresh()) return; // unreadable: the write failures themselves will say so
    const view = this.#o.budget.view();
    if (view.level === this.#level && !publish) return;
    this.#level = view.level;
    this.#o.bus.emit('health.storage', {
      level: view.level,
      freeBytes: view.freeBytes,
      reserveBytes: view.reserveBytes,
      minutesLeft: view.minutesLeft,
    });
  }
}
