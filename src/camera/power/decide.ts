/**
 * What the camera does about its battery, as a pure function of the last decision and a new reading, so every case
 * is a row of a table test. Low charge warns the officer (once per fall below the threshold; a charge back above it
 * by the hysteresis clears it). Critical charge (or the cell's cutoff voltage) closes any recording and shuts down
 * before the power goes; it must hold for `confirmReadings` readings in a row, so one bad transfer or a voltage dip
 * under load never stops a recording early. Above critical a recording is never stopped. Critical latches: the
 * shutdown is asked for once.
 */

import type { BatteryLevel } from '../events.ts';

export interface PowerThresholds {
  lowPercent: number;
  criticalPercent: number;
  /** Pack voltage at or under which the battery is critical whatever the gauge's percentage says. */
  cutoffVolts: number;
  /** Percentage points above `lowPercent` a charge must reach to clear the low warning. */
  hysteresisPercent: number;
  /** Critical readings in a row before acting (≥ 1). */
  confirmReadings: number;
}

export interface PowerMemory {
  level: BatteryLevel;
  /** Critical readings in a row so far. */
  criticalRun: number;
}

export type PowerStep = 'warn-low' | 'clear-low' | 'close-recording' | 'shutdown';

export interface PowerDecision {
  memory: PowerMemory;
  steps: PowerStep[];
  /** Why it is critical, when it is: `charge` (percentage) or `voltage` (the cutoff). */
  cause: 'charge' | 'voltage' | null;
}

export const INITIAL_POWER: PowerMemory = { level: 'ok', criticalRun: 0 };

/** `reading` null: the gauge could not be read; nothing changes (never a shutdown on a missing reading). */
export function decidePower(
  memory: PowerMemory,
  reading: { percent: number; volts: number } | null,
  recording: boolean,
  t: PowerThresholds,
): PowerDecision {
  if (reading === null || memory.level === 'critical') return { memory, steps: [], cause: null };
  const byCharge = reading.percent <= t.criticalPercent;
  const byVoltage = reading.volts <= t.cutoffVolts;
  const criticalRun = byCharge || byVoltage ? memory.criticalRun + 1 : 0;
  if (criticalRun >= Math.max(1, t.confirmReadings)) {
    return {
      memory: { level: 'critical', criticalRun },
      steps: recording ? ['close-recording', 'shutdown'] : ['shutdown'],
      cause: byCharge ? 'charge' : 'voltage',
    };
  }
  if (memory.level === 'ok' && reading.percent <= t.lowPercent) {
    return { memory: { level: 'low', criticalRun }, steps: ['warn-low'], cause: null };
  }
  if (memory.level === 'low' && reading.percent >= t.lowPercent + t.hysteresisPercent && criticalRun === 0) {
    return { memory: { level: 'ok', criticalRun }, steps: ['clear-low'], cause: null };
  }
  return { memory: { level: memory.level, criticalRun }, steps: [], cause: null };
}
