/** The sim GPIO driver on the fake clock: injected edges, timed presses, outputs and their observers. */
import { describe, expect, it } from 'vitest';
import { Debouncer } from '../../../src/camera/inputs/debounce.ts';
import { type Pattern, PressPatternDetector } from '../../../src/camera/inputs/patterns.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { SimGpio } from '../../../src/hal/gpio/sim.ts';
import { BodycamError, isBodycamError } from '../../../src/lib/errors.ts';

const record = { name: 'record', pin: 5, activeLow: true, pull: 'up' as const };
const ledRed = { name: 'ledRed', pin: 23, activeLow: false };

/** Open `record` and log its raw edges as [active, ms on the clock]. */
async function recordEdges(sim: SimGpio): Promise<[boolean, number][]> {
  const edges: [boolean, number][] = [];
  await sim.openInput(record, (active, at) => edges.push([active, at]));
  return edges;
}

describe('SimGpio', () => {
  it('set injects a raw edge through the input handler', async () => {
    const clock = new FakeClock();
    const sim = new SimGpio({ clock });
    const edges = await recordEdges(sim);
    sim.set('record', true);
    await clock.advance(40);
    sim.set('record', false);
    expect(edges).toEqual([
      [true, 0],
      [false, 40],
    ]);
    expect(sim.inputState('record')).toBe(false);
  });

  it('an unknown input is HAL_GPIO_LINE naming the known lines', async () => {
    const clock = new FakeClock();
    const sim = new SimGpio({ clock });
    await recordEdges(sim);
    let err: unknown;
    try {
      sim.set('recrod', true);
    } catch (e) {
      err = e;
    }
    expect(isBodycamError(err, 'HAL_GPIO_LINE')).toBe(true);
    expect((err as BodycamError).message).toContain('known: record');
    await expect(sim.press('nope')).rejects.toBeInstanceOf(BodycamError);
  });

  it.each([
    {
      name: 'one press',
      opts: {},
      want: [
        [true, 0],
        [false, 120],
      ],
    },
    {
      name: 'double',
      opts: { count: 2 },
      want: [
        [true, 0],
        [false, 120],
        [true, 270],
        [false, 390],
      ],
    },
    {
      name: 'custom gap',
      opts: { count: 2, gapMs: 400 },
      want: [
        [true, 0],
        [false, 120],
        [true, 520],
        [false, 640],
      ],
    },
    {
      name: 'hold',
      opts: { holdMs: 3500 },
      want: [
        [true, 0],
        [false, 3500],
      ],
    },
    {
      name: 'press then hold',
      opts: { count: 2, holdMs: 3500 },
      want: [
        [true, 0],
        [false, 120],
        [true, 270],
        [false, 3770],
      ],
    },
  ])('press plays a timed sequence: $name', async ({ opts, want }) => {
    const clock = new FakeClock();
    const sim = new SimGpio({ clock });
    const edges = await recordEdges(sim);
    const done = sim.press('record', opts);
    await clock.advance(10_000);
    expect(clock.pending).toBe(0);
    await done;
    expect(edges).toEqual(want);
  });

  it('outputs start inactive, report their state and notify observers', async () => {
    const clock = new FakeClock();
    const sim = new SimGpio({ clock });
    const seen: [string, boolean][] = [];
    const off = sim.onOutput((name, active) => seen.push([name, active]));
    const setRed = await sim.openOutput(ledRed);
    expect(sim.outputState('ledRed')).toBe(false);
    expect(sim.outputState('ledBlue')).toBeUndefined();
    setRed(true);
    expect(sim.outputState('ledRed')).toBe(true);
    off();
    setRed(false);
    expect(seen).toEqual([['ledRed', true]]);
  });

  it('rejects a second line on the same pin or name', async () => {
    const clock = new FakeClock();
    const sim = new SimGpio({ clock });
    await sim.openInput(record, () => {});
    await expect(sim.openOutput({ ...ledRed, pin: 5 })).rejects.toSatisfy((e) => isBodycamError(e, 'HAL_GPIO_LINE'));
    await expect(sim.openOutput({ ...ledRed, name: 'record' })).rejects.toSatisfy((e) =>
      isBodycamError(e, 'HAL_GPIO_LINE'),
    );
  });

  it('close ends a press in progress and releases every line', async () => {
    const clock = new FakeClock();
    const sim = new SimGpio({ clock });
    const edges = await recordEdges(sim);
    const setRed = await sim.openOutput(ledRed);
    const done = sim.press('record', { holdMs: 10_000 });
    await sim.close();
    await done;
    expect(edges).toEqual([[true, 0]]);
    expect(clock.pending).toBe(0);
    setRed(true);
    expect(sim.outputState('ledRed')).toBeUndefined();
  });

  it.each([
    { opts: { count: 1 }, want: ['single'] },
    { opts: { count: 2 }, want: ['double'] },
    { opts: { count: 1, holdMs: 3500 }, want: ['hold'] },
  ])('scenario: press $opts through debounce and patterns → $want', async ({ opts, want }) => {
    const clock = new FakeClock();
    const sim = new SimGpio({ clock });
    const fired: Pattern[] = [];
    const detector = new PressPatternDetector({ clock, onPattern: (e) => fired.push(e.pattern) });
    const debouncer = new Debouncer({ clock, onStable: (active, at) => detector.edge(active, at) });
    await sim.openInput(record, (active, at) => debouncer.input(active, at));
    const done = sim.press('record', opts);
    await clock.advance(5000);
    await done;
    expect(fired).toEqual(want);
  });
});
