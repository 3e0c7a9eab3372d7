import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boardInputs, boardOutputs, knownBoards, loadBoard } from '../../../src/config/boards.ts';
import { createGpioDriver, type GpioDriverKind, SimGpio } from '../../../src/hal/gpio/index.ts';
import type { OnoffGpioCtor } from '../../../src/hal/gpio/onoff.ts';
import { type BodycamError, isBodycamError } from '../../../src/lib/errors.ts';

/** A /sys and /dev pair with one chip, RP1 at gpiochip0 (what gpiox opens when there is no gpiochip4). */
async function piFiveTree(): Promise<{ sys: string; dev: string }> {
  const root = await mkdtemp(join(tmpdir(), 'bodycam-pi5-'));
  const gdev = join(root, 'sys/devices/platform/axi/1f000d0000.gpio/gpiochip0');
  const legacy = join(gdev, 'gpio/gpiochip571');
  await mkdir(legacy, { recursive: true });
  await mkdir(join(root, 'sys/bus/gpio/devices'), { recursive: true });
  await mkdir(join(root, 'sys/class/gpio'), { recursive: true });
  await mkdir(join(root, 'dev'));
  await writeFile(join(root, 'dev/gpiochip0'), '');
  await symlink(gdev, join(root, 'sys/bus/gpio/devices/gpiochip0'));
  await symlink(legacy, join(root, 'sys/class/gpio/gpiochip571'));
  await writeFile(join(legacy, 'base'), '571\n');
  await writeFile(join(legacy, 'ngpio'), '54\n');
  await writeFile(join(legacy, 'label'), 'pinctrl-rp1\n');
  return { sys: join(root, 'sys'), dev: join(root, 'dev') };
}

async function failure(p: Promise<unknown>): Promise<BodycamError> {
  try {
    await p;
  } catch (e) {
    if (isBodycamError(e)) return e;
    throw e;
  }
  throw new Error('expected a BodycamError');
}

describe('createGpioDriver', () => {
  it('sim gives a SimGpio and loads no hardware library', async () => {
    const driver = await createGpioDriver('sim');
    expect(driver).toBeInstanceOf(SimGpio);
    expect(driver.kind).toBe('sim');
  });

  it('gpiox on a machine without the header chip → HAL_GPIO_UNAVAILABLE before the library loads', async () => {
    let loaded = false;
    const none = join(tmpdir(), 'bodycam-no-such-tree');
    const e = await failure(
      createGpioDriver('gpiox', {
        chipRoots: { sys: none, dev: none },
        loadGpiox: async () => {
          loaded = true;
          return {};
        },
      }),
    );
    expect(e.code).toBe('HAL_GPIO_UNAVAILABLE');
    expect(e.message).toMatch(/would drive/);
    expect(loaded).toBe(false);
  });

  it('gpiox not installed (x64) → HAL_GPIO_UNAVAILABLE with the fix, not a crash', async () => {
    const e = await failure(createGpioDriver('gpiox', { chipRoots: await piFiveTree() }));
    expect(e.code).toBe('HAL_GPIO_UNAVAILABLE');
    expect(e.message).toMatch(/set gpio\.driver to sim/);
    expect(e.message).toMatch(/install on the device/);
  });

  it('gpiox installed without its native addon (exports {}) → HAL_GPIO_UNAVAILABLE', async () => {
    const e = await failure(
      createGpioDriver('gpiox', { chipRoots: await piFiveTree(), loadGpiox: async () => ({ default: {} }) }),
    );
    expect(e.code).toBe('HAL_GPIO_UNAVAILABLE');
  });

  it('gpiox with a working library: pull → mode, polarity, release on close', async () => {
    const calls: unknown[][] = [];
    let callback: ((state: number, edge: number, pin: number) => void) | undefined;
    const api = {
      GPIO_MODE_INPUT_NOPULL: 0,
      GPIO_MODE_INPUT_PULLDOWN: 1,
      GPIO_MODE_INPUT_PULLUP: 2,
      GPIO_MODE_OUTPUT: 3,
      GPIO_EDGE_RISING: 0,
      GPIO_EDGE_FALLING: 1,
      GPIO_EDGE_BOTH: 2,
      watch_gpio: (...a: unknown[]) => {
        calls.push(['watch', ...a.slice(0, 4)]);
        callback = a[4] as typeof callback;
        return 1;
      },
      init_gpio: (...a: unknown[]) => calls.push(['init', ...a]) > 0,
      set_gpio: (...a: unknown[]) => calls.push(['set', ...a]) > 0,
      deinit_gpio: (...a: unknown[]) => calls.push(['deinit', ...a]) > 0,
      error_text: () => 'busy',
    };
    const driver = await createGpioDriver('gpiox', {
      chip: 'pinctrl-rp1',
      chipRoots: await piFiveTree(),
      loadGpiox: async () => ({ default: api }),
    });
    const edges: boolean[] = [];
    await driver.openInput({ name: 'record', pin: 5, activeLow: true, pull: 'up' }, (a) => edges.push(a));
    const led = await driver.openOutput({ name: 'ledRed', pin: 23, activeLow: true });
    // Pull-up mode: gpiox reports the grounded (pressed) button as 1, the released one as 0.
    callback?.(1, 1, 5);
    callback?.(0, 0, 5);
    led(true);
    await expect(driver.openInput({ name: 'x', pin: 1, activeLow: false, pull: 'none' }, () => {})).rejects.toSatisfy(
      (e) => isBodycamError(e, 'HAL_GPIO_LINE'),
    );
    await driver.close();
    expect(edges).toEqual([true, false]);
    expect(calls).toEqual([
      ['watch', 5, 2, 0, 2],
      ['init', 23, 3, 1],
      ['set', 23, 0],
      ['deinit', 5],
      ['deinit', 23],
    ]);
  });

  it('onoff whose addon does not load → HAL_GPIO_UNAVAILABLE', async () => {
    const loadOnoff = async (): Promise<OnoffGpioCtor> => {
      throw new Error('The module epoll.node was compiled against a different Node.js version\nRequire stack: …');
    };
    const e = await failure(createGpioDriver('onoff', { loadOnoff }));
    expect(e.code).toBe('HAL_GPIO_UNAVAILABLE');
    expect(e.message).not.toContain('Require stack');
  });

  it('onoff on this host (no usable addon or no sysfs GPIO) → HAL_GPIO_UNAVAILABLE', async () => {
    const e = await failure(createGpioDriver('onoff', { sysfsRoot: join(tmpdir(), 'bodycam-no-such-sysfs') }));
    expect(e.code).toBe('HAL_GPIO_UNAVAILABLE');
  });

  it('onoff with a loadable library resolves the chip base from sysfs', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bodycam-sysfs-'));
    try {
      await mkdir(join(root, 'gpiochip571'));
      await writeFile(join(root, 'gpiochip571', 'base'), '571\n');
      await writeFile(join(root, 'gpiochip571', 'ngpio'), '54\n');
      await writeFile(join(root, 'gpiochip571', 'label'), 'pinctrl-rp1\n');
      const loadOnoff = async () => class {} as unknown as OnoffGpioCtor;
      const driver = await createGpioDriver('onoff', { sysfsRoot: root, loadOnoff });
      expect(driver.kind).toBe('onoff');
      expect((driver as unknown as { base: number }).base).toBe(571);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('an unknown kind (bad config reaching here) → HAL_GPIO_UNAVAILABLE', async () => {
    const e = await failure(createGpioDriver('pigpio' as GpioDriverKind));
    expect(e.code).toBe('HAL_GPIO_UNAVAILABLE');
  });
});

describe('board maps', () => {
  it('ships sim, pi4, pi5, cm4 and zero2w', () => {
    expect(knownBoards()).toEqual(['cm4', 'pi4', 'pi5', 'sim', 'zero2w']);
  });

  it.each(['cm4', 'pi4', 'pi5', 'sim', 'zero2w'])('%s loads and names its driver', (name) => {
    const map = loadBoard(name);
    expect(map.board).toBe(name);
    expect(map.gpioDriver).toBe(name === 'pi5' ? 'gpiox' : name === 'sim' ? 'sim' : 'onoff');
    expect(boardInputs(map).map((s) => s.name)).toEqual(['record', 'trigger', 'dock', 'silent']);
    expect(boardOutputs(map).map((s) => s.name)).toEqual(['ledRed', 'ledGreen', 'haptic']);
  });

  it('an unknown board is CONFIG_INVALID listing the known ones', () => {
    expect(() => loadBoard('pi3')).toThrow(/known boards: cm4, pi4, pi5, sim, zero2w/);
    expect(() => loadBoard('../package')).toThrow(expect.toSatisfy((e) => isBodycamError(e, 'CONFIG_INVALID')));
  });
});
