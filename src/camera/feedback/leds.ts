/**
 * Status LEDs. Belgian law (police function act, art. 25/3) wants a red light while recording and green on
 * standby; a fault blinks red so the officer sees the camera needs attention.
 */
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';

export type Indication = 'standby' | 'recording' | 'fault';
export type LedMode = 'on' | 'off' | 'blink';

export interface LedPattern {
  red: LedMode;
  green: LedMode;
}

/** What each indication shows; pure, tested as a table. */
export function ledPattern(indication: Indication): LedPattern {
  switch (indication) {
    case 'standby':
      return { red: 'off', green: 'on' };
    case 'recording':
      return { red: 'on', green: 'off' };
    case 'fault':
      return { red: 'blink', green: 'off' };
    default: {
      const never: never = indication;
      return never;
    }
  }
}

export type LedSetter = (on: boolean) => void;

export interface StatusLedsOptions {
  red: LedSetter | undefined;
  green: LedSetter | undefined;
  clock: Clock;
  blinkMs?: number;
}

/** Drives the two LEDs from an indication; a board without one of them just skips it. */
export class StatusLeds {
  readonly #o: StatusLedsOptions;
  #timer: TimerHandle | null = null;
  #phase = false;
  #current: Indication | null = null;

  constructor(options: StatusLedsOptions) {
    this.#o = options;
  }

  get current(): Indication | null {
    return this.#current;
  }

  show(indication: Indication): void {
    if (indication === this.#current) return;
    this.#current = indication;
    this.#stopBlink();
    const p = ledPattern(indication);
    const apply = (phase: boolean) => {
      this.#o.red?.(p.red === 'on' || (p.red === 'blink' && phase));
      this.#o.green?.(p.green === 'on' || (p.green === 'blink' && phase));
    };
    apply(true);
    if (p.red === 'blink' || p.green === 'blink') {
      this.#phase = true;
      this.#timer = this.#o.clock.setInterval(() => {
        this.#phase = !this.#phase;
        apply(this.#phase);
      }, this.#o.blinkMs ?? 250);
    }
  }

  stop(): void {
    this.#stopBlink();
    this.#o.red?.(false);
    this.#o.green?.(false);
    this.#current = null;
  }

  #stopBlink(): void {
    if (this.#timer !== null) this.#o.clock.clearInterval(this.#timer);
    this.#timer = null;
  }
}
