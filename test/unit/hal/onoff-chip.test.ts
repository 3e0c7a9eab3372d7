import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type GpioChip,
  headerChipBase,
  OnoffGpio,
  type OnoffGpioCtor,
  type OnoffGpioLine,
  readGpioChips,
} from '../../../src/hal/gpio/onoff.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';

const chip = (base: number, ngpio: number, label: string): GpioChip => ({ base, ngpio, label });

describe('headerChipBase', () => {
  it.each<{ name: string; chips: GpioChip[]; label?: string; want: number | 'refused' }>([
    {
      name: 'Pi 4, kernel 6.6',
      chips: [chip(512, 58, 'pinctrl-bcm2711'), chip(570, 8, 'raspberrypi-exp-gpio')],
      label: 'pinctrl-bcm2711',
      want: 512,
    },
    {
      name: 'Pi 5, kernel 6.6 (brcmstb chips first, RP1 header)',
      chips: [
        chip(512, 32, 'gpio-brcmstb@107d508500'),
        chip(544, 4, 'gpio-brcmstb@107d508520'),
        chip(548, 17, 'gpio-brcmstb@107d517c00'),
        chip(565, 6, 'gpio-brcmstb@107d517c20'),
        chip(571, 54, 'pinctrl-rp1'),
      ],
      label: 'pinctrl-rp1',
      want: 571,
    },
    {
      name: 'Pi 4, kernel 6.1',
      chips: [chip(0, 58, 'pinctrl-bcm2711'), chip(504, 8, 'raspberrypi-exp-gpio')],
      want: 0,
    },
    { name: 'Zero 2 W, kernel 6.6', chips: [chip(512, 54, 'pinctrl-bcm2835')], want: 512 },
    {
      name: 'no label asked: the first header label present, whatever the chip order',
      chips: [chip(600, 54, 'x'), chip(512, 54, 'pinctrl-bcm2835')],
      want: 512,
    },
    {
      name: 'the profile asks for RP1 on a board that has a bcm2711 chip: refused',
      chips: [chip(512, 58, 'pinctrl-bcm2711')],
      label: 'pinctrl-rp1',
      want: 'refused',
    },
    {
      name: 'an expander HAT with many lines is never taken for the header',
      chips: [chip(500, 8, 'exp'), chip(520, 58, 'soc-gpio')],
      want: 'refused',
    },
    { name: 'no qualifying chip: refused', chips: [chip(504, 8, 'raspberrypi-exp-gpio')], want: 'refused' },
    { name: 'no chips at all: refused', chips: [], want: 'refused' },
  ])('$name → $want', ({ chips, label, want }) => {
    if (want === 'refused') {
      expect(() => headerChipBase(chips, label)).toThrow(
        expect.toSatisfy(
          (e) => isBodycamError(e, 'HAL_GPIO_UNAVAILABLE') && /no GPIO chip of the 40-pin header/.test(String(e)),
        ),
      );
    } else {
      expect(headerChipBase(chips, label)).toBe(want);
    }
  });
});

describe('readGpioChips (temp dir shaped like /sys/class/gpio)', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'bodycam-sysfs-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function addChip(name: string, files: Record<string, string>): Promise<void> {
    await mkdir(join(root, name));
    for (const [file, text] of Object.entries(files)) await writeFile(join(root, name, file), `${text}\n`);
  }

  it('reads base, ngpio and label of each chip and ignores export/unexport', async () => {
    await writeFile(join(root, 'export'), '');
    await writeFile(join(root, 'unexport'), '');
    await addChip('gpiochip570', { base: '570', ngpio: '8', label: 'raspberrypi-exp-gpio' });
    await addChip('gpiochip512', { base: '512', ngpio: '58', label: 'pinctrl-bcm2711' });
    const chips = await readGpioChips(root);
    expect(chips).toEqual([chip(512, 58, 'pinctrl-bcm2711'), chip(570, 8, 'raspberrypi-exp-gpio')]);
    expect(headerChipBase(chips)).toBe(512);
  });

  it('a chip without a label is not the header chip; garbage is skipped', async () => {
    await addChip('gpiochip571', { base: '571', ngpio: '54' });
    await addChip('gpiochip9', { base: 'x', ngpio: '1' });
    expect(await readGpioChips(root)).toEqual([chip(571, 54, '')]);
    expect(() => headerChipBase([chip(571, 54, '')])).toThrow(/sysfs base 571 \(no label\)/);
  });

  it('a missing sysfs root is HAL_GPIO_UNAVAILABLE', async () => {
    await expect(readGpioChips(join(root, 'absent'))).rejects.toSatisfy((e) =>
      isBodycamError(e, 'HAL_GPIO_UNAVAILABLE'),
    );
  });
});

describe('OnoffGpio', () => {
  type Made = { gpio: number; direction: string; edge: string | undefined; activeLow: boolean | undefined };

  function fakeOnoff() {
    const made: Made[] = [];
    const writes: [number, number][] = [];
    const watchers: ((err: Error | null | undefined, value: 0 | 1) => void)[] = [];
    let unexported = 0;
    const Gpio = class implements OnoffGpioLine {
      readonly #gpio: number;
      constructor(gpio: number, direction: string, edge?: string, options?: { activeLow?: boolean }) {
        if (gpio < 512) throw Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' });
        this.#gpio = gpio;
        made.push({ gpio, direction, edge, activeLow: options?.activeLow });
      }
      watch(cb: (err: Error | null | undefined, value: 0 | 1) => void): void {
        watchers.push(cb);
      }
      writeSync(value: 0 | 1): void {
        writes.push([this.#gpio, value]);
      }
      unwatchAll(): void {}
      unexport(): void {
        unexported++;
      }
    } satisfies OnoffGpioCtor;
    return { Gpio, made, writes, watchers, unexported: () => unexported };
  }

  it('adds the chip base, watches both edges and maps polarity to activeLow', async () => {
    const fake = fakeOnoff();
    const errors: string[] = [];
    const driver = new OnoffGpio(fake.Gpio, 512, { onError: (e) => errors.push(e.code) });
    const edges: boolean[] = [];
    await driver.openInput({ name: 'record', pin: 5, activeLow: true, pull: 'up' }, (a) => edges.push(a));
    const set = await driver.openOutput({ name: 'ledRed', pin: 23, activeLow: true });
    expect(fake.made).toEqual([
      { gpio: 517, direction: 'in', edge: 'both', activeLow: true },
      { gpio: 535, direction: 'high', edge: 'none', activeLow: true },
    ]);
    fake.watchers[0]?.(null, 1);
    fake.watchers[0]?.(new Error('EIO'), 0);
    expect(edges).toEqual([true]);
    expect(errors).toEqual(['HAL_GPIO_LINE']);
    set(true);
    expect(fake.writes).toEqual([[535, 1]]);
    await driver.close();
    expect(fake.unexported()).toBe(2);
  });

  it('a line the kernel refuses is HAL_GPIO_LINE naming the sysfs number', async () => {
    const driver = new OnoffGpio(fakeOnoff().Gpio, 0);
    await expect(driver.openOutput({ name: 'ledRed', pin: 23, activeLow: false })).rejects.toThrow(/sysfs 23/);
  });
});
