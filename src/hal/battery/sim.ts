import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { BatteryReading, FuelGauge } from './port.ts';

/** A gauge whose charge and voltage the test (or the demo, or `bodycam ctl`) sets; `fail` makes reads fail. */
export class SimFuelGauge implements FuelGauge {
  readonly kind = 'sim';
  #reading: BatteryReading;
  #failing = false;

  constructor(initial: BatteryReading = { percent: 80, volts: 3.9 }) {
    this.#reading = { ...initial };
  }

  set(reading: BatteryReading): void {
    this.#reading = { ...reading };
  }

  fail(failing: boolean): void {
    this.#failing = failing;
  }

  async read(): Promise<BatteryReading> {
    if (this.#failing) throw new BodycamError(ErrorCode.HAL_BATTERY_READ, 'simulated gauge read failure');
    return { ...this.#reading };
  }

  async close(): Promise<void> {}
}
