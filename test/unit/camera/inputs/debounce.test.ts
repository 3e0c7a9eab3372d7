/** The debouncer as a table of raw edges and accepted levels, on the fake clock. */
import { describe, expect, it } from 'vitest';
import { Debouncer } from '../../../../src/camera/inputs/debounce.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';
import { isBodycamError } from '../../../../src/lib/errors.ts';

type Edge = [atMs: number, active: boolean];
type Seen = [active: boolean, atMs: number, seenAtMs: number];

/** Play raw edges at their times on the fake clock; collect accepted levels with the time they were seen. */
async function run(edges: Edge[], opts: { debounceMs?: number; initial?: boolean } = {}, untilMs = 2000) {
  const clock = new FakeClock();
  const seen: Seen[] = [];
  const d = new Debouncer({ ...opts, clock, onStable: (active, at) => seen.push([active, at, clock.now()]) });
  for (const [at, active] of edges) clock.setTimeout(() => d.input(active), at);
  await clock.advance(untilMs);
  return seen;
}

describe('Debouncer', () => {
  const cases: { name: string; edges: Edge[]; debounceMs?: number; initial?: boolean; want: Seen[] }[] = [
    {
      name: 'clean press and release',
      edges: [
        [0, true],
        [200, false],
      ],
      want: [
        [true, 0, 30],
        [false, 200, 230],
      ],
    },
    {
      name: 'contact bounce on press: the last edge starts the stable level',
      edges: [
        [0, true],
        [5, false],
        [9, true],
        [300, false],
      ],
      want: [
        [true, 9, 39],
        [false, 300, 330],
      ],
    },
    {
      name: 'bounce on release',
      edges: [
        [0, true],
        [100, false],
        [103, true],
        [106, false],
      ],
      want: [
        [true, 0, 30],
        [false, 106, 136],
      ],
    },
    {
      name: 'glitch shorter than debounce is dropped',
      edges: [
        [0, true],
        [20, false],
      ],
      want: [],
    },
    {
      name: 'glitch of 29 ms is dropped',
      edges: [
        [0, true],
        [29, false],
      ],
      want: [],
    },
    {
      name: 'level held 31 ms is accepted',
      edges: [
        [0, true],
        [31, false],
      ],
      want: [
        [true, 0, 30],
        [false, 31, 61],
      ],
    },
    {
      name: 'a repeated raw level does not restart the quiet period',
      edges: [
        [0, true],
        [20, true],
        [100, false],
      ],
      want: [
        [true, 0, 30],
        [false, 100, 130],
      ],
    },
    {
      name: 'longer debounce drops a 40 ms glitch',
      edges: [
        [0, true],
        [40, false],
      ],
      debounceMs: 50,
      want: [],
    },
    {
      name: 'debounce 0 passes every change at once',
      edges: [
        [0, true],
        [1, false],
      ],
      debounceMs: 0,
      want: [
        [true, 0, 0],
        [false, 1, 1],
      ],
    },
    {
      name: 'initial level active: a release is the first change',
      edges: [[10, false]],
      initial: true,
      want: [[false, 10, 40]],
    },
    { name: 'an edge to the current level is not an event', edges: [[10, false]], want: [] },
  ];

  it.each(cases)('$name', async ({ edges, debounceMs, initial, want }) => {
    const opts = { ...(debounceMs === undefined ? {} : { debounceMs }), ...(initial === undefined ? {} : { initial }) };
    expect(await run(edges, opts)).toEqual(want);
  });

  it('dispose drops a level still waiting', async () => {
    const clock = new FakeClock();
    const seen: boolean[] = [];
    const d = new Debouncer({ clock, onStable: (a) => seen.push(a) });
    d.input(true);
    d.dispose();
    await clock.advance(100);
    expect(clock.pending).toBe(0);
    expect(seen).toEqual([]);
    expect(d.level).toBe(false);
  });

  it('rejects a negative debounce as CONFIG_INVALID', () => {
    expect(() => new Debouncer({ debounceMs: -1, clock: new FakeClock(), onStable: () => {} })).toThrow(
      expect.toSatisfy((e) => isBodycamError(e, 'CONFIG_INVALID')),
    );
  });
});
