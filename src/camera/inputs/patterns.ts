import type { Clock } from '../../hal/clock/port.ts';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';

export type Pattern = 'single' | 'double' | 'hold';

export interface PatternConfig {
  /** Which pattern starts a recording; the detector still reports all three (stop, mark, … use the others). */
  startPattern: Pattern;
  /** Longest gap from a release to the next press that still makes a double press (ms). */
  multiPressWindowMs: number;
  /** A press held longer than this is not a press; it can only become a hold (ms). */
  maxPressMs: number;
  /** Holding this long fires `hold` while the button is still down (ms). Must exceed `maxPressMs`. */
  holdMs: number;
}

export const DEFAULT_PATTERN_CONFIG: Readonly<PatternConfig> = {
  startPattern: 'double',
  multiPressWindowMs: 600,
  maxPressMs: 800,
  holdMs: 3000,
};

export interface PatternEvent {
  pattern: Pattern;
  /** When the pattern became certain (monotonic ms). */
  atMs: number;
  /** True when this pattern is the configured start pattern. */
  start: boolean;
}

export interface PressPatternOptions {
  config?: Partial<PatternConfig>;
  clock: Clock;
  onPattern: (event: PatternEvent) => void;
}

/** Reject configs whose patterns could not be told apart, naming the key. */
export function validatePatternConfig(c: PatternConfig): void {
  for (const key of ['multiPressWindowMs', 'maxPressMs', 'holdMs'] as const) {
    if (!Number.isFinite(c[key]) || c[key] <= 0) {
      throw new BodycamError(ErrorCode.CONFIG_INVALID, `${key} must be > 0, got ${c[key]}`, { key });
    }
  }
  if (c.holdMs <= c.maxPressMs) {
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `holdMs (${c.holdMs}) must exceed maxPressMs (${c.maxPressMs})`, {
      key: 'holdMs',
    });
  }
}

/**
 * Turns debounced edges of one button into `single`, `double` and `hold`.
 *
 * - `hold` fires while the button is down, once it has been down for `holdMs`; its release then emits nothing.
 * - A press longer than `maxPressMs` is not a press: it ends any sequence in progress (a lone earlier press is
 *   reported as `single` at that moment) and, if released before `holdMs`, emits nothing.
 * - `double` fires on the second press's release, provided it came within `multiPressWindowMs` of the first release.
 * - A lone press fires `single` only once the window expired, so it can never be the start of a double.
 * - A third quick press begins a new sequence: a triple press reports `double`, then `single`. Reporting `double`
 *   at once keeps activation fast; making the officer's extra press cancel it would be worse under stress.
 *
 * Edges carry their raw times (see Debouncer), which may lie slightly before `clock.now()`; deadlines are computed
 * from those times, so the effective window shrinks by the debounce delay (30 ms against 600 ms by default).
 */
export class PressPatternDetector {
  readonly config: Readonly<PatternConfig>;
  readonly #clock: Clock;
  readonly #onPattern: (event: PatternEvent) => void;
  /** Completed short presses in the current sequence (0 or 1: the second one fires `double` at once). */
  #count = 0;
  #down = false;
  #downAt = 0;
  /** The current press is past `maxPressMs`: it is a would-be hold, not a press. */
  #long = false;
  #timer: unknown;

  constructor(opts: PressPatternOptions) {
    this.config = { ...DEFAULT_PATTERN_CONFIG, ...opts.config };
    validatePatternConfig(this.config);
    this.#clock = opts.clock;
    this.#onPattern = opts.onPattern;
  }

  /** Feed one debounced edge. */
  edge(active: boolean, atMs: number = this.#clock.now()): void {
    if (active === this.#down) return; // a repeated level carries no information
    this.#down = active;
    this.#cancel();
    if (active) {
      this.#downAt = atMs;
      this.#long = false;
      this.#schedule(atMs + this.config.maxPressMs, () => this.#pressTooLong());
      return;
    }
    if (this.#long) {
      this.#long = false;
      return;
    }
    this.#count += 1;
    if (this.#count >= 2) {
      this.#count = 0;
      this.#emit('double', atMs);
      return;
    }
    const deadline = atMs + this.config.multiPressWindowMs;
    this.#schedule(deadline, () => {
      this.#count = 0;
      this.#emit('single', deadline);
    });
  }

  /** Forget the sequence in progress and cancel its timer (on stop, or when the line is closed). */
  reset(): void {
    this.#cancel();
    this.#count = 0;
    this.#down = false;
    this.#long = false;
  }

  #pressTooLong(): void {
    this.#long = true;
    const at = this.#downAt + this.config.maxPressMs;
    if (this.#count === 1) {
      this.#count = 0;
      this.#emit('single', at);
    }
    const holdAt = this.#downAt + this.config.holdMs;
    this.#schedule(holdAt, () => this.#emit('hold', holdAt));
  }

  #emit(pattern: Pattern, atMs: number): void {
    this.#onPattern({ pattern, atMs, start: pattern === this.config.startPattern });
  }

  #schedule(deadline: number, fn: () => void): void {
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        fn();
      },
      Math.max(0, deadline - this.#clock.now()),
    );
  }

  #cancel(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}

export type EdgeKind = 'rising' | 'falling' | 'both';

/** Whether a change to `active` is an edge of the wanted kind (levels are logical: rising = became active). */
export function isWantedEdge(edge: EdgeKind, active: boolean): boolean {
  return edge === 'both' || (edge === 'rising') === active;
}
