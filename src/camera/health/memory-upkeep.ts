import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import { collectGarbage } from '../../lib/memory.ts';
import type { CameraBus, CameraEvents } from '../events.ts';

export interface MemoryUpkeepOptions {
  bus: CameraBus;
  clock: Clock;
  /** A full garbage collection (default src/lib/memory.ts `collectGarbage`, which needs the daemon's `--expose-gc`). */
  collect?: () => unknown;
  /** How long after a recording stops: its closing manifest and audit lines are written by then. */
  settleMs?: number;
}

/** Two seconds: the closing writes after `incident.closed` take a few tens of milliseconds on a card. */
export const SETTLE_MS = 2000;

/**
 * Gives back what a recording leaves behind once it has stopped: one full garbage collection, SETTLE_MS after an
 * incident closes (one for several closed meanwhile). A recording's last seconds leave some 6 MB of dead Buffers
 * (its sealed segments' and manifests' last pieces) that V8, which looks at external memory only past some 64 MB,
 * would otherwise keep for as long as the camera buffers: at 720p the daemon stayed at ~96.6 MB after a recording
 * against 89.9 MB with this (`npm run bench:docked`, docs/benchmarks.md), its budget 90.1 MB.
 */
export class MemoryUpkeep {
  readonly #o: MemoryUpkeepOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #timer: TimerHandle | null = null;

  constructor(options: MemoryUpkeepOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  async start(): Promise<void> {
    this.#subs.on('incident.closed', () => {
      if (this.#timer !== null) return;
      this.#timer = this.#o.clock.setTimeout(() => {
        this.#timer = null;
        (this.#o.collect ?? collectGarbage)();
      }, this.#o.settleMs ?? SETTLE_MS);
    });
  }

  async stop(): Promise<void> {
    this.#subs.clear();
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
