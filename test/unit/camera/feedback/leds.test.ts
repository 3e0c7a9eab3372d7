import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Indication, type LedPattern, ledPattern, StatusLeds } from '../../../../src/camera/feedback/leds.ts';
import { realClock } from '../../../../src/hal/clock/real.ts';

describe('LED patterns', () => {
  it.each<[Indication, LedPattern]>([
    ['standby', { red: 'off', green: 'on' }],
    ['recording', { red: 'on', green: 'off' }],
    ['fault', { red: 'blink', green: 'off' }],
  ])('%s → %j', (indication, pattern) => {
    expect(ledPattern(indication)).toEqual(pattern);
  });
});

describe('StatusLeds', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('drives both lines and blinks a fault until told otherwise', () => {
    vi.useFakeTimers();
    const red: boolean[] = [];
    const green: boolean[] = [];
    const leds = new StatusLeds({
      red: (on) => red.push(on),
      green: (on) => green.push(on),
      clock: realClock,
      blinkMs: 100,
    });
    leds.show('standby');
    expect([red.at(-1), green.at(-1)]).toEqual([false, true]);
    leds.show('recording');
    expect([red.at(-1), green.at(-1)]).toEqual([true, false]);
    leds.show('fault');
    vi.advanceTimersByTime(350);
    expect(red.slice(-4)).toEqual([true, false, true, false]);
    leds.show('standby');
    const count = red.length;
    vi.advanceTimersByTime(1000);
    expect(red.length).toBe(count);
    leds.stop();
    expect([red.at(-1), green.at(-1)]).toEqual([false, false]);
  });
});
