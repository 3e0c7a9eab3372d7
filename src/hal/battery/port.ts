/**
 * The fuel-gauge port: the battery's state of charge and voltage. Drivers: `max17048` / `max17049` (the Maxim
 * ModelGauge chips on common Pi battery boards, over I2C), `sim` (tests, the demo), `none` (mains power, no gauge).
 */

export interface BatteryReading {
  /** State of charge, 0–100 % (the gauge's own estimate). */
  percent: number;
  /** Battery voltage, volts (the whole pack: a MAX17049 measures two cells in series). */
  volts: number;
}

export type FuelGaugeKind = 'none' | 'sim' | 'max17048' | 'max17049';

export interface FuelGauge {
  readonly kind: FuelGaugeKind;
  /** One reading; a failed bus transfer is HAL_BATTERY_READ (the caller keeps its last reading). */
  read(): Promise<BatteryReading>;
  close(): Promise<void>;
}
