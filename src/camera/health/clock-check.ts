import { existsSync } from 'node:fs';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import type { CameraBus, ClockSource, ClockState } from '../events.ts';

/**
 * A wall clock before this is unset: a Pi has no battery-backed clock, and until NTP or the dock sets it, it
 * starts near its image's build date or 1970. Footage stamped then would carry the wrong times.
 */
export const EARLIEST_PLAUSIBLE_MS = Date.UTC(2026, 0, 1);

export function clockState(wallMs: number): ClockState {
  return wallMs < EARLIEST_PLAUSIBLE_MS ? 'unset' : 'ok';
}

/** Where a plausible wall clock came from: systemd-timesyncd's flag for NTP, else a hardware RTC, else unknown. */
export function detectClockSource(state: ClockState, exists: (p: string) => boolean = existsSync): ClockSource {
  if (state === 'unset') return 'unset';
  if (exists('/run/systemd/timesync/synchronized')) return 'ntp';
  if (exists('/dev/rtc0')) return 'rtc';
  return 'system';
}

/** Publishes `health.clock` at start and whenever the wall clock becomes set or unset. */
export class ClockCheck {
  readonly #bus: CameraBus;
  readonly #clock: Clock;
  readonly #everyMs: number;
  #timer: TimerHandle | null = null;
  #state: ClockState | null = null;

  constructor(options: { bus: CameraBus; clock: Clock; everyMs?: number }) {
    this.#bus = options.bus;
    this.#clock = options.clock;
    this.#everyMs = options.everyMs ?? 30_000;
  }

  async start(): Promise<void> {
    this.check();
    this.#timer = this.#clock.setInterval(() => this.check(), this.#everyMs);
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) this.#clock.clearInterval(this.#timer);
    this.#timer = null;
  }

  check(): void {
    const wallMs = this.#clock.wallNow();
    const state = clockState(wallMs);
    if (state === this.#state) return;
    this.#state = state;
    this.#bus.emit('health.clock', { state, source: detectClockSource(state), wallMs });
  }
}
