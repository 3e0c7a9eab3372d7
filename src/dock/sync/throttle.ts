/**
 * A bound on repeated log lines: a hostile camera can send thousands of bad messages a second, and a log line per
 * message would cost more than refusing it. At most `max` lines per kind pass in each window (Clock port time);
 * the first one after a window says how many were held back.
 */
import type { Clock } from '../../hal/clock/port.ts';

interface Window {
  start: number;
  passed: number;
  held: number;
}

export class Throttle {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, Window>();

  constructor(clock: Clock, max = 10, windowMs = 60_000) {
    this.#clock = clock;
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** null when this occurrence of `kind` is held back; else how many were held back before it. */
  pass(kind: string): { held: number } | null {
    const now = this.#clock.now();
    let w = this.#windows.get(kind);
    if (w === undefined || now - w.start >= this.#windowMs) {
      if (this.#windows.size > 10_000) this.#windows.clear();
      w = { start: now, passed: 0, held: w?.held ?? 0 };
      this.#windows.set(kind, w);
    }
    if (w.passed >= this.#max) {
      w.held += 1;
      return null;
    }
    w.passed += 1;
    const held = w.held;
    w.held = 0;
    return { held };
  }
}
