import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BodycamError, ErrorCode, errnoCode } from '../../lib/errors.ts';
import type { Clock } from '../clock/port.ts';
import { realClock } from '../clock/real.ts';
import type { EdgeHandler, GpioDriver, InputLineSpec, OutputLineSpec } from './port.ts';

export const SYSFS_GPIO_ROOT = '/sys/class/gpio';

/** One `/sys/class/gpio/gpiochipN` directory. */
export interface GpioChip {
  base: number;
  ngpio: number;
  label: string;
}

/** Labels of the chip that drives the 40-pin header, best first (RP1 is the Pi 5's; the others the older SoCs'). */
const HEADER_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

/**
 * The sysfs base of the header's chip. Kernels ≥ 6.6 number sysfs lines from 512 (Pi 4) or 571 (Pi 5), so the
 * plain BCM number fails with EINVAL; older kernels start at 0. Preference: a known SoC label, else the chip with
 * ≥ 54 lines (the expander chips have 8), else 0.
 */
export function headerChipBase(chips: readonly GpioChip[]): number {
  for (const label of HEADER_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip !== undefined) return chip.base;
  }
  const big = chips.filter((c) => c.ngpio >= 54).sort((a, b) => a.base - b.base)[0];
  return big?.base ?? 0;
}

/** Read every gpiochip under a sysfs root (a parameter so tests can point it at a temp dir). */
export async function readGpioChips(root: string = SYSFS_GPIO_ROOT): Promise<GpioChip[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (e) {
    throw new BodycamError(
      ErrorCode.HAL_GPIO_UNAVAILABLE,
      `no sysfs GPIO at ${root} (${errnoCode(e) ?? 'unreadable'}): this kernel lacks CONFIG_GPIO_SYSFS or this is not a Pi; set gpio.driver to gpiox (Pi 5) or sim`,
      { root },
      { cause: e },
    );
  }
  const chips: GpioChip[] = [];
  for (const name of entries.filter((n) => n.startsWith('gpiochip')).sort()) {
    const read = (file: string) => readFile(join(root, name, file), 'utf8').then((s) => s.trim());
    const [base, ngpio, label] = await Promise.all([read('base'), read('ngpio'), read('label').catch(() => '')]);
    chips.push({ base: Number.parseInt(base, 10), ngpio: Number.parseInt(ngpio, 10), label });
  }
  return chips.filter((c) => Number.isInteger(c.base) && Number.isInteger(c.ngpio));
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
  const base = headerChipBase(await readGpioChips(opts.sysfsRoot));
  return new OnoffGpio(Gpio, base, {
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.onError === undefined ? {} : { onError: opts.onError }),
  });
}

/** Native-addon load errors run to many lines (the require stack); keep what says what is wrong, on one line. */
function loadErrorSummary(s: string): string {
  return (s.split('\nRequire stack')[0] ?? s).replace(/\s+/g, ' ').trim().slice(0, 300);
}
