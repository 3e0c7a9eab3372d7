import type { Clock } from '../../hal/clock/port.ts';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';

export const DEFAULT_DEBOUNCE_MS = 30;

export interface DebouncerOptions {
  /** How long a new level must hold before it counts (ms, default 30). 0 passes every level change at once. */
  debounceMs?: number;
  /** Level assumed before the first edge (default false: released). */
  initial?: boolean;
  clock: Clock;
  /**
   * Receives each accepted level. `atMs` is the time of the raw edge that began the stable level, not the time it
   * was accepted, so press durations and hold deadlines are measured from when the finger actually moved.
   */
  onStable: (active: boolean, atMs: number) => void;
}

/**
 * Contact-bounce filter for one line. Raw edges arrive from the driver; a level is accepted only after it stayed
 * unchanged for `debounceMs`. Shorter glitches (a bounce, a knock on the holster) are dropped. We debounce in
 * software rather than in the driver so all three drivers behave the same and the logic is testable with fake time.
 */
export class Debouncer {
  readonly #debounceMs: number;
  readonly #clock: Clock;
  readonly #onStable: (active: boolean, atMs: number) => void;
  #stable: boolean;
  #pending: boolean;
  #pendingSince = 0;
  #timer: unknown;

  constructor(opts: DebouncerOptions) {
    const ms = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    if (!Number.isFinite(ms) || ms < 0) {
      throw new BodycamError(ErrorCode.CONFIG_INVALID, `debounceMs must be a number ≥ 0, got ${ms}`, {
        key: 'debounceMs',
      });
    }
    this.#debounceMs = ms;
    this.#clock = opts.clock;
    this.#onStable = opts.onStable;
    this.#stable = opts.initial ?? false;
    this.#pending = this.#stable;
  }

  /** The last accepted level. */
  get level(): boolean {
    return this.#stable;
  }

  /** Feed one raw edge. Repeated reports of the same raw level do not restart the quiet period. */
  input(active: boolean, atMs: number = this.#clock.now()): void {
    if (active === this.#pending) return;
    this.#pending = active;
    this.#pendingSince = atMs;
    this.#cancel();
    if (active === this.#stable) return; // the glitch ended before it was accepted
    if (this.#debounceMs === 0) {
      this.#accept();
      return;
    }
    const wait = Math.max(0, atMs + this.#debounceMs - this.#clock.now());
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#accept();
    }, wait);
  }

  /** Drop any level still waiting for its quiet period. */
  dispose(): void {
    this.#cancel();
    this.#pending = this.#stable;
  }

  #accept(): void {
    this.#stable = this.#pending;
    this.#onStable(this.#stable, this.#pendingSince);
  }

  #cancel(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
