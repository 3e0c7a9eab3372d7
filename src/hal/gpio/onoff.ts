import { BodycamError, ErrorCode, errnoCode } from '../../lib/errors.ts';
import type { Clock } from '../clock/port.ts';
import { realClock } from '../clock/real.ts';
import { type GpioChip, noHeaderChip, pickLabelled, readSysfsChips } from './chips.ts';
import type { EdgeHandler, GpioDriver, InputLineSpec, OutputLineSpec } from './port.ts';

export const SYSFS_GPIO_ROOT = '/sys/class/gpio';

export type { GpioChip } from './chips.ts';

/**
 * The sysfs base of the header's chip, found by its label (`label`, else the first of HEADER_LABELS present).
 * Kernels ≥ 6.6 number sysfs lines from 512 (Pi 4) or 571 (Pi 5), so the plain BCM number fails with EINVAL; older
 * kernels start at 0. No labelled chip: HAL_GPIO_UNAVAILABLE naming the chips found (never a guess: another chip's
 * line N is another device's pin).
 */
export function headerChipBase(chips: readonly GpioChip[], label?: string): number {
  const chip = pickLabelled(chips, label);
  if (chip === null)
    throw noHeaderChip(
      label,
      chips.map((c) => ({ name: `sysfs base ${c.base}`, label: c.label })),
    );
  return chip.base;
}

/** Read every gpiochip under a sysfs root (a parameter so tests can point it at a temp dir). */
export async function readGpioChips(root: string = SYSFS_GPIO_ROOT): Promise<GpioChip[]> {
  try {
    return (await readSysfsChips(root)).map(({ base, ngpio, label }) => ({ base, ngpio, label }));
  } catch (e) {
    throw new BodycamError(
      ErrorCode.HAL_GPIO_UNAVAILABLE,
      `no sysfs GPIO at ${root} (${errnoCode(e) ?? 'unreadable'}): this kernel lacks CONFIG_GPIO_SYSFS or this is not a Pi; set gpio.driver to gpiox (Pi 5) or sim`,
      { root },
      { cause: e },
    );
  }
}

/** The subset of onoff's `Gpio` we use; declared here so tests can hand in a stand-in. */
export interface OnoffGpioLine {
  watch(cb: (err: Error | null | undefined, value: 0 | 1) => void): void;
  writeSync(value: 0 | 1): void;
  unwatchAll(): void;
  unexport(): void;
}
export type OnoffGpioCtor = new (
  gpio: number,
  direction: 'in' | 'out' | 'high' | 'low',
  edge?: 'none' | 'both',
  options?: { activeLow?: boolean },
) => OnoffGpioLine;

export interface OnoffDriverOptions {
  sysfsRoot?: string;
  /** Label of the header's chip (gpio.chip); default: the first of HEADER_LABELS present. */
  chip?: string;
  clock?: Clock;
  /** Where watch errors go (the driver cannot throw from a callback). Default: a process warning. */
  onError?: (e: BodycamError) => void;
  /** Loads onoff's `Gpio` class; default: a lazy `import('onoff')`, so x86 hosts never load its epoll addon. */
  loadGpio?: () => Promise<OnoffGpioCtor>;
}

async function importOnoff(): Promise<OnoffGpioCtor> {
  const mod = await import('onoff');
  return mod.Gpio as unknown as OnoffGpioCtor;
}

/**
 * Driver over onoff (sysfs). Debounce stays in our own logic (`edge: both`, no onoff debounce). Pulls cannot be set
 * through sysfs: they come from the boot defaults or `gpio=` lines in config.txt (see hardware/README.md).
 */
export class OnoffGpio implements GpioDriver {
  readonly kind = 'onoff';
  readonly base: number;
  readonly #Gpio: OnoffGpioCtor;
  readonly #clock: Clock;
  readonly #onError: (e: BodycamError) => void;
  readonly #lines: OnoffGpioLine[] = [];

  constructor(Gpio: OnoffGpioCtor, base: number, opts: Pick<OnoffDriverOptions, 'clock' | 'onError'> = {}) {
    this.#Gpio = Gpio;
    this.base = base;
    this.#clock = opts.clock ?? realClock;
    this.#onError = opts.onError ?? ((e) => process.emitWarning(e.message, { code: e.code }));
  }

  async openInput(spec: InputLineSpec, onEdge: EdgeHandler): Promise<void> {
    const line = this.#open(
      spec.name,
      spec.pin,
      () => new this.#Gpio(this.base + spec.pin, 'in', 'both', { activeLow: spec.activeLow }),
    );
    line.watch((err, value) => {
      if (err) {
        this.#onError(
          new BodycamError(
            ErrorCode.HAL_GPIO_LINE,
            `watch on '${spec.name}' failed: ${err.message}`,
            { line: spec.name },
            { cause: err },
          ),
        );
        return;
      }
      onEdge(value === 1, this.#clock.now());
    });
  }

  async openOutput(spec: OutputLineSpec): Promise<(active: boolean) => void> {
    // 'high'/'low' set the raw level atomically with the direction: start inactive without a flash.
    const line = this.#open(
      spec.name,
      spec.pin,
      () =>
        new this.#Gpio(this.base + spec.pin, spec.activeLow ? 'high' : 'low', 'none', { activeLow: spec.activeLow }),
    );
    return (active) => line.writeSync(active ? 1 : 0);
  }

  async close(): Promise<void> {
    for (const line of this.#lines.splice(0)) {
      line.unwatchAll();
      line.unexport();
    }
  }

  #open(name: string, pin: number, make: () => OnoffGpioLine): OnoffGpioLine {
    try {
      const line = make();
      this.#lines.push(line);
      return line;
    } catch (e) {
      throw new BodycamError(
        ErrorCode.HAL_GPIO_LINE,
        `cannot open '${name}' (BCM ${pin} = sysfs ${this.base + pin}): ${errnoCode(e) ?? String(e)}; check the pin, the chip base and that the user is in the gpio group`,
        { line: name, pin, sysfs: this.base + pin },
        { cause: e },
      );
    }
  }
}

/** Load onoff, resolve the header chip base, return the driver. Failures are HAL_GPIO_UNAVAILABLE with a fix. */
export async function createOnoffDriver(opts: OnoffDriverOptions = {}): Promise<OnoffGpio> {
  let Gpio: OnoffGpioCtor;
  try {
    Gpio = await (opts.loadGpio ?? importOnoff)();
  } catch (e) {
    throw new BodycamError(
      ErrorCode.HAL_GPIO_UNAVAILABLE,
      `the onoff GPIO library does not load here (${e instanceof Error ? loadErrorSummary(e.message) : String(e)}): install on the device (npm rebuild builds its epoll addon for Node 24), or set gpio.driver to sim`,
      {},
      { cause: e },
    );
  }
  const base = headerChipBase(await readGpioChips(opts.sysfsRoot), opts.chip);
  return new OnoffGpio(Gpio, base, {
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.onError === undefined ? {} : { onError: opts.onError }),
  });
}

/** Native-addon load errors run to many lines (the require stack); keep what says what is wrong, on one line. */
function loadErrorSummary(s: string): string {
  return (s.split('\nRequire stack')[0] ?? s).replace(/\s+/g, ' ').trim().slice(0, 300);
}
