/**
 * The vibration motor: plays on/off step sequences, one cue at a time (a new cue replaces the one running, unless it
 * asks to follow it).
 */
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';

export class Haptics {
  readonly #set: ((on: boolean) => void) | undefined;
  readonly #clock: Clock;
  #timer: TimerHandle | null = null;
  #last: string | null = null;
  #next: { name: string; steps: readonly number[] } | null = null;

  constructor(set: ((on: boolean) => void) | undefined, clock: Clock) {
    this.#set = set;
    this.#clock = clock;
  }

  /** The last cue played (for status). */
  get last(): string | null {
    return this.#last;
  }

  get active(): boolean {
    return this.#timer !== null;
  }

  /** Plays `steps` now; with `follow`, after the cue running ends (so a start cue is felt whole). */
  play(name: string, steps: readonly number[], follow = false): void {
    if (follow && this.#timer !== null) {
      this.#next = { name, steps };
      return;
    }
    this.#cancel();
    this.#last = name;
    const step = (i: number) => {
      if (i >= steps.length) {
        this.#set?.(false);
        this.#timer = null;
        const next = this.#next;
        this.#next = null;
        if (next !== null) this.#timer = this.#clock.setTimeout(() => this.play(next.name, next.steps), PAUSE_MS);
        return;
      }
      this.#set?.(i % 2 === 0);
      this.#timer = this.#clock.setTimeout(() => step(i + 1), steps[i] ?? 0);
    };
    step(0);
  }

  stop(): void {
    this.#cancel();
    this.#set?.(false);
  }

  #cancel(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#next = null;
  }
}

/** Between a cue and the one that follows it, so the two are felt apart. */
const PAUSE_MS = 400;
