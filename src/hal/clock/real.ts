import type { Clock, TimerHandle } from './port.ts';

type NodeTimer = ReturnType<typeof globalThis.setTimeout>;

/**
 * The process clock: performance.now() is monotonic, Date.now() is the wall clock. Tests hand components the fake
 * clock (`fake.ts`) instead; they never replace these globals.
 */
export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle) => globalThis.clearTimeout(handle as NodeTimer),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (handle: TimerHandle) => globalThis.clearInterval(handle as NodeTimer),
};
