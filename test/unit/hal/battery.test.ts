import { describe, expect, it } from 'vitest';
import { createFuelGauge, SimFuelGauge } from '../../../src/hal/battery/index.ts';
import {
  decode,
  openMaxGauge,
  REG_SOC,
  REG_VCELL,
  REG_VERSION,
  type SmbusWordBus,
  swapWord,
} from '../../../src/hal/battery/max17048.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';

/** An SMBus stand-in holding big-endian register values and answering word reads little-endian, as the wire does. */
function chip(regs: Record<number, number>, address = 0x36): SmbusWordBus & { closed: boolean; reads: number[] } {
  return {
    closed: false,
    reads: [],
    async readWord(addr: number, reg: number) {
      if (addr !== address) throw Object.assign(new Error('Remote I/O error'), { code: 'EREMOTEIO' });
      this.reads.push(reg);
      const v = regs[reg];
      if (v === undefined) throw Object.assign(new Error('EIO'), { code: 'EIO' });
      return swapWord(v);
    },
    async close() {
      this.closed = true;
    },
  };
}

describe('MAX17048/9 registers', () => {
  it.each([
    { word: 0x1234, swapped: 0x3412 },
    { word: 0x00ff, swapped: 0xff00 },
    { word: 0xb8c0, swapped: 0xc0b8 },
  ])('swapWord($word) = $swapped', ({ word, swapped }) => {
    expect(swapWord(word)).toBe(swapped);
    expect(swapWord(swapped)).toBe(word);
  });

  it.each<{ model: 'max17048' | 'max17049'; vcell: number; soc: number; percent: number; volts: number }>([
    // VCELL 78.125 µV/bit: 0xB8C0 = 47296 → 3.695 V; SOC high byte %, low byte 1/256 %.
    { model: 'max17048', vcell: 0xb8c0, soc: 0x3280, percent: 50.5, volts: 3.695 },
    { model: 'max17048', vcell: 0xa8c0, soc: 0x0e00, percent: 14, volts: 3.375 },
    { model: 'max17048', vcell: 0xd200, soc: 0x6400, percent: 100, volts: 4.2 },
    // A gauge overestimating past 100 % (before its first full cycle) is read as 100.
    { model: 'max17048', vcell: 0xd200, soc: 0x6600, percent: 100, volts: 4.2 },
    // The two-cell MAX17049 counts 156.25 µV per bit: the pack's voltage.
    { model: 'max17049', vcell: 0xb8c0, soc: 0x0400, percent: 4, volts: 7.39 },
  ])('$model VCELL $vcell SOC $soc → $percent %, $volts V', ({ model, vcell, soc, percent, volts }) => {
    const r = decode(model, vcell, soc);
    expect(r.percent).toBeCloseTo(percent, 3);
    expect(r.volts).toBeCloseTo(volts, 3);
  });
});

describe('openMaxGauge', () => {
  it('checks VERSION, then reads VCELL and SOC byte-swapped', async () => {
    const bus = chip({ [REG_VERSION]: 0x0012, [REG_VCELL]: 0xb8c0, [REG_SOC]: 0x3280 });
    const g = await openMaxGauge({ model: 'max17048', bus: 1, address: 0x36, openBus: async () => bus });
    expect(await g.read()).toEqual({ percent: 50.5, volts: 3.695 });
    expect(bus.reads).toEqual([REG_VERSION, REG_VCELL, REG_SOC]);
    await g.close();
    expect(bus.closed).toBe(true);
  });

  it.each([
    { name: 'nothing at the address', regs: {}, address: 0x37, want: /does not answer at i2c-1 address 0x36/ },
    { name: 'another chip (VERSION 0x4c00)', regs: { [REG_VERSION]: 0x4c00 }, address: 0x36, want: /not a MAX17048/ },
  ])('$name → HAL_BATTERY_UNAVAILABLE, bus closed', async ({ regs, address, want }) => {
    const bus = chip(regs, address);
    const e = await openMaxGauge({ model: 'max17048', bus: 1, address: 0x36, openBus: async () => bus }).catch(
      (x: unknown) => x,
    );
    expect(isBodycamError(e, 'HAL_BATTERY_UNAVAILABLE')).toBe(true);
    expect(String(e)).toMatch(want);
    expect(bus.closed).toBe(true);
  });

  it('no bus (I2C off, not in the i2c group) → HAL_BATTERY_UNAVAILABLE with the fix', async () => {
    const e = await openMaxGauge({
      model: 'max17048',
      bus: 7,
      address: 0x36,
      openBus: async () => {
        throw Object.assign(new Error('ENOENT: /dev/i2c-7'), { code: 'ENOENT' });
      },
    }).catch((x: unknown) => x);
    expect(isBodycamError(e, 'HAL_BATTERY_UNAVAILABLE')).toBe(true);
    expect(String(e)).toMatch(/i2c_arm=on.*i2c group/);
  });

  it('a failed read later is HAL_BATTERY_READ naming the register', async () => {
    const regs: Record<number, number> = { [REG_VERSION]: 0x0011, [REG_VCELL]: 0xb8c0, [REG_SOC]: 0x3280 };
    const g = await openMaxGauge({ model: 'max17048', bus: 1, address: 0x36, openBus: async () => chip(regs) });
    delete regs[REG_SOC];
    await expect(g.read()).rejects.toSatisfy((e) => isBodycamError(e, 'HAL_BATTERY_READ') && /0x4/.test(String(e)));
  });
});

describe('createFuelGauge', () => {
  it('none → null; sim → a settable gauge', async () => {
    expect(await createFuelGauge({ gauge: 'none', bus: 1, address: 0x36 })).toBeNull();
    const sim = await createFuelGauge({ gauge: 'sim', bus: 1, address: 0x36 });
    expect(sim).toBeInstanceOf(SimFuelGauge);
    (sim as SimFuelGauge).set({ percent: 14, volts: 3.6 });
    expect(await sim?.read()).toEqual({ percent: 14, volts: 3.6 });
    (sim as SimFuelGauge).fail(true);
    await expect(sim?.read()).rejects.toSatisfy((e) => isBodycamError(e, 'HAL_BATTERY_READ'));
  });
});
