/**
 * The gpiox driver's two fixes: polarity (gpiox's pull-up mode already inverts the line) and the chip check (gpiox
 * opens /dev/gpiochip4, else gpiochip0, whatever they are). Chip trees are temp directories shaped like /sys and
 * /dev on a Pi 5 (kernel 6.1 layout and ≥ 6.7 layout), a Pi 4, and a qemu arm64 guest.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pickLabelled, readCharDevChips } from '../../../src/hal/gpio/chips.ts';
import { checkGpioxChip, gpioxActive, gpioxLevelHigh } from '../../../src/hal/gpio/gpiox.ts';
import type { Pull } from '../../../src/hal/gpio/port.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';

describe('gpiox polarity', () => {
  // gpiox's API document: pull-up mode reads 0 when open (+3.3 V) and 1 at ground; pull-down and no-pull read the
  // level as it is. The wiring's activeLow then says which level is "pressed".
  it.each<{ wiring: string; pull: Pull; activeLow: boolean; level: 'low' | 'high'; state: 0 | 1; active: boolean }>([
    { wiring: 'button to ground, pull-up', pull: 'up', activeLow: true, level: 'low', state: 1, active: true },
    { wiring: 'button to ground, pull-up', pull: 'up', activeLow: true, level: 'high', state: 0, active: false },
    { wiring: 'dock pin to 3.3 V, pull-down', pull: 'down', activeLow: false, level: 'high', state: 1, active: true },
    { wiring: 'dock pin to 3.3 V, pull-down', pull: 'down', activeLow: false, level: 'low', state: 0, active: false },
    {
      wiring: 'external pull-up, switch to ground',
      pull: 'none',
      activeLow: true,
      level: 'low',
      state: 0,
      active: true,
    },
    {
      wiring: 'external pull-up, switch to ground',
      pull: 'none',
      activeLow: true,
      level: 'high',
      state: 1,
      active: false,
    },
    { wiring: 'pull-up, active-high sensor', pull: 'up', activeLow: false, level: 'high', state: 0, active: true },
    { wiring: 'pull-up, active-high sensor', pull: 'up', activeLow: false, level: 'low', state: 1, active: false },
    { wiring: 'pull-down, open-drain to ground', pull: 'down', activeLow: true, level: 'low', state: 0, active: true },
    {
      wiring: 'pull-down, open-drain to ground',
      pull: 'down',
      activeLow: true,
      level: 'high',
      state: 1,
      active: false,
    },
  ])('$wiring, level $level (gpiox reads $state) → active $active', ({ pull, activeLow, level, state, active }) => {
    expect(gpioxLevelHigh(state, pull)).toBe(level === 'high');
    expect(gpioxActive(state, { pull, activeLow })).toBe(active);
  });
});

describe('pickLabelled', () => {
  const chips = [
    { name: 'gpiochip0', label: '9030000.pl061' },
    { name: 'gpiochip1', label: 'pinctrl-bcm2711' },
    { name: 'gpiochip2', label: 'pinctrl-rp1' },
    { name: 'gpiochip3', label: null },
  ];
  it.each<{ label: string | undefined; want: string | null }>([
    { label: 'pinctrl-rp1', want: 'gpiochip2' },
    { label: 'pinctrl-bcm2711', want: 'gpiochip1' },
    { label: undefined, want: 'gpiochip2' },
    { label: 'pinctrl-bcm2835', want: null },
  ])('$label → $want', ({ label, want }) => {
    expect(pickLabelled(chips, label)?.name ?? null).toBe(want);
  });
});

describe('the chip behind a character device (temp /sys and /dev trees)', () => {
  let root: string;
  let sys: string;
  let dev: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'bodycam-chips-'));
    sys = path.join(root, 'sys');
    dev = path.join(root, 'dev');
    await mkdir(path.join(sys, 'bus/gpio/devices'), { recursive: true });
    await mkdir(path.join(sys, 'class/gpio'), { recursive: true });
    await mkdir(dev);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /**
   * One chip: its device under `parent`, /dev/gpiochipN, /sys/bus/gpio/devices/gpiochipN, and its legacy sysfs
   * directory gpiochipBASE, under the parent device (`old`: kernels before 6.7) or under the gpio device (`new`).
   */
  async function addChip(n: number, parent: string, base: number, label: string, layout: 'old' | 'new' = 'old') {
    const gdev = path.join(sys, 'devices/platform', parent, `gpiochip${n}`);
    await mkdir(gdev, { recursive: true });
    await writeFile(path.join(dev, `gpiochip${n}`), '');
    await symlink(gdev, path.join(sys, 'bus/gpio/devices', `gpiochip${n}`));
    const legacy = path.join(layout === 'old' ? path.dirname(gdev) : gdev, 'gpio', `gpiochip${base}`);
    await mkdir(legacy, { recursive: true });
    await writeFile(path.join(legacy, 'base'), `${base}\n`);
    await writeFile(path.join(legacy, 'ngpio'), '54\n');
    await writeFile(path.join(legacy, 'label'), `${label}\n`);
    await symlink(legacy, path.join(sys, 'class/gpio', `gpiochip${base}`));
  }

  it('Pi 5 before 6.6: brcmstb chips 0–3, RP1 at gpiochip4 (kernel 6.1 layout) → gpiox opens RP1', async () => {
    for (let i = 0; i < 4; i++) await addChip(i, `107d50${i}.gpio`, 512 + i * 10, `gpio-brcmstb@107d50${i}`);
    await addChip(4, 'axi/1f000d0000.gpio', 571, 'pinctrl-rp1');
    const chips = await readCharDevChips({ sys, dev });
    expect(chips.map((c) => c.label)).toEqual([
      'gpio-brcmstb@107d500',
      'gpio-brcmstb@107d501',
      'gpio-brcmstb@107d502',
      'gpio-brcmstb@107d503',
      'pinctrl-rp1',
    ]);
    expect(await checkGpioxChip('pinctrl-rp1', { sys, dev })).toBe('pinctrl-rp1');
  });

  it('Pi 5 on 6.6+: RP1 is gpiochip0 and /dev/gpiochip4 links to it (kernel ≥ 6.7 layout) → accepted', async () => {
    await addChip(0, 'axi/1f000d0000.gpio', 571, 'pinctrl-rp1', 'new');
    await addChip(10, '107d508500.gpio', 512, 'gpio-brcmstb@107d508500', 'new');
    await symlink('gpiochip0', path.join(dev, 'gpiochip4'));
    expect(await checkGpioxChip('pinctrl-rp1', { sys, dev })).toBe('pinctrl-rp1');
  });

  it('an expander at gpiochip4 (a HAT on a Pi 4): gpiox would drive it → refused, naming the real chip', async () => {
    await addChip(0, 'soc/fe200000.gpio', 512, 'pinctrl-bcm2711');
    await addChip(4, 'soc/i2c/1-0020', 600, 'mcp23017');
    const e = await checkGpioxChip('pinctrl-bcm2711', { sys, dev }).catch((x: unknown) => x);
    expect(isBodycamError(e, 'HAL_GPIO_UNAVAILABLE')).toBe(true);
    expect(String(e)).toMatch(/would drive .*\/gpiochip4, labelled mcp23017/);
    expect(String(e)).toMatch(/the header chip is .*\/gpiochip0/);
  });

  it('a qemu arm64 guest: PL061 at gpiochip0, the Pi-labelled bank at gpiochip1 → refused', async () => {
    await addChip(0, '9030000.pl061', 512, '9030000.pl061', 'old');
    await addChip(1, 'gpio-sim.0', 520, 'pinctrl-rp1', 'old');
    await expect(checkGpioxChip('pinctrl-rp1', { sys, dev })).rejects.toThrow(
      /would drive .*gpiochip0, labelled 9030000\.pl061.*header chip is .*gpiochip1/,
    );
  });

  it('two chips under one parent (old layout): labels cannot be told apart → null, and gpiox is refused', async () => {
    await addChip(0, 'gpio-sim.0', 512, 'pinctrl-rp1', 'old');
    await addChip(1, 'gpio-sim.0', 600, 'other', 'old');
    expect((await readCharDevChips({ sys, dev })).map((c) => c.label)).toEqual([null, null]);
    await expect(checkGpioxChip(undefined, { sys, dev })).rejects.toThrow(/whose label sysfs does not tell/);
  });

  it('no label configured: any header label is accepted', async () => {
    await addChip(0, 'soc/fe200000.gpio', 512, 'pinctrl-bcm2711');
    expect(await checkGpioxChip(undefined, { sys, dev })).toBe('pinctrl-bcm2711');
  });

  it('no GPIO at all (a PC): refused before the library is loaded', async () => {
    await expect(checkGpioxChip('pinctrl-rp1', { sys, dev })).rejects.toThrow(/no chip here carries that label/);
  });
});
