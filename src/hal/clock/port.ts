/**
 * The clock port. Components take a Clock (never read time or set timers through globals inside logic), so
 * debounce, press patterns, capture backoff and stall detection, stop timeouts, blink patterns and reminders run
 * under fake time in tests and in real time on the camera with the same code.
 */

/** A timer handle; only the clock that made it can clear it. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds on a monotonic clock (never jumps with NTP or RTC corrections). */
  now(): number;
  /** Wall-clock time, ms since the Unix epoch (may jump when the clock is set; never use it for intervals). */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}
