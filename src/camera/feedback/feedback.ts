import type { Clock } from '../../hal/clock/port.ts';
import type { GpioDriver } from '../../hal/gpio/port.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import type { CameraBus, CameraEvents } from '../events.ts';
import { type Indication, type LedSetter, StatusLeds } from './leds.ts';

export interface OutputLine {
  pin: number;
  activeLow: boolean;
}

export interface FeedbackOptions {
  bus: CameraBus;
  gpio: GpioDriver;
  /** Output lines by name from the config (`ledRed`, `ledGreen`, …); a board without one skips it. */
  outputs: Readonly<Record<string, OutputLine>>;
  clock: Clock;
}

/**
 * What the officer sees: green on standby, red while recording, blinking red after a storage fault until the next
 * state change. Driven by recorder events only.
 */
export class Feedback {
  readonly #o: FeedbackOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #leds: StatusLeds | null = null;

  constructor(options: FeedbackOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  /** What the LEDs show now; null before start. */
  get indication(): Indication | null {
    return this.#leds?.current ?? null;
  }

  async start(): Promise<void> {
    const setters = new Map<string, LedSetter>();
    for (const [name, line] of Object.entries(this.#o.outputs)) {
      setters.set(name, await this.#o.gpio.openOutput({ name, pin: line.pin, activeLow: line.activeLow }));
    }
    const leds = new StatusLeds({ red: setters.get('ledRed'), green: setters.get('ledGreen'), clock: this.#o.clock });
    this.#leds = leds;
    // Dark until the capture first delivers: a green light promises a camera that is buffering.
    this.#subs.on('capture.state', ({ state }) => {
      if (state === 'running' && leds.current === null) leds.show('standby');
    });
    this.#subs.on('recorder.state', ({ state }) => leds.show(state === 'buffering' ? 'standby' : 'recording'));
    // Storage trouble is the officer's to know, not to guess.
    this.#subs.on('storage.fault', () => leds.show('fault'));
  }

  async stop(): Promise<void> {
    this.#subs.clear();
    this.#leds?.stop();
  }
}
