/**
 * Which GPIO chip is the 40-pin header's, by its label: `pinctrl-rp1` on a Pi 5, `pinctrl-bcm2711` on a Pi 4 and
 * CM4, `pinctrl-bcm2835` on a Zero 2 W (the board profile's `gpioChip`). Chip numbers are not stable: expanders,
 * HATs and carrier boards add chips, and kernels renumber them (the Pi 5's RP1 moved from gpiochip4 to gpiochip0 in
 * Raspberry Pi OS's 6.6 kernels, which keep /dev/gpiochip4 as a link). Driving the wrong chip drives another
 * device's pins, so a driver that cannot find the labelled chip refuses to start, naming what it found.
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';

/** Labels of the chips that drive a Raspberry Pi's 40-pin header, the newest board first. */
export const HEADER_LABELS: readonly string[] = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

/** One chip as its legacy sysfs directory (`/sys/class/gpio/gpiochipBASE`) tells it. */
export interface GpioChip {
  base: number;
  ngpio: number;
  label: string;
}

/** A GPIO character device and the label of its chip (null when sysfs does not say). */
export interface CharDevChip {
  /** `gpiochipN`, the name under /dev. */
  name: string;
  label: string | null;
}

/** The chip among `chips` carrying `label` (or, with no label given, the first of HEADER_LABELS present). */
export function pickLabelled<T extends { label: string | null }>(chips: readonly T[], label?: string): T | null {
  const wanted = label === undefined ? HEADER_LABELS : [label];
  for (const l of wanted) {
    const chip = chips.find((c) => c.label === l);
    if (chip !== undefined) return chip;
  }
  return null;
}

/** The error for a missing header chip: what was wanted, what is there, and the fix. */
export function noHeaderChip(
  wanted: string | undefined,
  found: ReadonlyArray<{ name: string; label: string | null }>,
): BodycamError {
  const want = wanted === undefined ? `one labelled ${HEADER_LABELS.join(', ')}` : `the one labelled ${wanted}`;
  const have =
    found.length === 0
      ? 'none'
      : found.map((c) => `${c.name} (${c.label === null ? 'label unknown' : c.label || 'no label'})`).join(', ');
  return new BodycamError(
    ErrorCode.HAL_GPIO_UNAVAILABLE,
    `no GPIO chip of the 40-pin header: wanted ${want}, found ${have}; set gpio.chip to the header chip's label (the board profile's gpioChip), or check the board`,
    { wanted: wanted ?? HEADER_LABELS, found: found.map((c) => ({ name: c.name, label: c.label })) },
  );
}

/** Read every legacy sysfs chip (`gpiochipBASE`: base, ngpio, label) under a root such as /sys/class/gpio. */
export async function readSysfsChips(root: string): Promise<Array<GpioChip & { name: string; dir: string }>> {
  const chips: Array<GpioChip & { name: string; dir: string }> = [];
  const entries = await readdir(root);
  for (const name of entries.filter((n) => /^gpiochip\d+$/.test(n)).sort()) {
    const dir = path.join(root, name);
    const read = (file: string) => readFile(path.join(dir, file), 'utf8').then((s) => s.trim());
    const [base, ngpio, label] = await Promise.all([read('base'), read('ngpio'), read('label').catch(() => '')]);
    const chip = { name, dir, base: Number.parseInt(base, 10), ngpio: Number.parseInt(ngpio, 10), label };
    if (Number.isInteger(chip.base) && Number.isInteger(chip.ngpio)) chips.push(chip);
  }
  return chips;
}

export interface ChipRoots {
  /** Default /sys. */
  sys?: string;
  /** Default /dev. */
  dev?: string;
}

/**
 * The character devices under /dev with their chips' labels. The character device itself tells its label only
 * through an ioctl, which Node cannot make; sysfs ties the two together: the character device's device directory
 * (`/sys/bus/gpio/devices/gpiochipN`) either holds the legacy chip directory (`gpio/gpiochipBASE`, kernels ≥ 6.7)
 * or shares its parent device with it (older kernels). A label that cannot be tied to one chip stays null.
 */
export async function readCharDevChips(roots: ChipRoots = {}): Promise<CharDevChip[]> {
  const sys = roots.sys ?? '/sys';
  const dev = roots.dev ?? '/dev';
  const names = (await readdir(dev).catch(() => [] as string[])).filter((n) => /^gpiochip\d+$/.test(n)).sort();
  const legacy = await readSysfsChips(path.join(sys, 'class/gpio')).catch(() => []);
  const owners = await Promise.all(
    legacy.map(async (c) => ({ label: c.label, owner: path.dirname(path.dirname(await realpath(c.dir))) })),
  );
  const gdevs = new Map<string, string>();
  for (const name of names) {
    const real = await realpath(path.join(sys, 'bus/gpio/devices', name)).catch(() => null);
    if (real !== null) gdevs.set(name, real);
  }
  return names.map((name) => {
    const gdev = gdevs.get(name);
    if (gdev === undefined) return { name, label: null };
    const own = owners.filter((o) => o.owner === gdev);
    if (own.length === 1) return { name, label: own[0]?.label ?? null };
    // Older kernels: the legacy chip hangs off the parent device; unambiguous only when that parent has one chip.
    const parent = path.dirname(gdev);
    const siblings = [...gdevs.values()].filter((g) => path.dirname(g) === parent);
    const shared = owners.filter((o) => o.owner === parent);
    return { name, label: siblings.length === 1 && shared.length === 1 ? (shared[0]?.label ?? null) : null };
  });
}

/**
 * The character device @iiot2k/gpiox opens: /dev/gpiochip4 when it exists (a link on Raspberry Pi OS ≥ 6.6,
 * followed), else /dev/gpiochip0. The library cannot be told another; the driver checks this one's label instead.
 */
export async function gpioxChipName(dev = '/dev'): Promise<string> {
  const four = path.join(dev, 'gpiochip4');
  const target = await realpath(four).catch(() => null);
  return target === null ? 'gpiochip0' : path.basename(target);
}
