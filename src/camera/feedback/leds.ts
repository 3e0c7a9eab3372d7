/** Drives the red and green LEDs from a plan, blinking each on its own steps with the injected clock. */
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { LED_STEPS, type LedMode, type LedPlan } from './patterns.ts';

export type LineSetter = (on: boolean) => void;

class BlinkingLine {
  readonly #set: LineSetter | undefined;
  readonly #clock: Clock;
  #mode: LedMode = 'off';
  #timer: TimerHandle | null = null;

  constructor(set: LineSetter | undefined, clock: Clock) {
    this.#set = set;
    this.#clock = clock;
  }

  show(mode: LedMode): void {
    if (mode === this.#mode && this.#timer !== null) return;
    this.#cancel();
    this.#mode = mode;
    const steps = LED_STEPS[mode];
    if (steps.length === 0) {
      this.#set?.(mode === 'on');
      return;
    }
    const step = (i: number) => {
      this.#set?.(i % 2 === 0);
      this.#timer = this.#clock.setTimeout(() => step((i + 1) % steps.length), steps[i] ?? 0);
    };
    step(0);
  }

  off(): void {
    this.#cancel();
    this.#mode = 'off';
    this.#set?.(false);
  }

  #cancel(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/** The two status LEDs; a board without one of them just skips it. */
export class StatusLeds {
  readonly #red: BlinkingLine;
  readonly #green: BlinkingLine;
  #plan: LedPlan | null = null;

  constructor(options: { red: LineSetter | undefined; green: LineSetter | undefined; clock: Clock }) {
    this.#red = new BlinkingLine(options.red, options.clock);
    this.#green = new BlinkingLine(options.green, options.clock);
  }

  get plan(): LedPlan | null {
    return this.#plan;
  }

  show(plan: LedPlan): void {
    const was = this.#plan;
    this.#plan = plan;
    if (was?.red !== plan.red) this.#red.show(plan.red);
    if (was?.green !== plan.green) this.#green.show(plan.green);
  }

  stop(): void {
    this.#red.off();
    this.#green.off();
    this.#plan = null;
  }
}
