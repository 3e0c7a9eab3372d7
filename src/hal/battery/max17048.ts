/**
 * MAX17048 / MAX17049 fuel gauges over I2C (SMBus word reads through `i2c-bus`, its native addon loaded lazily).
 * Registers are 16-bit big-endian, SMBus words little-endian: every word is byte-swapped. VCELL (0x02) is
 * 78.125 µV per bit on the MAX17048 and 156.25 µV on the two-cell MAX17049; SOC (0x04) is 1/256 % per bit; VERSION
 * (0x08) reads 0x001_ on both, which is how a wrong address or another chip is caught at start.
 */
import { BodycamError, ErrorCode, errnoCode } from '../../lib/errors.ts';
import type { BatteryReading, FuelGauge } from './port.ts';

export const REG_VCELL = 0x02;
export const REG_SOC = 0x04;
export const REG_VERSION = 0x08;

/** The subset of i2c-bus's promisified bus we use; declared here so tests can hand in a stand-in. */
export interface SmbusWordBus {
  readWord(address: number, command: number): Promise<number>;
  close(): Promise<void>;
}
export type OpenBus = (bus: number) => Promise<SmbusWordBus>;

export type MaxModel = 'max17048' | 'max17049';

/** An SMBus word (low byte first on the wire) as the chip's big-endian register value. */
export const swapWord = (w: number): number => ((w & 0xff) << 8) | ((w >> 8) & 0xff);

/** Register values → a reading (pure: tested as a table against the datasheet's examples). */
export function decode(model: MaxModel, vcell: number, soc: number): BatteryReading {
  const microvoltsPerBit = model === 'max17049' ? 156.25 : 78.125;
  return { percent: Math.min(100, soc / 256), volts: (vcell * microvoltsPerBit) / 1e6 };
}

export interface MaxGaugeOptions {
  model: MaxModel;
  bus: number;
  address: number;
  /** Default: i2c-bus's `openPromisified`. */
  openBus?: OpenBus;
}

async function importI2c(): Promise<OpenBus> {
  const { openPromisified } = await import('i2c-bus');
  return (bus) => openPromisified(bus);
}

export class MaxFuelGauge implements FuelGauge {
  readonly kind: MaxModel;
  readonly #bus: SmbusWordBus;
  readonly #o: MaxGaugeOptions;

  constructor(bus: SmbusWordBus, o: MaxGaugeOptions) {
    this.#bus = bus;
    this.#o = o;
    this.kind = o.model;
  }

  async read(): Promise<BatteryReading> {
    const vcell = await this.#word(REG_VCELL);
    const soc = await this.#word(REG_SOC);
    return decode(this.#o.model, vcell, soc);
  }

  async close(): Promise<void> {
    await this.#bus.close();
  }

  async #word(reg: number): Promise<number> {
    try {
      return swapWord(await this.#bus.readWord(this.#o.address, reg));
    } catch (e) {
      throw new BodycamError(
        ErrorCode.HAL_BATTERY_READ,
        `reading register 0x${reg.toString(16)} of the ${this.#o.model} at 0x${this.#o.address.toString(16)} on i2c-${this.#o.bus} failed: ${errnoCode(e) ?? String(e)}`,
        { bus: this.#o.bus, address: this.#o.address },
        { cause: e },
      );
    }
  }
}

/** Opens the bus and checks the chip answers as a MAX1704x (VERSION 0x001_); else HAL_BATTERY_UNAVAILABLE. */
export async function openMaxGauge(o: MaxGaugeOptions): Promise<MaxFuelGauge> {
  const where = `i2c-${o.bus} address 0x${o.address.toString(16)}`;
  let bus: SmbusWordBus;
  try {
    bus = await (o.openBus ?? (await importI2c()))(o.bus);
  } catch (e) {
    throw new BodycamError(
      ErrorCode.HAL_BATTERY_UNAVAILABLE,
      `no I2C bus for the ${o.model} (${where}): ${errnoCode(e) ?? String(e)}; enable I2C (dtparam=i2c_arm=on), run as a member of the i2c group, or set battery.gauge to none`,
      { bus: o.bus },
      { cause: e },
    );
  }
  let version: number;
  try {
    version = swapWord(await bus.readWord(o.address, REG_VERSION));
  } catch (e) {
    await bus.close().catch(() => undefined);
    throw new BodycamError(
      ErrorCode.HAL_BATTERY_UNAVAILABLE,
      `the ${o.model} does not answer at ${where} (${errnoCode(e) ?? String(e)}): check battery.bus and battery.address`,
      { bus: o.bus, address: o.address },
      { cause: e },
    );
  }
  if ((version & 0xfff0) !== 0x0010) {
    await bus.close().catch(() => undefined);
    throw new BodycamError(
      ErrorCode.HAL_BATTERY_UNAVAILABLE,
      `the chip at ${where} is not a MAX17048/MAX17049 (VERSION 0x${version.toString(16)}, expected 0x001x)`,
      { bus: o.bus, address: o.address, version },
    );
  }
  return new MaxFuelGauge(bus, o);
}
