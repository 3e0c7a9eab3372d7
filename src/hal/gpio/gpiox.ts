/// <reference path="./gpiox.d.ts" />
// The reference is needed: tsc skips a `.d.ts` that shares its base name with a `.ts` in the same folder.
import type { Gpiox } from '@iiot2k/gpiox';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { Clock } from '../clock/port.ts';
import { realClock } from '../clock/real.ts';
import { type ChipRoots, gpioxChipName, HEADER_LABELS, readCharDevChips } from './chips.ts';
import type { EdgeHandler, GpioDriver, InputLineSpec, OutputLineSpec, Pull } from './port.ts';

export interface GpioxDriverOptions {
  clock?: Clock;
  /** Label of the header's chip (gpio.chip); default: any of HEADER_LABELS. */
  chip?: string;
  /** Where the chip check looks (tests point them at temp trees); default /sys and /dev. */
  roots?: ChipRoots;
  /** Loads the library; default: a lazy `import('@iiot2k/gpiox')` (an optional, arm-only dependency). */
  loadGpiox?: () => Promise<unknown>;
}

/**
 * The physical level behind a state gpiox reports. In its pull-up mode gpiox asks the kernel for an active-low line
 * (`gpioinfo`: `input active-low [used pull-up]`; its API document: pull-up state 1 = ground), so there a 1 is a low
 * level; in the pull-down and no-pull modes a 1 is a high level.
 */
export function gpioxLevelHigh(state: number, pull: Pull): boolean {
  return (state === 1) !== (pull === 'up');
}

/** Whether an input is active: its physical level against the wiring's polarity. */
export function gpioxActive(state: number, spec: Pick<InputLineSpec, 'pull' | 'activeLow'>): boolean {
  return gpioxLevelHigh(state, spec.pull) !== spec.activeLow;
}

const PIN_MIN = 2;
const PIN_MAX = 27;

/**
 * Driver over @iiot2k/gpiox: the GPIO character device (v2), the only interface the Pi 5's RP1 offers without
 * sysfs numbering games. Its own debounce is off (0 µs): debounce is ours, the same for every driver.
 */
export class GpioxGpio implements GpioDriver {
  readonly kind = 'gpiox';
  readonly #api: Gpiox;
  readonly #clock: Clock;
  readonly #pins = new Set<number>();

  constructor(api: Gpiox, opts: Pick<GpioxDriverOptions, 'clock'> = {}) {
    this.#api = api;
    this.#clock = opts.clock ?? realClock;
  }

  async openInput(spec: InputLineSpec, onEdge: EdgeHandler): Promise<void> {
    this.#check(spec.name, spec.pin);
    const level = this.#api.watch_gpio(spec.pin, this.#mode(spec.pull), 0, this.#api.GPIO_EDGE_BOTH, (state) => {
      onEdge(gpioxActive(state, spec), this.#clock.now());
    });
    if (level === undefined) this.#fail(spec.name, spec.pin, 'watch_gpio');
    this.#pins.add(spec.pin);
  }

  async openOutput(spec: OutputLineSpec): Promise<(active: boolean) => void> {
    this.#check(spec.name, spec.pin);
    // Initial raw level = inactive, so an active-low LED does not flash on start-up.
    if (!this.#api.init_gpio(spec.pin, this.#api.GPIO_MODE_OUTPUT, spec.activeLow ? 1 : 0)) {
      this.#fail(spec.name, spec.pin, 'init_gpio');
    }
    this.#pins.add(spec.pin);
    return (active) => {
      if (this.#pins.has(spec.pin)) this.#api.set_gpio(spec.pin, active !== spec.activeLow ? 1 : 0);
    };
  }

  async close(): Promise<void> {
    for (const pin of this.#pins) this.#api.deinit_gpio(pin);
    this.#pins.clear();
  }

  #mode(pull: Pull): number {
    switch (pull) {
      case 'up':
        return this.#api.GPIO_MODE_INPUT_PULLUP;
      case 'down':
        return this.#api.GPIO_MODE_INPUT_PULLDOWN;
      case 'none':
        return this.#api.GPIO_MODE_INPUT_NOPULL;
    }
  }

  #check(name: string, pin: number): void {
    if (!Number.isInteger(pin) || pin < PIN_MIN || pin > PIN_MAX) {
      throw new BodycamError(
        ErrorCode.HAL_GPIO_LINE,
        `line '${name}': gpiox drives BCM ${PIN_MIN}–${PIN_MAX}, not ${pin}`,
        {
          line: name,
          pin,
        },
      );
    }
    if (this.#pins.has(pin)) {
      throw new BodycamError(ErrorCode.HAL_GPIO_LINE, `line '${name}': BCM ${pin} is already open`, {
        line: name,
        pin,
      });
    }
  }

  #fail(name: string, pin: number, call: string): never {
    throw new BodycamError(
      ErrorCode.HAL_GPIO_LINE,
      `line '${name}' (BCM ${pin}): ${call} failed: ${this.#api.error_text()}`,
      { line: name, pin },
    );
  }
}

function isGpiox(api: unknown): api is Gpiox {
  return (
    typeof api === 'object' &&
    api !== null &&
    'watch_gpio' in api &&
    typeof api.watch_gpio === 'function' &&
    'GPIO_EDGE_BOTH' in api
  );
}

const importGpiox = (): Promise<unknown> => import('@iiot2k/gpiox');

/**
 * Refuses unless the chip gpiox will open (/dev/gpiochip4, else gpiochip0: it cannot be told another) carries the
 * header chip's label. Checked before the library loads, so a wrong chip never has a line claimed.
 */
export async function checkGpioxChip(chip: string | undefined, roots: ChipRoots = {}): Promise<string> {
  const dev = roots.dev ?? '/dev';
  const opened = await gpioxChipName(dev);
  const chips = await readCharDevChips(roots);
  const label = chips.find((c) => c.name === opened)?.label ?? null;
  const wanted = chip === undefined ? HEADER_LABELS : [chip];
  if (label !== null && wanted.includes(label)) return label;
  const right = chips.find((c) => c.label !== null && wanted.includes(c.label));
  const what = label === null ? 'whose label sysfs does not tell' : `labelled ${label}`;
  const fix =
    right === undefined
      ? 'no chip here carries that label: check the board and gpio.chip'
      : `the header chip is ${dev}/${right.name}: make ${dev}/gpiochip4 a link to it (Raspberry Pi OS's udev rule does on a Pi 5) or use gpio.driver onoff`;
  throw new BodycamError(
    ErrorCode.HAL_GPIO_UNAVAILABLE,
    `@iiot2k/gpiox would drive ${dev}/${opened}, ${what}, not the header chip (${wanted.join(' or ')}); ${fix}`,
    { driver: 'gpiox', opened, label, wanted },
  );
}

/**
 * Check the chip, then load the library lazily; absent or without its native addon (x86, 32-bit mismatch) →
 * HAL_GPIO_UNAVAILABLE.
 */
export async function createGpioxDriver(opts: GpioxDriverOptions = {}): Promise<GpioxGpio> {
  await checkGpioxChip(opts.chip, opts.roots);
  let loaded: unknown;
  try {
    loaded = await (opts.loadGpiox ?? importGpiox)();
  } catch (e) {
    throw unavailable(e instanceof Error ? loadErrorSummary(e.message) : String(e), e);
  }
  // The entry point exports the addon as module.exports; ESM sees it as `default` (and exports {} off arm).
  const api = typeof loaded === 'object' && loaded !== null && 'default' in loaded ? loaded.default : loaded;
  if (!isGpiox(api)) throw unavailable(`no native addon for ${process.platform}/${process.arch}`);
  return new GpioxGpio(api, opts.clock === undefined ? {} : { clock: opts.clock });
}

function unavailable(why: string, cause?: unknown): BodycamError {
  return new BodycamError(
    ErrorCode.HAL_GPIO_UNAVAILABLE,
    `the gpiox GPIO library is not usable here (${why}): install on the device (npm install @iiot2k/gpiox, arm64 only), or set gpio.driver to sim`,
    { driver: 'gpiox' },
    cause === undefined ? {} : { cause },
  );
}

/** Native-addon load errors run to many lines (the require stack); keep what says what is wrong, on one line. */
function loadErrorSummary(s: string): string {
  return (s.split('\nRequire stack')[0] ?? s).replace(/\s+/g, ' ').trim().slice(0, 300);
}
