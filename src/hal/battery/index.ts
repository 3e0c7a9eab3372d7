import { type OpenBus, openMaxGauge } from './max17048.ts';
import type { FuelGauge, FuelGaugeKind } from './port.ts';
import { SimFuelGauge } from './sim.ts';

export interface FuelGaugeConfig {
  gauge: FuelGaugeKind;
  bus: number;
  address: number;
}

/** The one place that picks a fuel-gauge driver (null for `none`: the camera runs from mains or a dumb battery). */
export async function createFuelGauge(c: FuelGaugeConfig, opts: { openBus?: OpenBus } = {}): Promise<FuelGauge | null> {
  switch (c.gauge) {
    case 'none':
      return null;
    case 'sim':
      return new SimFuelGauge();
    case 'max17048':
    case 'max17049':
      return openMaxGauge({
        model: c.gauge,
        bus: c.bus,
        address: c.address,
        ...(opts.openBus === undefined ? {} : { openBus: opts.openBus }),
      });
  }
}

export type { BatteryReading, FuelGauge, FuelGaugeKind } from './port.ts';
export { SimFuelGauge } from './sim.ts';
