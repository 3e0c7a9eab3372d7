import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { Clock } from '../clock/port.ts';
import { realClock } from '../clock/real.ts';
import type { ChipRoots } from './chips.ts';
import { createGpioxDriver } from './gpiox.ts';
import { createOnoffDriver, type OnoffGpioCtor } from './onoff.ts';
import type { GpioDriver } from './port.ts';
import { SimGpio } from './sim.ts';

export type GpioDriverKind = GpioDriver['kind'];

export const GPIO_DRIVER_KINDS: readonly GpioDriverKind[] = ['sim', 'onoff', 'gpiox'];

export interface GpioDriverOptions {
  clock?: Clock;
  /** Label of the header's chip (gpio.chip); default: the first of HEADER_LABELS present. */
  chip?: string;
  /** gpiox only: where its chip check looks (default /sys and /dev). */
  chipRoots?: ChipRoots;
  /** onoff only: sysfs GPIO root (default /sys/class/gpio). */
  sysfsRoot?: string;
  /** onoff only: where asynchronous watch errors go. */
  onError?: (e: BodycamError) => void;
  /** Library loaders, for hosts (and tests) where the real import must not run. */
  loadOnoff?: () => Promise<OnoffGpioCtor>;
  loadGpiox?: () => Promise<unknown>;
}

/**
 * The one place that picks a GPIO driver; the composition root calls it. Hardware libraries load lazily inside
 * their driver, so choosing `sim` never touches a native addon, and a missing library is a HAL_GPIO_UNAVAILABLE
 * error with the fix in its message rather than a crash at import time.
 */
export async function createGpioDriver(kind: GpioDriverKind, opts: GpioDriverOptions = {}): Promise<GpioDriver> {
  const clock = opts.clock === undefined ? {} : { clock: opts.clock };
  const chip = opts.chip === undefined ? {} : { chip: opts.chip };
  switch (kind) {
    case 'sim':
      return new SimGpio({ clock: opts.clock ?? realClock });
    case 'onoff':
      return createOnoffDriver({
        ...clock,
        ...chip,
        ...(opts.sysfsRoot === undefined ? {} : { sysfsRoot: opts.sysfsRoot }),
        ...(opts.onError === undefined ? {} : { onError: opts.onError }),
        ...(opts.loadOnoff === undefined ? {} : { loadGpio: opts.loadOnoff }),
      });
    case 'gpiox':
      return createGpioxDriver({
        ...clock,
        ...chip,
        ...(opts.chipRoots === undefined ? {} : { roots: opts.chipRoots }),
        ...(opts.loadGpiox === undefined ? {} : { loadGpiox: opts.loadGpiox }),
      });
    default:
      throw new BodycamError(
        ErrorCode.HAL_GPIO_UNAVAILABLE,
        `unknown GPIO driver '${String(kind)}'; use one of ${GPIO_DRIVER_KINDS.join(', ')} (set gpio.driver to sim to run without hardware)`,
        { driver: kind },
      );
  }
}

export type { GpioDriver, InputLineSpec, OutputLineSpec } from './port.ts';
export { SimGpio } from './sim.ts';
