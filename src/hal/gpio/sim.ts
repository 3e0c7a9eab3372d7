import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { Clock } from '../clock/port.ts';
import type { EdgeHandler, GpioDriver, InputLineSpec, OutputLineSpec } from './port.ts';

export interface SimGpioOptions {
  clock: Clock;
  /** How long `press` keeps each press down (ms, default 120: a brisk human press). */
  pressMs?: number;
  /** Release gap between presses of one `press` call (ms, default 150). */
  gapMs?: number;
}

export interface PressOptions {
  /** Number of presses (default 1). */
  count?: number;
  /** Keep the last press down this long instead of `pressMs` (a hold). */
  holdMs?: number;
  /** Release gap between presses (default: the driver's `gapMs`). */
  gapMs?: number;
}

export type OutputListener = (name: string, active: boolean, atMs: number) => void;

interface SimInput {
  spec: InputLineSpec;
  onEdge: EdgeHandler;
  level: boolean;
}

/**
 * In-memory GPIO for tests, the demo and `bodycam ctl press`. Injected edges go through the same handler a hardware
 * driver would call, so everything above the port (debounce, patterns, recorder) runs unchanged.
 */
export class SimGpio implements GpioDriver {
  readonly kind = 'sim';
  readonly #clock: Clock;
  readonly #pressMs: number;
  readonly #gapMs: number;
  readonly #inputs = new Map<string, SimInput>();
  readonly #outputs = new Map<string, { spec: OutputLineSpec; active: boolean }>();
  readonly #listeners = new Set<OutputListener>();
  /** Pending `press` sleeps, so `close()` can end them instead of leaving timers behind. */
  readonly #sleeps = new Map<unknown, () => void>();
  #closed = false;

  constructor(opts: SimGpioOptions) {
    this.#clock = opts.clock;
    this.#pressMs = opts.pressMs ?? 120;
    this.#gapMs = opts.gapMs ?? 150;
  }

  async openInput(spec: InputLineSpec, onEdge: EdgeHandler): Promise<void> {
    this.#claim(spec.name, spec.pin);
    this.#inputs.set(spec.name, { spec, onEdge, level: false });
  }

  async openOutput(spec: OutputLineSpec): Promise<(active: boolean) => void> {
    this.#claim(spec.name, spec.pin);
    const line = { spec, active: false };
    this.#outputs.set(spec.name, line);
    return (active) => {
      if (this.#outputs.get(spec.name) !== line) return; // closed: a late LED update is harmless
      line.active = active;
      const at = this.#clock.now();
      for (const cb of this.#listeners) cb(spec.name, active, at);
    };
  }

  /** Inject one raw edge on an input, now. Repeated levels are passed on too, as a bouncing contact would. */
  set(name: string, active: boolean): void {
    const input = this.#input(name);
    input.level = active;
    input.onEdge(active, this.#clock.now());
  }

  /** Current raw level of an input (undefined when no such input is open). */
  inputState(name: string): boolean | undefined {
    return this.#inputs.get(name)?.level;
  }

  /** Play presses in (injected) real time: down `pressMs`, up `gapMs` (after the last one too), the last one down
   * `holdMs` if given. */
  async press(name: string, opts: PressOptions = {}): Promise<void> {
    this.#input(name);
    const count = opts.count ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new BodycamError(ErrorCode.HAL_GPIO_LINE, `press count must be a whole number ≥ 1, got ${count}`);
    }
    const gap = opts.gapMs ?? this.#gapMs;
    for (let i = 1; i <= count; i++) {
      if (this.#closed) return;
      this.set(name, true);
      await this.#sleep(i === count && opts.holdMs !== undefined ? opts.holdMs : this.#pressMs);
      if (this.#closed) return;
      this.set(name, false);
      // After the last release too: the next `press` (another ctl command) comes no sooner than a person's next
      // press could, instead of within the debounce time of this release, where the two would merge into one.
      await this.#sleep(gap);
    }
  }

  outputState(name: string): boolean | undefined {
    return this.#outputs.get(name)?.active;
  }

  /** Observe output changes (LEDs, haptic). Returns the unsubscribe function. */
  onOutput(cb: OutputListener): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const [handle, resolve] of this.#sleeps) {
      this.#clock.clearTimeout(handle);
      resolve();
    }
    this.#sleeps.clear();
    this.#inputs.clear();
    this.#outputs.clear();
    this.#listeners.clear();
  }

  #input(name: string): SimInput {
    const input = this.#inputs.get(name);
    if (input === undefined) {
      const known = [...this.#inputs.keys()];
      throw new BodycamError(
        ErrorCode.HAL_GPIO_LINE,
        `unknown input line '${name}'; known: ${known.length > 0 ? known.join(', ') : '(none open)'}`,
        { line: name, known },
      );
    }
    return input;
  }

  #claim(name: string, pin: number): void {
    if (this.#closed) throw new BodycamError(ErrorCode.HAL_GPIO_LINE, `sim GPIO is closed; cannot open '${name}'`);
    for (const line of [...this.#inputs.values(), ...this.#outputs.values()]) {
      if (line.spec.name === name || line.spec.pin === pin) {
        throw new BodycamError(
          ErrorCode.HAL_GPIO_LINE,
          `line '${name}' (BCM ${pin}) clashes with open line '${line.spec.name}' (BCM ${line.spec.pin})`,
          { line: name, pin },
        );
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.#clock.setTimeout(() => {
        this.#sleeps.delete(handle);
        resolve();
      }, ms);
      this.#sleeps.set(handle, resolve);
    });
  }
}
