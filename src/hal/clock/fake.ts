import type { Clock, TimerHandle } from './port.ts';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
  /** Repeat period for intervals; undefined for one-shot timers. */
  every: number | undefined;
}

/**
 * A clock that only moves when told to: the stand-in for tests. `advance(ms)` runs every timer that falls due, in
 * due order (ties in creation order), and lets promise callbacks settle between timers, so code that awaits between
 * timer steps behaves as it would in real time, only without waiting.
 */
export class FakeClock implements Clock {
  #now: number;
  #wall: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  constructor(options: { now?: number; wallNow?: number } = {}) {
    this.#now = options.now ?? 0;
    this.#wall = options.wallNow ?? Date.UTC(2026, 0, 1);
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#wall;
  }

  /** Set the wall clock (as NTP or the dock would); the monotonic clock is not affected. */
  setWall(ms: number): void {
    this.#wall = ms;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  clearInterval(handle: TimerHandle): void {
    this.clearTimeout(handle);
  }

  /** Timers still pending. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Move time forward by `ms`, firing what falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#due(end);
      if (next === undefined) break;
      const step = next.at - this.#now;
      this.#now = next.at;
      this.#wall += step;
      if (next.every === undefined) this.#timers.delete(next.id);
      else next.at += next.every;
      next.fn();
    }
    this.#wall += end - this.#now;
    this.#now = end;
    await settle();
  }

  #add(fn: () => void, ms: number, every: number | undefined): number {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn, every });
    return id;
  }

  #due(end: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers.values()) {
      if (t.at <= end && (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    return best;
  }
}

/** Let pending promise callbacks and immediate I/O callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
