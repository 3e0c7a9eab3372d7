import { describe, expect, it } from 'vitest';
import {
  decidePower,
  INITIAL_POWER,
  type PowerMemory,
  type PowerStep,
  type PowerThresholds,
} from '../../../../src/camera/power/decide.ts';

const T: PowerThresholds = {
  lowPercent: 15,
  criticalPercent: 5,
  cutoffVolts: 3.3,
  hysteresisPercent: 3,
  confirmReadings: 2,
};
const ok: PowerMemory = INITIAL_POWER;
const low: PowerMemory = { level: 'low', criticalRun: 0 };
const lowOneCritical: PowerMemory = { level: 'low', criticalRun: 1 };
const critical: PowerMemory = { level: 'critical', criticalRun: 2 };

describe('decidePower', () => {
  it.each<{
    name: string;
    from: PowerMemory;
    percent: number | null;
    volts?: number;
    recording: boolean;
    level: PowerMemory['level'];
    steps: PowerStep[];
    cause?: 'charge' | 'voltage' | null;
  }>([
    { name: 'full battery: nothing', from: ok, percent: 80, recording: false, level: 'ok', steps: [] },
    {
      name: '15 %: low, the officer is warned',
      from: ok,
      percent: 15,
      recording: false,
      level: 'low',
      steps: ['warn-low'],
    },
    {
      name: 'low while recording: warned, recording goes on',
      from: ok,
      percent: 14,
      recording: true,
      level: 'low',
      steps: ['warn-low'],
    },
    { name: 'still low: warned once only', from: low, percent: 12, recording: false, level: 'low', steps: [] },
    {
      name: 'charging, inside the hysteresis: still low',
      from: low,
      percent: 17,
      recording: false,
      level: 'low',
      steps: [],
    },
    {
      name: 'charged past the hysteresis: cleared',
      from: low,
      percent: 18,
      recording: false,
      level: 'ok',
      steps: ['clear-low'],
    },
    {
      name: 'first critical reading: not yet (one bad reading stops nothing)',
      from: low,
      percent: 4,
      recording: true,
      level: 'low',
      steps: [],
    },
    {
      name: 'second critical reading while recording: close, then power off',
      from: lowOneCritical,
      percent: 4,
      recording: true,
      level: 'critical',
      steps: ['close-recording', 'shutdown'],
      cause: 'charge',
    },
    {
      name: 'second critical reading on standby: power off',
      from: lowOneCritical,
      percent: 5,
      recording: false,
      level: 'critical',
      steps: ['shutdown'],
      cause: 'charge',
    },
    {
      name: 'cutoff voltage with a gauge still saying 40 %: critical (after confirmation)',
      from: { level: 'ok', criticalRun: 1 },
      percent: 40,
      volts: 3.25,
      recording: true,
      level: 'critical',
      steps: ['close-recording', 'shutdown'],
      cause: 'voltage',
    },
    {
      name: 'a critical reading then a good one: the run starts again',
      from: lowOneCritical,
      percent: 6,
      recording: true,
      level: 'low',
      steps: [],
    },
    {
      name: '6 % while recording: above critical, never stopped',
      from: low,
      percent: 6,
      volts: 3.4,
      recording: true,
      level: 'low',
      steps: [],
    },
    {
      name: 'an unreadable gauge changes nothing',
      from: lowOneCritical,
      percent: null,
      recording: true,
      level: 'low',
      steps: [],
    },
    {
      name: 'critical latches: no second shutdown',
      from: critical,
      percent: 3,
      recording: true,
      level: 'critical',
      steps: [],
    },
    {
      name: 'critical latches even if the charge reads higher',
      from: critical,
      percent: 50,
      recording: false,
      level: 'critical',
      steps: [],
    },
    {
      name: 'straight from ok to critical (two readings): low is skipped',
      from: { level: 'ok', criticalRun: 1 },
      percent: 2,
      recording: false,
      level: 'critical',
      steps: ['shutdown'],
      cause: 'charge',
    },
  ])('$name', ({ from, percent, volts, recording, level, steps, cause }) => {
    const reading = percent === null ? null : { percent, volts: volts ?? 3.7 };
    const d = decidePower(from, reading, recording, T);
    expect(d.memory.level).toBe(level);
    expect(d.steps).toEqual(steps);
    if (cause !== undefined) expect(d.cause).toBe(cause);
  });

  it('confirmReadings 1 acts on the first critical reading', () => {
    expect(decidePower(ok, { percent: 4, volts: 3.6 }, true, { ...T, confirmReadings: 1 }).steps).toEqual([
      'close-recording',
      'shutdown',
    ]);
  });

  it('the 50 % → 14 % → 4 % walk of the lab test: low once, then one power-off after two critical readings', () => {
    let m = INITIAL_POWER;
    const steps: PowerStep[] = [];
    for (const percent of [50, 50, 14, 14, 4, 4, 4]) {
      const d = decidePower(m, { percent, volts: 3.5 }, true, T);
      m = d.memory;
      steps.push(...d.steps);
    }
    expect(steps).toEqual(['warn-low', 'close-recording', 'shutdown']);
  });
});
