import type { Clock, TimerHandle } from './port.ts';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
  /** Repeat period for intervals; undefined for one-shot timers. */
  every: number | undefined;
}

/**
 * A clock that only moves when told to: the stand-in for tests, and the one fake time of the project. `advance(ms)`
 * runs every timer that falls due, in due order (ties in creation order), and between timers lets promise callbacks
 * settle and the file operations under way finish (a speaker file written, a segment fsynced), so code that awaits
 * real file I/O between timer steps behaves as it would in real time, only without waiting.
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

/**
 * libuv requests of file operations (fs and fs/promises, a FileHandle's close). While one is under way, its callback
 * (and whatever the code does next) has not run yet.
 */
const FILE_REQUESTS = new Set(['FSReqCallback', 'FSReqPromise', 'CloseReq', 'FileHandleCloseReq']);

/** A file operation that takes longer than this is stuck (a FIFO nobody writes): fail loudly rather than hang. */
const STUCK_MS = 10_000;

/**
 * Lets pending promise callbacks and immediate callbacks run, then waits (one event-loop turn at a time) until no
 * file operation is under way. The continuation of a finished operation runs before the next turn, so a chain of
 * file operations (write, fsync, rename, the index row) is followed to its end.
 */
async function settle(): Promise<void> {
  const started = performance.now();
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    const busy = process.getActiveResourcesInfo().filter((r) => FILE_REQUESTS.has(r));
    if (busy.length === 0) return;
    if (performance.now() - started > STUCK_MS) {
      throw new Error(`FakeClock: file operations still under way after ${STUCK_MS} ms: ${busy.join(', ')}`);
    }
  }
}
